"""Value normalizers: exact results for the forms shops write, exact Korean reasons for rejects."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallretail_llm.core import dates
from smallretail_llm.core import normalize as nz
from smallretail_llm.core.normalize import NormalizeError
from smallretail_llm.core.record import ALLERGENS, DateFact, NetContent


# ---------------------------------------------------------------- price
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,900원", 12900), ("₩12900", 12900), ("￦12,900", 12900),
        ("12900.0", 12900), ("12,900", 12900),
        ("1만2900원", 12900), ("1만 2,900원", 12900), ("15000 원", 15000), (" 9,900 ", 9900),
        ("KRW 5000", 5000), ("１２,９００원", 12900), ("3만원", 30000), ("1.5만원", 15000), ("오천원", 5000),
        ("0", 0), ("0원", 0), (12900, 12900), (12900.0, 12900), ("1,234,567", 1234567),
    ],
)
def test_price_accepts(text, expected):
    assert nz.parse_price_krw(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("가격문의", "가격을 숫자로 읽을 수 없습니다: '가격문의'"),
        ("무료", "가격을 숫자로 읽을 수 없습니다: '무료' (무료라면 0으로 적어 주세요)"),
        ("-1000", "가격은 음수일 수 없습니다: '-1000'"),
        ("-1,000원", "가격은 음수일 수 없습니다: '-1,000원'"),
        ("12.5", "가격에 1원 미만의 소수가 있습니다: '12.5'"),
        ("", "가격이 비어 있습니다"),
        ("  ", "가격이 비어 있습니다"),
        (None, "가격이 비어 있습니다"),
        ("원", "가격이 비어 있습니다"),
        ("12,90", "가격을 숫자로 읽을 수 없습니다: '12,90'"),
        ("12900원 (할인가)", "가격을 숫자로 읽을 수 없습니다: '12900원 (할인가)'"),
        ("1.2.3", "가격을 숫자로 읽을 수 없습니다: '1.2.3'"),
    ],
)
def test_price_rejects(text, message):
    with pytest.raises(NormalizeError) as info:
        nz.parse_price_krw(text)
    assert str(info.value) == message


# ---------------------------------------------------------------- integers (stock)
@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,200", 1200), ("12개", 12), (" 5 ", 5), ("0", 0), ("12.0", 12), ("30 EA", 30), (7, 7)],
)
def test_int_accepts(text, expected):
    assert nz.parse_int(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-3", "수량은 음수일 수 없습니다: '-3'"),
        ("abc", "수량을 정수로 읽을 수 없습니다: 'abc'"),
        ("많음", "수량을 정수로 읽을 수 없습니다: '많음'"),
        ("12.5", "수량은 정수여야 합니다: '12.5'"),
        ("", "수량이 비어 있습니다"),
        ("1,20", "수량을 정수로 읽을 수 없습니다: '1,20'"),
    ],
)
def test_int_rejects(text, message):
    with pytest.raises(NormalizeError) as info:
        nz.parse_int(text)
    assert str(info.value) == message


# ---------------------------------------------------------------- net content
@pytest.mark.parametrize(
    ("text", "value", "unit", "count"),
    [
        ("1.5L", 1500.0, "mL", 1), ("1.5ℓ", 1500.0, "mL", 1), ("500 ml", 500.0, "mL", 1),
        ("500ML", 500.0, "mL", 1), ("500㎖", 500.0, "mL", 1), ("355cc", 355.0, "mL", 1),
        ("1,000g", 1000.0, "g", 1), ("2kg", 2000.0, "g", 1),
        ("2KG", 2000.0, "g", 1), ("500mg", 0.5, "g", 1),
        ("30매", 30.0, "매", 1), ("20장", 20.0, "매", 1), ("10개입", 10.0, "개", 1), ("60정", 60.0, "개", 1),
        ("30포", 30.0, "개", 1), ("500g x 2개", 500.0, "g", 2), ("500g*2", 500.0, "g", 2),
        ("500g×2입", 500.0, "g", 2), ("500gx2", 500.0, "g", 2), ("500g X 3", 500.0, "g", 3),
        ("250mL 2병", 250.0, "mL", 2), ("10개입 x 3팩", 10.0, "개", 3), ("오백 그램", 500.0, "g", 1),
        ("2리터", 2000.0, "mL", 1), ("0.3L", 300.0, "mL", 1),
    ],
)
def test_net_content_accepts(text, value, unit, count):
    assert nz.parse_net_content(text) == NetContent(value=value, unit=unit, count=count)


def test_net_content_litre_equals_millilitre():
    assert nz.parse_net_content("1.5L") == nz.parse_net_content("1,500mL")


_UNITS = "g, kg, mg, mL, L, cc, 개, 개입, 입, 매, 장, 포, 정, 병"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("많이", "용량을 읽을 수 없습니다: '많이' (예: 500g, 1.5L, 30매, 500g x 2개)"),
        ("0g", "용량은 0보다 커야 합니다: '0g'"),
        ("5oz", f"알 수 없는 단위입니다: 'oz' ('5oz', 쓸 수 있는 단위: {_UNITS})"),
        ("12개월", f"알 수 없는 단위입니다: '개월' ('12개월', 쓸 수 있는 단위: {_UNITS})"),
        ("500", "용량에 단위가 없습니다: '500' (예: 500g)"),
        ("500g x 0", "묶음 수는 1 이상이어야 합니다: '500g x 0'"),
        ("500g 2", "용량을 읽을 수 없습니다: '500g 2' (예: 500g, 1.5L, 30매, 500g x 2개)"),
        ("", "용량이 비어 있습니다"),
    ],
)
def test_net_content_rejects(text, message):
    with pytest.raises(NormalizeError) as info:
        nz.parse_net_content(text)
    assert str(info.value) == message


# ---------------------------------------------------------------- quantities and Korean numbers
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5L", (1500.0, "mL")), ("오백 그램", (500.0, "g")),
        ("오백그램", (500.0, "g")), ("30매", (30.0, "매")),
        ("2개입", (2.0, "개")), ("2 킬로", (2000.0, "g")),
        ("1킬로그램", (1000.0, "g")), ("삼 리터", (3000.0, "mL")),
        ("500밀리리터", (500.0, "mL")), ("오백 미리", (500.0, "mL")), ("355씨씨", (355.0, "mL")),
        ("천 장", (1000.0, "매")), ("삼천장", (3000.0, "매")),
        ("1포", (1.0, "개")), ("3만 개", (30000.0, "개")),
        ("1천5백그램", (1500.0, "g")), ("이 제품은 500g입니다", (500.0, "g")), ("1일 2포 드세요", (2.0, "개")),
        ("500g x 2개", (500.0, "g")), ("１.５Ｌ", (1500.0, "mL")),
        # no quantity: words that only look like number+unit, numbers without a unit
        ("", None), ("맛있는 사과", None), ("사장님 추천", None), ("구매 시 증정", None), ("12개월 보관", None),
        ("10정도", None), ("3만원", None), ("오백", None),
        ("5 Light", None), ("2026년", None), ("천장 높이", None),
    ],
)
def test_parse_quantity(text, expected):
    assert nz.parse_quantity(text) == expected


def test_find_quantities_spans_index_the_original_text():
    text = "오백 그램짜리 2개입, 1.5L"
    found = nz.find_quantities(text)
    assert [(text[q.start : q.end], q.value, q.unit) for q in found] == [
        ("오백 그램", 500.0, "g"), ("2개입", 2.0, "개"), ("1.5L", 1500.0, "mL"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("오백", 500), ("천오백", 1500), ("3만", 30000),
        ("1천5백", 1500), ("1만2900", 12900), ("일만 이천구백", 12900),
        ("이천이십육", 2026), ("십", 10), ("만", 10000), ("12,900", 12900), ("0", 0), ("1.5만", 15000),
        ("2억3천만", 230_000_000), ("육", 6), ("륙", 6),
        ("", None), ("abc", None), ("1.5", None), ("오백원", None),
        ("백천", None), ("만만", None), ("일이", None),
        ("1,2", None),
    ],
)
def test_parse_korean_number(text, expected):
    assert nz.parse_korean_number(text) == expected


# ---------------------------------------------------------------- GTIN
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8801234567893", "8801234567893"), ("880-1234-56789-3", "8801234567893"),
        (" 880 1234 567893 ", "8801234567893"),
        ("8801234567893.0", "8801234567893"), (8801234567893, "8801234567893"),
        (8801234567893.0, "8801234567893"),
        ("96385074", "96385074"), ("036000291452", "036000291452"),
        ("10012345678902", "10012345678902"),
    ],
)
def test_gtin_accepts(text, expected):
    assert nz.validate_gtin(text) == expected


_SCIENTIFIC = (
    "바코드가 지수 형식('8.80123E+12')으로 저장되어 자릿수가 사라졌습니다. "
    "엑셀에서 바코드 열의 셀 서식을 '텍스트'로 바꾼 뒤 다시 내보내 주세요"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8.80123E+12", _SCIENTIFIC),
        ("12345", "바코드 자릿수가 맞지 않습니다: 5자리 '12345' (8, 12, 13, 14자리여야 합니다)"),
        ("88012345678931", "바코드의 검증 숫자(마지막 자리)가 맞지 않습니다: '88012345678931' (올바른 마지막 자리: 4)"),
        ("8801234567890", "바코드의 검증 숫자(마지막 자리)가 맞지 않습니다: '8801234567890' (올바른 마지막 자리: 3)"),
        ("880123456789A", "바코드에는 숫자만 쓸 수 있습니다: '880123456789A'"),
        ("", "바코드가 비어 있습니다"),
        ("٨٨٠١٢٣٤٥", "바코드에는 숫자만 쓸 수 있습니다: '٨٨٠١٢٣٤٥'"),
    ],
)
def test_gtin_rejects(text, message):
    with pytest.raises(NormalizeError) as info:
        nz.validate_gtin(text)
    assert str(info.value) == message


# ---------------------------------------------------------------- allergens
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("우유, 대두 함유", ["우유", "대두"]), ("난류", ["알류"]), ("계란", ["알류"]), ("달걀", ["알류"]),
        ("가금류", ["알류"]), ("밀·대두·우유 함유", ["우유", "대두", "밀"]),
        ("알레르기 유발물질: 새우, 게", ["게", "새우"]), ("알러지 성분 : 땅콩", ["땅콩"]),
        ("소고기, 쇠고기", ["쇠고기"]), ("돈육", ["돼지고기"]), ("닭, 계육", ["닭고기"]),
        ("굴/전복/홍합/조개", ["조개류"]), ("유제품", ["우유"]), ("아황산염", ["아황산류"]), ("소맥", ["밀"]),
        ("콩", ["대두"]), ("호두 잣 땅콩", ["땅콩", "호두", "잣"]), ("대두함유", ["대두"]),
        ("우유와 계란", ["알류", "우유"]),
        ("알류(가금류), 조개류(굴·전복·홍합 포함)", ["알류", "조개류"]), ("아황산류(10mg/kg 이상)", ["아황산류"]),
        ("복숭아, 토마토 포함", ["복숭아", "토마토"]), ("우유,우유,밀", ["우유", "밀"]),
        ("없음", []), ("해당없음", []), ("해당 없음", []), ("-", []), ("", []), ("알레르기 유발물질: 없음", []),
    ],
)
def test_allergens(text, expected):
    assert nz.parse_allergens(text) == expected


def test_allergen_unknown_word_is_named():
    with pytest.raises(NormalizeError) as info:
        nz.parse_allergens("견과류, 우유, 참깨")
    assert str(info.value) == (
        "알 수 없는 알레르기 항목입니다: '견과류', '참깨' ('견과류, 우유, 참깨', 표시 대상 19종: "
        + ", ".join(ALLERGENS) + ")"
    )


def test_allergen_sentence_words_are_reported_not_dropped():
    with pytest.raises(NormalizeError, match="'들어간'"):
        nz.parse_allergens("우유와 계란이 들어간 제품")


def test_allergen_synonyms_cover_every_canonical_name():
    assert {nz.ALLERGEN_SYNONYMS[name] for name in ALLERGENS} == set(ALLERGENS)
    assert all(name == nz.ALLERGEN_SYNONYMS[name] for name in ALLERGENS)
    assert set(nz.ALLERGEN_SYNONYMS.values()) <= set(ALLERGENS)
    assert nz.ALLERGEN_SYNONYMS["계란"] == "알류" and nz.ALLERGEN_SYNONYMS["홍합"] == "조개류"


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize(
    "text",
    [
        "2026.03.01", "2026-3-1", "2026/03/01", "20260301", "26년 3월 1일", "2026년 3월 1일", "26.3.1",
        "2026. 3. 1.", "2026-03-01 00:00:00", "2026-03-01T00:00:00", "2026.03.01까지",
        dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 9),
    ],
)
def test_date_accepts(text):
    assert dates.parse_date(text) == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "존재하지 않는 날짜입니다: '2026-02-30'"),
        ("2026.13.01", "존재하지 않는 날짜입니다: '2026.13.01'"),
        ("abc", "날짜를 읽을 수 없습니다: 'abc' (예: 2026.03.01)"),
        ("3.1", "날짜를 읽을 수 없습니다: '3.1' (예: 2026.03.01)"),
        ("01.03.2026", "날짜를 읽을 수 없습니다: '01.03.2026' (예: 2026.03.01)"),
        ("0001.01.01", "날짜의 연도가 이상합니다: '0001.01.01'"),
        ("", "날짜가 비어 있습니다"),
    ],
)
def test_date_rejects(text, message):
    with pytest.raises(NormalizeError) as info:
        dates.parse_date(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("2026.03.01", "소비기한", DateFact(label="소비기한", date=dt.date(2026, 3, 1), text="2026.03.01")),
        ("2026.03.01", "유통기한", DateFact(label="유통기한", date=dt.date(2026, 3, 1), text="2026.03.01")),
        ("제조일로부터 12개월", "소비기한", DateFact(label="소비기한", date=None, text="제조일로부터 12개월")),
        ("개봉 후 12개월", "사용기한", DateFact(label="사용기한", date=None, text="개봉 후 12개월")),
        ("제품 뒷면 별도 표기", "소비기한", DateFact(label="소비기한", date=None, text="제품 뒷면 별도 표기")),
        ("소비기한: 2026.03.01", "소비기한",
         DateFact(label="소비기한", date=dt.date(2026, 3, 1), text="소비기한: 2026.03.01")),
        ("유통기한 2026-03-01", "소비기한",
         DateFact(label="유통기한", date=dt.date(2026, 3, 1), text="유통기한 2026-03-01")),
        ("제조일자: 2025.01.02", "소비기한",
         DateFact(label="제조일", date=dt.date(2025, 1, 2), text="제조일자: 2025.01.02")),
        (" 소비기한: 제조일로부터 12개월 ", "유통기한",
         DateFact(label="소비기한", date=None, text="소비기한: 제조일로부터 12개월")),
    ],
)
def test_use_by(text, label, expected):
    assert dates.parse_use_by(text, label) == expected


@pytest.mark.parametrize(
    ("text", "label", "message"),
    [
        ("2026-02-30", "소비기한", "소비기한: 존재하지 않는 날짜입니다: '2026-02-30'"),
        ("abc", "소비기한", "소비기한을 읽을 수 없습니다: 'abc' (예: 2026.03.01, 제조일로부터 12개월)"),
        ("", "유통기한", "유통기한이 비어 있습니다"),
        ("2026.03.01", "보관기한", "알 수 없는 날짜 항목입니다: '보관기한' (소비기한, 유통기한, 사용기한, 제조일)"),
    ],
)
def test_use_by_rejects(text, label, message):
    with pytest.raises(NormalizeError) as info:
        dates.parse_use_by(text, label)
    assert str(info.value) == message


# ---------------------------------------------------------------- properties
_PARSERS = [
    nz.parse_price_krw, nz.parse_net_content, nz.validate_gtin, nz.parse_allergens,
    dates.parse_date, dates.parse_use_by, nz.parse_int, nz.parse_quantity, nz.parse_korean_number,
]
# Characters the parsers care about, so random text reaches past the first check.
_NEAR_MISS = st.text(
    alphabet=st.sampled_from(list("0123456789.,-+xX*×Ee :/ 만천백십일이삼오원₩gkmLl개입매장정포병년월일우유대두없음"))
)
_GTIN_BODY = st.sampled_from([8, 12, 13, 14]).flatmap(
    lambda n: st.text("0123456789", min_size=n - 1, max_size=n - 1)
)


@pytest.mark.parametrize("parser", _PARSERS, ids=lambda f: f.__name__)
@given(text=st.one_of(st.text(), _NEAR_MISS))
def test_parsers_return_or_raise_normalize_error(parser, text):
    try:
        parser(text)
    except NormalizeError:
        pass  # any other exception fails the test


@given(st.integers(min_value=0, max_value=10**15))
def test_price_round_trip(n):
    assert nz.parse_price_krw(format(n, ",") + "원") == n
    assert nz.parse_price_krw(str(n)) == n


@given(st.integers(min_value=0, max_value=10**12))
def test_int_round_trip(n):
    assert nz.parse_int(format(n, ",")) == n


@given(_GTIN_BODY)
def test_gtin_check_digit_validates(body):
    code = body + str(nz.gtin_check_digit(body))
    assert nz.validate_gtin(code) == code


@given(_GTIN_BODY, st.data())
def test_gtin_single_digit_change_fails(body, data):
    code = body + str(nz.gtin_check_digit(body))
    i = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != code[i]]))
    with pytest.raises(NormalizeError, match="검증 숫자"):
        nz.validate_gtin(code[:i] + new + code[i + 1 :])


@given(
    st.integers(min_value=1, max_value=10**6),
    st.sampled_from(["g", "mL", "개", "매"]),
    st.integers(min_value=1, max_value=50),
)
def test_net_content_display_round_trip(value, unit, count):
    content = NetContent(value=value, unit=unit, count=count)
    assert nz.parse_net_content(content.display()) == content

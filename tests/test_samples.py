"""The sample catalog: reproducible from its seed, big and varied enough, and every row a valid
import whose facts agree with each other (allergens vs ingredients, cells only where they apply)."""

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from smallretail_llm.catalog.samples import build
from smallretail_llm.core import dates
from smallretail_llm.core import normalize as nz
from smallretail_llm.core.categories import get_category
from smallretail_llm.core.record import ShopPolicy

SAMPLES = Path(build.__file__).parent
FIXTURES = Path(__file__).parent / "fixtures"
FOODS = {"processed_food", "agri_food", "health_food"}
SHOP_IDS = ["hanbat_food", "sodam_beauty", "maeil_goods"]


def _read(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel writes it
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return [row for shop in SHOP_IDS for row in _read(SAMPLES / f"{shop}.csv")]


def _code(row: dict[str, str]) -> str:
    return get_category(row["카테고리"]).code


def test_build_is_deterministic_and_matches_packaged_files(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    counts = build.build(first)
    assert build.build(second) == counts
    build.build_messy_fixture(first / "fx")
    build.build_messy_fixture(second / "fx")
    names = ["shops.json", *(f"{s}.csv" for s in SHOP_IDS)]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / name).read_bytes() == (SAMPLES / name).read_bytes(), f"{name} is stale: rebuild"
    for name in ("messy_export.csv", "messy_export.expected.json"):
        assert (first / "fx" / name).read_bytes() == (second / "fx" / name).read_bytes()
        assert (first / "fx" / name).read_bytes() == (FIXTURES / name).read_bytes(), f"{name} is stale"
    assert build.build(tmp_path / "c", seed=7) == counts  # another seed: same products, other spellings
    assert (tmp_path / "c" / "hanbat_food.csv").read_bytes() != (first / "hanbat_food.csv").read_bytes()


def test_counts_per_category(rows):
    counts = Counter(_code(row) for row in rows)
    assert set(counts) == {"processed_food", "agri_food", "health_food", "cosmetics", "wear",
                           "kitchenware", "household_chemical", "small_electronics"}
    assert min(counts.values()) >= 25
    assert sum(counts.values()) == len(rows) >= 300
    assert len({(row["상품코드"]) for row in rows}) == len(rows)


def test_shops_json_parses_into_policies():
    policies = [ShopPolicy.model_validate(p) for p in json.loads((SAMPLES / "shops.json").read_text("utf-8"))]
    assert [p.shop_id for p in policies] == SHOP_IDS
    for policy in policies:
        assert re.fullmatch(r"1\d{3}-\d{4}|0\d{1,2}-\d{3,4}-\d{4}", policy.cs_phone)
        assert policy.free_shipping_threshold_krw > policy.shipping_fee_krw > 0
        assert "7일" in policy.return_policy


def test_gtins_are_valid_korean_gtin13_and_unique(rows):
    codes = [row["바코드"] for row in rows if row["바코드"]]
    assert 0.6 * len(rows) < len(codes) < len(rows)  # most have one, fresh produce and gaps do not
    for code in codes:
        assert re.fullmatch(r"880\d{10}", code), code
        total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(code[:-1])))
        assert int(code[-1]) == (10 - total % 10) % 10, code
    assert len(set(codes)) == len(codes)
    assert build.gtin13("880123456789") == "8801234567893"


def test_every_row_is_a_valid_import(rows):
    for row in rows:
        where = row["상품코드"]
        assert row["상품명"] and nz.parse_price_krw(row["판매가"]) > 0, where
        if row.get("용량/중량"):
            nz.parse_net_content(row["용량/중량"])
        if row["바코드"]:
            nz.validate_gtin(row["바코드"])
        if row["재고수량"]:
            assert nz.parse_int(row["재고수량"]) >= 0
        if row.get("소비기한"):
            fact = dates.parse_use_by(row["소비기한"])
            assert fact.date is None or fact.date.year == 2027, where
        nz.parse_allergens(row.get("알레르기", ""))


def test_cells_only_where_the_category_has_the_field(rows):
    notice_headers = [h for h in rows[0] if h not in build.STANDARD]
    for row in rows:
        labels = {f.label for f in get_category(row["카테고리"]).fields}
        filled = {h for h in notice_headers if row.get(h)}
        assert filled <= labels, row["상품코드"]
        if _code(row) not in FOODS:
            assert not row.get("알레르기") and not row.get("소비기한") and not row.get("혼입 가능 알레르기")


def test_deliberate_gaps(rows):
    required_missing = 0
    for row in rows:
        spec = get_category(row["카테고리"])
        covered = {"name": "상품명", "manufacturer": "제조사", "origin": "원산지",
                   "net_content": "용량/중량", "storage": "보관방법", "use_by": "소비기한"}
        missing = [f for f in spec.required_fields
                   if not row.get(f.label) and not row.get(covered.get(f.record_attr, ""), "")]
        required_missing += bool(missing)
    assert 0.03 * len(rows) <= required_missing <= 0.07 * len(rows)
    assert sum(not row["브랜드"] or not row["키워드"] or not row["재고수량"] for row in rows) >= 0.05 * len(rows)


# Ingredient words that imply an allergen beyond the normalizer's synonyms: gelatin "(소)".
_EXTRA_WORDS = {"소": "쇠고기"}


def _allergen_words(text: str) -> set[str]:
    words = re.split(r"[\s,()\[\]:;/%·]+", text)
    return {nz.ALLERGEN_SYNONYMS.get(w) or _EXTRA_WORDS.get(w) for w in words} - {None}


def test_food_allergens_match_ingredients(rows):
    checked = 0
    for row in rows:
        code = _code(row)
        if code not in FOODS:
            continue
        declared = set(nz.parse_allergens(row["알레르기"]))
        if code == "agri_food":  # names glue words ("간고등어"): every declared one appears in them
            text = f"{row['상품명']} {row['상품구성']} {row['원산지']}"
            assert _allergen_words(text) <= declared, row["상품코드"]
            for name in declared:
                assert any(w in text for w, c in nz.ALLERGEN_SYNONYMS.items() if c == name), row["상품코드"]
        else:
            text = row["원재료명 및 함량"] if code == "processed_food" else row["원료명 및 함량"]
            if not text:
                continue  # a deliberate gap
            assert declared == _allergen_words(text), row["상품코드"]
        checked += 1
    assert checked > 100


def test_categories_specific_facts(rows):
    for row in rows:
        code, certs = _code(row), row["인증"]
        if code == "cosmetics":
            if row["전성분"]:
                assert len(row["전성분"].split(", ")) >= 5, row["상품코드"]
            assert ("기능성화장품" in certs) == bool(row["기능성 화장품 식품의약품안전처 심사 필 유무"])
        if code == "health_food" and row["질병의 예방 및 치료를 위한 의약품이 아니라는 내용의 표현"]:
            assert "의약품이 아닙니다" in row["질병의 예방 및 치료를 위한 의약품이 아니라는 내용의 표현"]
        if code == "small_electronics" and row["모델명"]:
            assert row["모델명"].replace("-", "") in row["KC 인증 필 유무"] or "해당 없음" in row["KC 인증 필 유무"]
        if code == "wear" and row["제품소재"]:
            assert re.search(r"\d+%", row["제품소재"])
        if code == "household_chemical" and row["안전확인대상 생활화학제품 신고번호"]:
            assert re.search(r"[A-Z]{2}\d{2}-\d{2,4}", row["안전확인대상 생활화학제품 신고번호"])


def test_messy_fixture_is_cp949_with_one_expected_reject_per_bad_row():
    data = (FIXTURES / "messy_export.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    table = list(csv.reader(io.StringIO(data.decode("cp949"))))
    header, body = table[0], table[1:]
    assert len(body) == 30
    assert {"가격", "유통기한", "중량", "메모", "공급처"} <= set(header)
    assert not {"판매가", "소비기한", "용량/중량"} & set(header)
    expected = json.loads((FIXTURES / "messy_export.expected.json").read_text("utf-8"))
    assert [e["row"] for e in expected] == [4, 7, 10, 12, 15, 17, 20, 23, 26, 29]
    for e in expected:
        assert e["column"] in header and e["reason_contains"]
    dup = next(e for e in expected if e["reason_contains"] == build.DUPLICATE_REASON)
    skus = [r[header.index("상품코드")] for r in body]
    assert skus.count(skus[dup["row"] - 2]) == 2 and skus.index(skus[dup["row"] - 2]) < dup["row"] - 2

"""Value normalizers: one shop-export cell (or one claim in generated copy) -> a typed value.

The importer calls the `parse_*` functions per cell and turns a `NormalizeError` into a reject
reason; its message is Korean, quotes the value and says what was wrong. Grounding reuses
`parse_quantity`, `parse_korean_number` and `ALLERGEN_SYNONYMS` to read claims in generated text.

Decisions (documented once here):
- a price of 0 is accepted only when written with the digit 0 ("0", "0원"); "무료" is rejected.
- units, their spellings and base units come from core/specs/vocab.yaml (`units`): count units
  개/개입/입/포/정/캡슐/병/팩/봉/봉지/캔/EA all normalize to 개; 장 normalizes to 매.
- dates and their labels (소비기한 …) are read by `core.dates`.
- allergen synonyms: 유제품 -> 우유, 콩 -> 대두, 가금류 -> 알류 (the label says "알류(가금류)").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from smallretail_llm.core.record import ALLERGENS, NetContent
from smallretail_llm.core.vocab import unit_table

Cell = str | int | float | None


class NormalizeError(ValueError):
    """A value that cannot be normalized; the message is Korean and quotes the value."""


def clean_cell(text: Cell) -> str:
    """Cell -> NFKC text ("１２,９００" -> "12,900", "㎖" -> "mL"), stripped; None -> ""."""
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)  # a numeric spreadsheet cell: 12900.0 is the integer 12900
    return unicodedata.normalize("NFKC", str(text)).strip()


# ---------------------------------------------------------------- numbers (digits and Korean)
_KOREAN_DIGITS = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6, "칠": 7, "팔": 8, "구": 9}
_SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
_BIG_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12}
_NUMERAL_CHARS = "".join([*_KOREAN_DIGITS, *_SMALL_UNITS, "만", "억"])
_NUMBER_TOKEN = re.compile(
    r"(?P<arabic>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)|(?P<digit>[일이삼사오육륙칠팔구])"
    r"|(?P<small>[십백천])|(?P<big>[만억조])"
)
# One number inside running text: digits and Korean numerals; "," and "." only between digits.
# Each repetition eats exactly one character, so the pattern cannot backtrack exponentially.
_NUMBER = rf"[\d{_NUMERAL_CHARS}](?:[\d{_NUMERAL_CHARS}]|[.,](?=\d))*"
_MAX_NUMBER_CHARS = 30  # longer is never a real price or amount (and keeps int() conversions cheap)


def _number(text: str) -> Decimal | None:
    """'12,900' / '1만2900' / '천오백' / '1.5만' -> Decimal; None when it is not one number."""
    text = re.sub(r"\s+", "", text)
    if not text or len(text) > _MAX_NUMBER_CHARS:
        return None
    total, section, pending = Decimal(0), Decimal(0), None
    last_small, last_big, pos = 10**5, 10**13, 0
    for match in _NUMBER_TOKEN.finditer(text):
        if match.start() != pos:
            return None
        pos = match.end()
        kind, token = match.lastgroup, match.group()
        if kind in ("arabic", "digit"):
            if pending is not None:
                return None  # "일이" or "3오": two numbers side by side
            digit = token.replace(",", "") if kind == "arabic" else _KOREAN_DIGITS[token]
            pending = Decimal(digit)
        elif kind == "small":
            unit = _SMALL_UNITS[token]
            if unit >= last_small:
                return None  # "백천", "십십": units must decrease
            section += (pending if pending is not None else 1) * unit
            pending, last_small = None, unit
        else:
            unit = _BIG_UNITS[token]
            if unit >= last_big:
                return None
            if pending is None and section == 0:
                section = Decimal(1)  # "만" alone is 10000
            section += pending if pending is not None else 0
            total += section * unit
            section, pending, last_small, last_big = Decimal(0), None, 10**5, unit
    if pos != len(text):
        return None
    return total + section + (pending if pending is not None else 0)


def parse_korean_number(text: str) -> int | None:
    """The whole text as one integer: "오백" -> 500, "천오백" -> 1500, "3만" -> 30000,
    "1만2900" -> 12900, "12,900" -> 12900; None when it is not exactly one integer ("1.5", "오백원")."""
    value = _number(clean_cell(text))
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


# ---------------------------------------------------------------- price, integer
def parse_price_krw(text: Cell) -> int:
    """A won price -> int: "12,900원", "₩12900", "12900.0", "1만2900원", " 9,900 " -> 12900 ..."""
    raw = clean_cell(text)
    body = re.sub(r"^(?:₩|KRW)\s*|\s*(?:원|KRW)$", "", raw, flags=re.IGNORECASE).strip()
    if not body:
        raise NormalizeError("가격이 비어 있습니다")
    negative = body[0] in "-−"
    value = _number(body.lstrip("-−").strip())
    if value is None:
        hint = " (무료라면 0으로 적어 주세요)" if "무료" in body else ""
        raise NormalizeError(f"가격을 숫자로 읽을 수 없습니다: '{raw}'{hint}")
    if negative and value != 0:
        raise NormalizeError(f"가격은 음수일 수 없습니다: '{raw}'")
    if value != value.to_integral_value():
        raise NormalizeError(f"가격에 1원 미만의 소수가 있습니다: '{raw}'")
    return int(value)


def parse_int(text: Cell) -> int:
    """A non-negative integer such as a stock count: "1,200", "12개", " 5 ", "12.0" -> int."""
    raw = clean_cell(text)
    body = re.sub(r"\s*(?:개|EA|ea|pcs)$", "", raw).strip()
    if not body:
        raise NormalizeError("수량이 비어 있습니다")
    if body[0] in "-−" and re.fullmatch(r"[-−]\s*[\d,]+(?:\.\d+)?", body):
        raise NormalizeError(f"수량은 음수일 수 없습니다: '{raw}'")
    plain = re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", body)
    if plain is None or len(body) > _MAX_NUMBER_CHARS:
        raise NormalizeError(f"수량을 정수로 읽을 수 없습니다: '{raw}'")
    value = Decimal(body.replace(",", ""))
    if value != value.to_integral_value():
        raise NormalizeError(f"수량은 정수여야 합니다: '{raw}'")
    return int(value)


# ---------------------------------------------------------------- units, net content, quantities
# Korean words that start with a unit but are not one ("12개월", "10정도", "포인트", "매장").
_NOT_AFTER = {"개": "월|국|년|소|점", "정": "도|품", "입": "니|금|고", "포": "인트|장", "장": "점|소",
              "매": "장|일|년|월|주", "병": "원"}


def _unit_pattern(units: list[str]) -> str:
    parts = []
    for unit in sorted(units, key=len, reverse=True):  # longest first: "개입" before "개"
        if unit.isascii():
            parts.append(f"{unit}(?![a-wyz])")  # "5 Light" is no litre; "500gx2" is 500 g
        else:
            parts.append(unit + (f"(?!{_NOT_AFTER[unit]})" if unit in _NOT_AFTER else ""))
    return "|".join(parts)


@functools.cache
def _unit_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(net content pattern, quantity-in-text pattern) over vocab.yaml's unit spellings."""
    units = unit_table()
    unit_re = _unit_pattern(list(units))
    count_re = _unit_pattern([u for u, (base, _) in units.items() if base == "개"] + ["세트", "박스"])
    net = re.compile(
        rf"(?P<num>{_NUMBER})\s*(?P<unit>{unit_re})"
        rf"(?:\s*[x×*]\s*(?P<c1>\d+)\s*(?:{count_re})?|\s*(?P<c2>\d+)\s*(?:{count_re}))?",
        re.IGNORECASE,
    )
    quantity = re.compile(
        rf"(?:(?<![\d.,])(?=\d)|(?<![\d.,가-힣])(?=[{_NUMERAL_CHARS}]))"
        rf"(?P<num>{_NUMBER})(?P<space>\s*)(?P<unit>{unit_re})",
        re.IGNORECASE,
    )
    return net, quantity
_UNIT_LIST = "g, kg, mg, mL, L, cc, 개, 개입, 입, 매, 장, 포, 정, 병"


def _to_base(number: Decimal, unit: str) -> tuple[float, str]:
    base, factor = unit_table()[unit.lower()]
    return float(number * factor), base


def parse_net_content(text: Cell) -> NetContent:
    """Net content -> NetContent in a base unit: "1.5L" -> 1500 mL, "500g x 2개" -> 500 g x 2,
    "10개입" -> 10 개, "30매" -> 30 매, "250mL 2병" -> 250 mL x 2."""
    raw = clean_cell(text)
    if not raw:
        raise NormalizeError("용량이 비어 있습니다")
    match = _unit_res()[0].fullmatch(raw)
    if match is None:
        lead = re.match(rf"({_NUMBER})\s*([A-Za-z가-힣]*)", raw)
        if lead is None or _number(lead.group(1)) is None:
            raise NormalizeError(f"용량을 읽을 수 없습니다: '{raw}' (예: 500g, 1.5L, 30매, 500g x 2개)")
        if not lead.group(2):
            raise NormalizeError(f"용량에 단위가 없습니다: '{raw}' (예: 500g)")
        if lead.group(2).lower() not in unit_table():
            raise NormalizeError(
                f"알 수 없는 단위입니다: '{lead.group(2)}' ('{raw}', 쓸 수 있는 단위: {_UNIT_LIST})"
            )
        raise NormalizeError(f"용량을 읽을 수 없습니다: '{raw}' (예: 500g, 1.5L, 30매, 500g x 2개)")
    number = _number(match["num"])
    if number is None:
        raise NormalizeError(f"용량의 숫자를 읽을 수 없습니다: '{raw}'")
    if number <= 0:
        raise NormalizeError(f"용량은 0보다 커야 합니다: '{raw}'")
    count = int(match["c1"] or match["c2"] or 1)
    if count < 1:
        raise NormalizeError(f"묶음 수는 1 이상이어야 합니다: '{raw}'")
    value, unit = _to_base(number, match["unit"])
    return NetContent(value=value, unit=unit, count=count)


@dataclass(frozen=True)
class QuantityMention:
    """One number+unit in a text, in base units, with its character span."""

    start: int
    end: int
    value: float
    unit: str


def find_quantities(text: str) -> list[QuantityMention]:
    """Every number+unit mention in `text` ("오백 그램", "1.5L", "2개입"), in order of position."""
    found = []
    for match in _unit_res()[1].finditer(text):
        num = match["num"]
        # "구매", "천장", "만개": a lone Korean numeral glued to a Korean unit is usually a word.
        glued = not match["space"] and not match["unit"].isascii()
        if glued and len(num) == 1 and num in _NUMERAL_CHARS:
            continue
        number = _number(unicodedata.normalize("NFKC", num))
        if number is None or number <= 0:
            continue
        value, unit = _to_base(number, match["unit"])
        found.append(QuantityMention(match.start(), match.end(), value, unit))
    return found


def parse_quantity(text: str) -> tuple[float, str] | None:
    """The first number+unit mention in base units: "1.5L" -> (1500.0, "mL"), "오백 그램" ->
    (500.0, "g"), "30매" -> (30.0, "매"), "2개입" -> (2.0, "개"); None when there is none."""
    found = find_quantities(unicodedata.normalize("NFKC", text or ""))
    return (found[0].value, found[0].unit) if found else None


# ---------------------------------------------------------------- GTIN
def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits before it (weights 3,1,3,... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_gtin(text: Cell) -> str:
    """A GTIN-8/12/13/14 with a correct check digit -> its digits only:
    "880-1234-567893" -> "8801234567893"."""
    raw = clean_cell(text)
    if re.fullmatch(r"\d+(?:\.\d+)?[eE][+-]?\d+", raw):
        raise NormalizeError(
            f"바코드가 지수 형식('{raw}')으로 저장되어 자릿수가 사라졌습니다. "
            "엑셀에서 바코드 열의 셀 서식을 '텍스트'로 바꾼 뒤 다시 내보내 주세요"
        )
    digits = re.sub(r"[\s-]", "", re.sub(r"\.0+$", "", raw))
    if not digits:
        raise NormalizeError("바코드가 비어 있습니다")
    if not (digits.isascii() and digits.isdigit()):
        raise NormalizeError(f"바코드에는 숫자만 쓸 수 있습니다: '{raw}'")
    if len(digits) not in (8, 12, 13, 14):
        raise NormalizeError(f"바코드 자릿수가 맞지 않습니다: {len(digits)}자리 '{raw}' (8, 12, 13, 14자리여야 합니다)")
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise NormalizeError(
            f"바코드의 검증 숫자(마지막 자리)가 맞지 않습니다: '{raw}' (올바른 마지막 자리: {expected})"
        )
    return digits


# ---------------------------------------------------------------- allergens
_SYNONYM_GROUPS: dict[str, tuple[str, ...]] = {
    "알류": ("알류", "난류", "계란", "달걀", "가금류", "계란류", "달걀류", "메추리알", "오리알", "난백", "난황", "전란"),
    "우유": ("우유", "유제품", "우유류", "분유", "탈지분유", "전지분유", "유청", "유당"),
    "메밀": ("메밀", "메밀가루"),
    "땅콩": ("땅콩", "낙화생"),
    "대두": ("대두", "콩", "대두류", "두유", "백태"),
    "밀": ("밀", "소맥", "밀가루", "소맥분", "밀류"),
    "고등어": ("고등어",),
    "게": ("게", "꽃게", "대게", "홍게", "게류"),
    "새우": ("새우", "새우류", "대하"),
    "돼지고기": ("돼지고기", "돈육", "돼지"),
    "복숭아": ("복숭아", "황도", "백도"),
    "토마토": ("토마토",),
    "아황산류": ("아황산류", "아황산", "아황산염", "아황산염류", "이산화황", "무수아황산"),
    "호두": ("호두", "호도"),
    "닭고기": ("닭고기", "닭", "계육"),
    "쇠고기": ("쇠고기", "소고기", "우육"),
    "오징어": ("오징어",),
    "조개류": ("조개류", "조개", "굴", "전복", "홍합", "바지락", "가리비", "꼬막", "대합", "모시조개", "키조개"),
    "잣": ("잣",),
}
ALLERGEN_SYNONYMS: dict[str, str] = {
    surface: name for name, group in _SYNONYM_GROUPS.items() for surface in group
}
"""Surface form -> canonical name of record.ALLERGENS (each canonical name maps to itself)."""

_NONE_WORDS = {"", "없음", "해당없음", "해당사항없음", "무", "-", "x", "n/a", "na", "none"}
_FILLER_WORDS = {"함유", "포함", "함유됨", "포함됨", "사용", "제품", "성분", "등", "및", "일부"}
_TRAILING = ("함유제품", "함유", "포함", "성분", "등", "와", "과", "이", "가", "을", "를", "은", "는")
_PREFIX_RE = re.compile(r"^(?:알레르기|알러지|알레르겐)\s*(?:유발)?\s*(?:물질|성분|식품|원료|정보)?\s*[:：]?\s*")


def _canonical_allergen(word: str) -> str | None:
    for _ in range(3):  # "대두함유", "우유와", "계란이": strip trailing words/particles
        if word in ALLERGEN_SYNONYMS:
            return ALLERGEN_SYNONYMS[word]
        tail = next((t for t in _TRAILING if word.endswith(t) and len(word) > len(t)), None)
        if tail is None:
            return None
        word = word[: -len(tail)]
    return ALLERGEN_SYNONYMS.get(word)


def parse_allergens(text: Cell) -> list[str]:
    """Free text -> canonical allergen names in ALLERGENS order: "밀·대두·우유 함유" ->
    ["우유", "대두", "밀"]; "없음", "해당없음", "-" -> []. Unknown words raise, naming them."""
    raw = clean_cell(text)
    if re.sub(r"\s+", "", raw).lower() in _NONE_WORDS:
        return []
    body = _PREFIX_RE.sub("", raw)
    if re.sub(r"\s+", "", body).lower() in _NONE_WORDS:
        return []
    body = re.sub(r"\([^)]*\d[^)]*\)", " ", body)  # "아황산류(10mg/kg 이상)": the note is no allergen
    found, unknown = set(), []
    for word in re.split(r"[\s,，·・/;:、()\[\]+&.]+", body):
        if not word or word in _FILLER_WORDS:
            continue
        name = _canonical_allergen(word)
        if name is None:
            unknown.append(word)
        else:
            found.add(name)
    if unknown:
        raise NormalizeError(
            f"알 수 없는 알레르기 항목입니다: {', '.join(repr(w) for w in unknown)} "
            f"('{raw}', 표시 대상 19종: {', '.join(ALLERGENS)})"
        )
    return [name for name in ALLERGENS if name in found]

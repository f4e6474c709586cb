"""Personal-data redaction (개인정보보호법) for customer questions before they are logged, stored
or used for training.

Scope: phone numbers (mobile in every common spelling incl. +82 and 공일공, landlines, 050X safe
numbers, 15XX/16XX/18XX business numbers unless kept), 주민등록번호 (also masked), emails,
street addresses (도로명 + number, 지번 with a lot number, 아파트 동·호, or a 시/구-led address),
card numbers, bank account numbers next to a bank name or "계좌", and customer names only where a
label says so ("성함: 홍길동", "받는 분 김철수", "주문번호 … 홍길동입니다"). Order numbers
themselves are kept: alone they identify no one and the shop needs them. A 시/구/동 without a
number ("서울 강남구 매장") is not an address. Product facts are never touched: model numbers,
GTINs (13 digits from 880), prices, quantities, dates, KC/신고 numbers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel

log = logging.getLogger(__name__)

TOKENS: dict[str, str] = {
    "phone": "[전화번호]", "rrn": "[주민등록번호]", "email": "[이메일]", "address": "[주소]",
    "card": "[카드번호]", "account": "[계좌번호]", "name": "[이름]",
}
"""Replacement token per kind; `Redaction.found` lists kinds."""


class Redaction(BaseModel):
    """Redacted text and the sorted unique kinds of personal data that were replaced."""

    text: str
    found: list[str]


# --- building blocks ---------------------------------------------------------------------------
_START = r"(?<![0-9A-Za-z])(?<![0-9A-Za-z][-.])"  # not inside a model number or a longer number
_END = r"(?![0-9])(?![-.][0-9])"
_SEP = r"(?:\s?[-.)]\s?|\s)?"


def _digits(n: int, m: int | None = None) -> str:
    """n (to m) digits, each optionally preceded by one space ("0 1 0 1 2 3 4")."""
    return rf"\d(?:\s?\d){{{n - 1},{(m or n) - 1}}}"


_MOBILE = (rf"{_START}(?:\+\s?82[\s.-]*(?:\(0\)\s*)?1\s?[016789]|0\s?1\s?[016789])"
           rf"{_SEP}{_digits(3, 4)}{_SEP}{_digits(4)}{_END}")
_LANDLINE = (rf"{_START}\(?(?:0\s?2|0\s?[3-6]\s?[1-5]|0\s?[78]\s?0|0\s?5\s?0\s?[2-8])\)?"
             rf"{_SEP}{_digits(3, 4)}{_SEP}{_digits(4)}{_END}")
# A number right before a unit is a quantity, not a house number ("택배로 3일", "가로 20cm").
_UNITS = (r"(?:개월|개|원|일|회|번(?![길지])|명|박|시간|분|초|년|월|주|차|장|매|병|팩|봉|세트|kg|g|"
          r"ml|mL|L|l|리터|그램|킬로|cm|mm|m|인분|알|정|포|캡슐|종|가지|배|단계|등급|등|위|도|℃|"
          r"박스|box|단|켤레|벌|입(?!니다|니까)|ea|EA|인치|inch|W|V|mAh|코스|km|평)")
_SPACED_UNITS = (r"(?:(?:개월|세트|리터|그램|킬로|인분|캡슐|가지|단계|등급|박스|켤레|인치|코스)"
                 r"|(?:개|원|일|회|명|년|월|시간|분|초)(?![가-힣])"
                 r"|(?:kg|g|ml|mL|L|cm|mm|m|km|ea|EA|inch|mAh|box)(?![A-Za-z]))")
_NOT_UNIT = rf"(?![.,]\d|\s?[~%+xX×*]|{_UNITS}|\s{_SPACED_UNITS})"
_BUSINESS = rf"{_START}1\s?[568]\d\d\s?[-.]\s?\d{{4}}{_END}{_NOT_UNIT}"  # 1588-1234
_KOREAN_DIGITS = "공영일이삼사오육륙칠팔구"
_KOREAN_PHONE = (rf"(?<![0-9{_KOREAN_DIGITS}])[0-9{_KOREAN_DIGITS}]{{3}}[-.\s]?"
                 rf"[0-9{_KOREAN_DIGITS}]{{3,4}}[-.\s]?[0-9{_KOREAN_DIGITS}]{{4}}(?![0-9])")

_YYMMDD = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_MASK = "*xX●○#"
_RRN_HYPHEN = rf"{_START}{_YYMMDD}\s?[-–]\s?(?:[1-8][\d{_MASK}]{{6}}|[{_MASK}]{{7}}){_END}"
_RRN_PLAIN = rf"{_START}{_YYMMDD}(?:[1-8]\d{{6}}|[1-8][{_MASK}]{{6}}|[{_MASK}]{{7}}){_END}"

_CARD_GROUPED = (rf"{_START}(?:\d{{4}}(?P<s>[-\s])[\d{_MASK}]{{4}}(?P=s)[\d{_MASK}]{{4}}(?P=s)"
                 rf"[\d{_MASK}]{{4}}|\d{{4}}[-\s]\d{{6}}[-\s]\d{{5}}){_END}")
_CARD_PLAIN = rf"{_START}\d{{15,16}}{_END}"

_BANK = (r"(?:KB\s?국민|국민|신한|우리|NH\s?농협|농협|KEB\s?하나|하나|IBK\s?기업|기업|SC\s?제일|"
         r"제일|한국씨티|씨티|카카오\s?뱅크|카카오|토스\s?뱅크|토스|케이\s?뱅크|K\s?뱅크|우체국|"
         r"새마을\s?금고|신협|수협|산업|부산|대구|경남|광주|전북|제주)(?:\s?은행|\s?뱅크)?")
_ACCOUNT_NUMBER = r"\d{2,6}(?:[-\s]\d{2,7}){1,4}|\d{10,14}"
_ACCOUNT_BANK = (rf"(?<![가-힣A-Za-z]){_BANK}\s*(?:계좌\s*(?:번호)?\s*)?(?:는|은|:|：)?\s*"
                 rf"(?P<v>{_ACCOUNT_NUMBER}){_END}")
_ACCOUNT_CONTEXT = (rf"계좌\s*(?:번호)?\s*(?:는|은|:|：)?\s*(?:[가-힣A-Z]{{1,6}}\s*)?"
                    rf"(?P<v>{_ACCOUNT_NUMBER}){_END}")

_EMAIL = r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"

_SIDO = (r"(?:서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주|"
         r"충청북|충청남|전라북|전라남|경상북|경상남)(?:특별자치시|특별자치도|특별시|광역시|도|시)?")
_SIGUNGU = r"[가-힣]{1,5}(?:시|군|구)"
_REGION = rf"(?:{_SIDO}\s?(?:{_SIGUNGU}\s?){{0,2}}|(?:{_SIGUNGU}\s?){{1,2}})(?:[가-힣]{{1,4}}[읍면]\s?)?"
_LOT = r"[1-9]\d{0,4}(?:-\d{1,4})?"  # house and lot numbers never start with 0
_DETAIL = (r"(?:\s?,?\s?(?:\(?[가-힣0-9]{1,8}동\)\s?)?(?:[가-힣A-Za-z0-9]{1,15}"
           r"(?:아파트|빌라|빌딩|오피스텔|맨션|타워|하이츠|APT)\s?)?"
           r"(?:(?:\d{1,4}|[A-Za-z])\s?동\s?)?\d{1,5}\s?호"
           r"|\s?,?\s?\d{1,3}\s?층(?:\s?\d{1,5}\s?호)?)?")
_ROAD_WORD = r"(?P<road>[가-힣A-Za-z0-9]*[가-힣](?:대로|로|길)(?:\s?\d{1,4}(?:번?[가-하]?길|가))?)"
_ROAD = rf"{_ROAD_WORD}\s?{_LOT}(?!\d){_NOT_UNIT}{_DETAIL}"
_JIBUN_WORD = r"(?P<dong>[가-힣0-9]{1,8}(?:동|리|가))"
_ADDRESS_REGION = (rf"(?<![가-힣]){_REGION}(?:{_ROAD}|[가-힣0-9]{{1,8}}(?:동|리|가)\s?{_LOT}(?:번지)?"
                   rf"(?!\d){_NOT_UNIT}{_DETAIL})")
_ADDRESS_ROAD = rf"(?<![가-힣A-Za-z0-9]){_ROAD}"
_ADDRESS_JIBUN = (rf"(?<![가-힣A-Za-z0-9]){_JIBUN_WORD}\s?(?:[1-9]\d{{0,3}}-\d{{1,4}}(?:번지)?|[1-9]\d{{0,3}}번지)"
                  rf"(?!\d){_NOT_UNIT}{_DETAIL}")
_APARTMENT = (r"(?<![가-힣A-Za-z0-9])(?:[가-힣A-Za-z0-9]{1,15}(?:아파트|빌라|오피스텔|맨션)\s?)?"
              r"(?:\d{1,4}|[A-Za-z])\s?동\s?\d{1,5}\s?호(?!\d)")

_NAME_LABEL = (r"(?:이름|성함|성명|주문자(?:명)?|구매자|수령인|수취인|받는\s?(?:분|사람|이)|예금주|"
               r"고객명|보내는\s?(?:분|사람))")
_NAME_END = r"(?=님|씨|\s*(?:입니다|이에요|예요|이고|이며|고객|$|[,.)/!?]))"
_NAME_LABELLED = (rf"{_NAME_LABEL}\s*(?:은|는|이|가|:|：|=)?\s*(?P<v>[가-힣]{{2,4}}?)"
                  rf"(?=님|씨|\s|$|[,.)/!?]|입니다|이에요|예요|이고|이며|으로|로)")
_NAME_ORDER = (rf"주문\s?번호\s*(?:는|은|:|：)?\s*[A-Za-z0-9-]{{6,}}\s*,?\s*"
               rf"(?P<v>[가-힣]{{2,4}}?){_NAME_END}")

# --- validators ---------------------------------------------------------------------------------
_RRN_CONTEXT = re.compile(r"주민|등록\s?번호|생년월일")
_BARCODE_CONTEXT = re.compile(r"바코드|GTIN|EAN|JAN|UPC|상품\s?코드|제품\s?코드|코드", re.IGNORECASE)
_ORDER_CONTEXT = re.compile(r"주문|송장|운송장|배송\s?번호|일련번호|시리얼|serial|S/N|쿠폰|상품권|"
                            r"인증\s?번호|신고\s?번호|허가\s?번호", re.IGNORECASE)
_CARD_CONTEXT = re.compile(r"카드")
_PHONE_DIGITS = re.compile(r"01[016789]\d{7,8}|02\d{7,8}|0[3-6][1-5]\d{7,8}|0[78]0\d{7,8}|"
                           r"050[2-8]\d{7,8}|1[568]\d{6}")
_NOT_ROADS = frozenset({"가로", "세로", "새로", "따로", "별로", "서로", "실로", "주로", "홀로", "절대로",
                        "그대로", "제대로", "마음대로", "정말로", "진짜로", "프로", "제로", "레트로",
                        "뉴트로", "메트로", "마이크로", "매크로", "히어로", "오로", "스스로"})
_NOT_PLACES = frozenset({"자동", "수동", "이동", "작동", "운동", "냉동", "전동", "진동", "연동", "구동",
                         "활동", "행동", "변동", "감동", "공동", "노동", "가동", "파동", "유동", "출동",
                         "요리", "소리", "처리", "관리", "무리", "정리", "거리", "유리", "사리", "머리",
                         "추가", "평가", "정가", "원가", "단가", "특가", "할인가", "판매가", "소비자가"})
_SURNAMES = frozenset("김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구"
                      "민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국"
                      "어은편용예경봉사부탁")
_NOT_NAMES = ("변경", "수정", "확인", "입력", "기재", "등록", "정보", "오류", "표기", "문의", "바꾸", "바뀌",
              "틀리", "틀렸", "잘못", "다르", "다른", "같", "없", "누락", "모르", "적", "써", "쓰", "알려",
              "부탁", "뭐", "무엇", "어떻", "제가", "저", "우리", "본인", "고객", "대신", "동일", "그대로",
              "말씀", "남기", "남겨", "전화", "연락", "주소", "이메일", "성함", "이름", "정확", "한글",
              "영문", "영어", "한자", "띄어", "성별", "전부", "모두", "다시", "표시", "출력", "인쇄",
              "나오", "나와", "안", "잘", "꼭", "제대로", "오타", "철자", "글자", "부분", "하고", "까지")


_KOREAN_TO_DIGIT = str.maketrans(dict(zip(_KOREAN_DIGITS, "001234566789", strict=True)))


def _digits_of(text: str) -> str:
    """The digits a phone-like value spells ("공일공" counts), +82 written as a leading 0."""
    digits = re.sub(r"\D", "", text.translate(_KOREAN_TO_DIGIT))
    if text.lstrip().startswith("+82"):
        digits = digits[2:] if digits[2:].startswith("0") else "0" + digits[2:]  # +82(0)10…
    return digits


def _before(text: str, start: int, width: int = 16) -> str:
    return text[max(0, start - width):start]


def _phone_ok(text: str, start: int, end: int) -> bool:
    return bool(_PHONE_DIGITS.fullmatch(_digits_of(text[start:end])))


def _business_ok(text: str, start: int, end: int) -> bool:
    """1588-1234 yes; "1500-2000" (a range of round numbers) no."""
    first, second = re.findall(r"\d+", re.sub(r"\s", "", text[start:end]))[:2]
    return not (first.endswith("00") and second.endswith("00"))


def _korean_phone_ok(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    return any(c in _KOREAN_DIGITS for c in value) and _phone_ok(text, start, end)


def _rrn_plain_ok(text: str, start: int, end: int) -> bool:
    before = _before(text, start)
    if _RRN_CONTEXT.search(before):
        return True
    return not text[start:end].startswith("880") and not _BARCODE_CONTEXT.search(before)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_grouped_ok(text: str, start: int, end: int) -> bool:
    return not _ORDER_CONTEXT.search(_before(text, start))


def _card_plain_ok(text: str, start: int, end: int) -> bool:
    before = _before(text, start)
    if _CARD_CONTEXT.search(before):
        return True
    return _luhn(text[start:end]) and not _ORDER_CONTEXT.search(before)


def _account_ok(text: str, start: int, end: int) -> bool:
    return 10 <= len(_digits_of(text[start:end])) <= 14


def _address_ok(match: re.Match[str]) -> bool:
    road, dong = match.groupdict().get("road"), match.groupdict().get("dong")
    if road:
        word = re.sub(r"\s?\d.*$", "", road)
        if word in _NOT_ROADS or word.endswith("으로"):
            return False
        # Without a 시/구 in front, a "길" must be a numbered one ("역삼로7길"): "둘레길 12" is no address.
        if word.endswith("길") and not re.search(r"\d", road) and match.start("road") == match.start():
            return False
    return not (dong and dong in _NOT_PLACES)


def _name_ok(text: str, start: int, end: int) -> bool:
    name = text[start:end]
    return (name[0] in _SURNAMES or name[:2] in {"남궁", "황보", "제갈", "선우", "독고"}) and \
        not name.startswith(_NOT_NAMES)


# --- the pattern table --------------------------------------------------------------------------
Check = Callable[[str, int, int], bool]


@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    check: Check | None = None
    match_check: Callable[[re.Match[str]], bool] | None = None


def _p(kind: str, pattern: str, check: Check | None = None,
       match_check: Callable[[re.Match[str]], bool] | None = None) -> _Pattern:
    return _Pattern(kind, re.compile(pattern), check, match_check)


# Order is priority among candidates that start at the same place with the same length.
_PATTERNS: tuple[_Pattern, ...] = (
    _p("email", _EMAIL),
    _p("rrn", _RRN_HYPHEN),
    _p("rrn", _RRN_PLAIN, _rrn_plain_ok),
    _p("card", _CARD_GROUPED, _card_grouped_ok),
    _p("card", _CARD_PLAIN, _card_plain_ok),
    _p("phone", _MOBILE, _phone_ok),
    _p("phone", _LANDLINE, _phone_ok),
    _p("phone", _BUSINESS, _business_ok),
    _p("phone", _KOREAN_PHONE, _korean_phone_ok),
    _p("account", _ACCOUNT_BANK, _account_ok),
    _p("account", _ACCOUNT_CONTEXT, _account_ok),
    _p("address", _ADDRESS_REGION, match_check=_address_ok),
    _p("address", _ADDRESS_ROAD, match_check=_address_ok),
    _p("address", _ADDRESS_JIBUN, match_check=_address_ok),
    _p("address", _APARTMENT),
    _p("name", _NAME_LABELLED, _name_ok),
    _p("name", _NAME_ORDER, _name_ok),
)


def _kept(value: str, keep: Iterable[str]) -> bool:
    """The shop's own contact data (CS phone, email) stays: compare digits, else the text."""
    digits = _digits_of(value)
    for item in keep:
        if digits and len(digits) >= 7 and digits == _digits_of(item):
            return True
        if re.sub(r"\s", "", value).casefold() == re.sub(r"\s", "", item).casefold():
            return True
    return False


def _accepted(pattern: _Pattern, text: str, match: re.Match[str]) -> tuple[int, int] | None:
    start, end = match.span("v" if "v" in pattern.regex.groupindex else 0)
    if start == end:
        return None
    if pattern.check is not None and not pattern.check(text, start, end):
        return None
    if pattern.match_check is not None and not pattern.match_check(match):
        return None
    return start, end


def _candidates(text: str, keep: Iterable[str]) -> list[tuple[int, int, int, str]]:
    found = []
    for priority, pattern in enumerate(_PATTERNS):
        position = 0
        while (match := pattern.regex.search(text, position)) is not None:
            span = _accepted(pattern, text, match)
            # A rejected match may hide a real one that starts inside it ("이름은 한소희").
            position = max(match.end(), match.start() + 1) if span else match.start() + 1
            if span and not (keep and _kept(text[span[0]:span[1]], keep)):
                found.append((span[0], span[1], priority, pattern.kind))
    return found


def redact_pii(text: str, keep: Iterable[str] = ()) -> Redaction:
    """Replace personal data in `text` with tokens like [전화번호]; strings in `keep` (the shop's
    own CS phone or email) are left as they are. Never raises: on an internal error every digit
    is masked, so nothing leaks."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    keep = tuple(k for k in keep if isinstance(k, str) and k.strip()) if keep else ()
    try:
        candidates = sorted(_candidates(text, keep), key=lambda c: (c[0], -(c[1] - c[0]), c[2]))
    except Exception:  # a bug must not leak data nor break the caller
        log.exception("개인정보 마스킹 중 오류가 나서 숫자를 모두 가렸습니다")
        return Redaction(text=re.sub(r"\d", "*", text), found=[])
    pieces, kinds, position = [], set(), 0
    for start, end, _, kind in candidates:
        if start < position:
            continue  # overlaps a longer or earlier match
        pieces += [text[position:start], TOKENS[kind]]
        kinds.add(kind)
        position = end
    pieces.append(text[position:])
    return Redaction(text="".join(pieces), found=sorted(kinds))

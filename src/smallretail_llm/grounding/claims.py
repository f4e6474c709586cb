"""Claim extraction: the checkable facts a Korean product text states, as shops write them.

`extract_claims` finds numbers with units, prices, percentages, dates and periods, origins,
brands, allergens (present or absent), certifications, rankings and guarantees, each with its
span in the original text and comparison `keys` (normalized values: "1.5L" and "1,500mL" give the
same key). Grounding runs the same extractor over the record's own strings to build the facts a
claim must match, so text and record are always read by one set of rules.

Regexes run over NFKC text ("１２,９００원" -> "12,900원", "㎖" -> "ml"); spans map back to the
original characters. Morphological analysis is left to `compliance`, where inflection matters.
Allergens are read by `claims_allergens`, origins by `claims_places`; the word lists (units,
certifications, places, brand words) are vocab.yaml's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable

from smallretail_llm.core import vocab
from smallretail_llm.core.normalize import parse_korean_number, parse_quantity
from smallretail_llm.grounding.claim_fields import bind
from smallretail_llm.grounding.claim_text import Key, Mention, alt, negated_after, nfkc_map, squash
from smallretail_llm.grounding.claims_allergens import allergen_mentions
from smallretail_llm.grounding.claims_places import origin_mentions, place_keys

KINDS: tuple[str, ...] = (
    "quantity", "price", "percent", "date", "origin", "brand", "allergen_presence",
    "allergen_absence", "certification", "ranking", "guarantee", "contact", "other_shop",
    "stock",
)
"""Stable claim kinds, as reported in `Claim.kind`."""

@functools.cache
def _cert_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(canonical name, pattern over squashed text) per certification spelling."""
    return tuple((cert.name, re.compile(p.replace(r"\s?", "")))
                 for cert in vocab.certifications().values() for p in cert.patterns)


def _cert_canon(text: str) -> str | None:
    """Canonical certification of a name as written ("해썹 인증" -> "HACCP")."""
    low = squash(text)
    found = next((c for c, p in _cert_patterns() if p.fullmatch(low)), None)
    # "HACCP 인증 획득": search inside
    return found or next((c for c, p in _cert_patterns() if p.search(low)), None)


def cert_keys(name: str) -> frozenset[Key]:
    """Fact keys for one certification name from the record ("유기농 인증" -> {("cert", "유기농")})."""
    canon = _cert_canon(name)
    return frozenset({("cert", canon)} if canon else set())


# ------------------------------------------------------------------ regex building blocks
_PART = "이가을를은는의에로으와과만씩짜당입간동까부정기후전내및중도인예야라뿐밖째차마산분"
_HANGUL_END = rf"(?=[^가-힣]|$|[{_PART}])"  # a Korean unit ends a word or takes a particle
_DIG = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_DNUM = rf"(?:(?:{_DIG})\s?[억만천]\s?){{0,3}}(?:{_DIG})(?:\s?[억만천백])?"  # bounded: linear scan
_KNUM = r"(?<![가-힣])[일이삼사오육칠팔구십백천만억]+"
_NUM = rf"(?:(?<![A-Za-z0-9.,_])(?<![A-Za-z]-){_DNUM}|{_KNUM})"
_PERIOD_UNITS = {"개월": "개월", "주일": "주", "시간": "시간", "년": "년", "주": "주", "일": "일",
                 "분": "분"}
_PCT_UNITS = ("%", "퍼센트", "프로")


@functools.cache
def _unit_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(number+unit, malformed number+unit) over vocab.yaml's `claim_units`."""
    units = vocab.claim_units()
    unit = (rf"(?:{alt(units.latin)})(?![a-wyz])"
            rf"|(?:{alt((*units.hangul, *_PERIOD_UNITS, '퍼센트', '프로'))}){_HANGUL_END}"
            r"|%|원(?=[^가-힣]|$|[이을은의에으입부까대짜씩만도과와상어인])")
    num_unit = re.compile(rf"(?P<a>{_NUM})(?:\s?[~∼-]\s?(?P<b>{_NUM}))?\s?(?P<unit>{unit})",
                          re.IGNORECASE)
    # A number with commas in the wrong places ("24,9000원", "2,4900원", "24,90원", "1,5kg"): no
    # reading of it is safe (one reads as ten times the price), so it is a claim no fact supports.
    malformed = re.compile(rf"(?<![\d,.])(?P<num>\d+(?:,\d+)+(?:\.\d+)?)\s?(?P<unit>{unit})",
                           re.IGNORECASE)
    return num_unit, malformed


_WELL_FORMED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DISCOUNT_AFTER = re.compile(r"\s?(?:추가\s?|즉시\s?|특별\s?)?(?:할인|세일|off|dc|적립)",
                             re.IGNORECASE)

_DATE_YMD = re.compile(
    r"(?<![\d.])(?P<y>\d{4})\s?(?:년\s?|[./-]\s?)(?P<m>\d{1,2})\s?(?:월\s?|[./-]\s?)(?P<d>\d{1,2})"
    r"(?:\s?일)?(?![\d])"
    r"|(?<![\d.])(?P<y2>\d{2})\.(?P<m2>\d{1,2})\.(?P<d2>\d{1,2})(?![\d.])")
_DATE_YM = re.compile(
    r"(?<![\d.])(?P<y>\d{4})\s?(?:년\s?(?P<m>\d{1,2})\s?월|[./](?P<m2>\d{1,2})(?![\d./]))")
_DATE_MD = re.compile(r"(?<![\d.])(?P<m>\d{1,2})\s?월\s?(?P<d>\d{1,2})\s?일")
_LEAD_TIME = re.compile(r"(?:당일|익일|다음\s?날|오늘|내일|주문\s?즉시)\s?(?:출고|발송|배송|도착)")

_FREE_SHIPPING = re.compile(r"무료\s?배송|배송비(?:는|가|도)?\s?무료|배송\s?무료|free\s?shipping",
                            re.IGNORECASE)
_PROMO = re.compile(r"(?<![\d+])\d\s?\+\s?\d(?![\d+])")

_RANKING = re.compile(
    r"(?:(?:판매량?|매출|인기|만족도|랭킹|순위|검색어?|업계|국내|세계|브랜드)\s?)?(?<![\d,.])\d+\s?위"
    r"(?!생|해|치|험|원|반|기|로운|협)"
    r"|no\.?\s?1(?!\d)|넘버\s?원|(?<![가-힣])[1일]등(?!급)(?:\s?(?:상품|제품|브랜드))?"
    r"|최고급|최고|최상급|최상(?!단)|최초(?!\s?(?:구매|주문|가입|개봉|1회))"
    r"|유일무이|유일한|유일|최저가|최다|최강"
    r"|베스트\s?셀러|독보적|압도적|(?:가장|제일)\s(?!먼저|최근|가까운|기본)[가-힣]+"
    r"|주문\s?폭주|완판|품절\s?대란|인기\s?폭발|초대박|판매\s?(?:돌파|신화)"
    r"|(?:누적\s?)?판매(?:량)?\s?\d[\d,.]*\s?[만억]?\s?(?:(?:개|병|팩|봉|세트|건|장)\s?(?:돌파)?|돌파)"
    r"|(?<![\d,.])\d[\d,.]*\s?[만억]?\s?(?:개|병|팩|봉|세트|건|장)\s?(?:판매|돌파)"
    r"|재구매율\s?\d+\s?%|(?<!\d)\d+\s?관왕|[가-힣]{0,8}상\s?수상|수상\s?(?:경력|작|제품|내역)"
    r"|어워드|award",
    re.IGNORECASE)
_GUARANTEE = re.compile(
    r"100\s?%\s?(?:환불|교환|반품|만족|보장|보상)(?:\s?(?:보장|보증|책임))?"
    r"|(?:(?<!\d)\d+\s?(?:년|개월)간?\s?)?무상\s?(?:a/?s|수리|교체|보증)"
    r"|(?<!\d)\d+\s?(?:년|개월)간?\s?(?:품질\s?)?(?:보증|보장)(?!\s?기준)"
    r"|(?:환불|교환|반품|품질|효과|만족|성능|효능|정품)\s?(?:을\s|를\s)?(?:보장|보증)(?!\s?기준)"
    r"|무조건\s?(?:환불|교환|반품)|평생\s?(?:보증|a/?s|무상\s?수리)|전액\s?환불"
    r"|(?:불만족|효과\s?없으면|마음에\s?안\s?들면)\s?(?:시\s)?(?:전액\s)?환불"
    r"|무료\s?(?:반품|교환)",
    re.IGNORECASE)


@functools.cache
def _cert_re() -> re.Pattern[str]:
    """A certification as written, any vocab.yaml spelling, "인증" after it included."""
    patterns = (p for cert in vocab.certifications().values() for p in cert.patterns)
    return re.compile(rf"(?<![a-z가-힣])(?:{alt(patterns)})(?![a-z])(?:\s?인증)?", re.IGNORECASE)


_BRAND_CUE = re.compile(
    r"(?:브랜드|제조사|제조원|제조업체|제조업소|제조자|판매원|판매사|수입원|수입사|수입자|생산자|메이커)"
    r"(?:\s?(?:는|은|:|-)\s?|\s)(?P<name>(?:\(주\)\s?)?[가-힣A-Za-z&][가-힣A-Za-z0-9&.]*(?:\s?\(주\))?)")
_WORD_START = r"(?<![가-힣A-Za-z0-9&])"  # names start at a word start (keeps the scan linear)
_BRAND_CORP = re.compile(r"(?:\(주\)|주식회사|농업회사법인|영농조합법인)\s?(?P<name>[가-힣A-Za-z0-9&]+)"
                         rf"|{_WORD_START}(?P<name2>[가-힣A-Za-z0-9&]+)\s?\(주\)"
                         r"(?=[.,!?)\n]|\s*$|에서|의|은|는|이|가|을|를|와|과|제품|\s(?:제품|상품))")
# "(주)" right before a name prefixes that name ("판매업자는 (주)소담랩", where the name may be
# blanked as protected): the word before is then no company, so the suffix form "소담랩(주)" counts
# only when punctuation, a particle or the end follows.


@functools.cache
def _brand_made_re() -> re.Pattern[str]:
    """"X에서 만든" names a maker only when X ends in a company word ("가마솥에서 만든" does not)."""
    company = "|".join(vocab.brand_words().company)
    return re.compile(rf"{_WORD_START}(?P<name>[가-힣A-Za-z][가-힣A-Za-z0-9&]*(?:{company}))"
                      r"에서\s(?:직접\s)?(?:만든|만들었|제조한|생산한|나온)")


@functools.cache
def _not_brands() -> frozenset[str]:
    return frozenset(vocab.brand_words().not_brands)


_BRAND_TAIL = re.compile(r"(?:에서|의|이|가|은|는|을|를|와|과|제품|상품|입니다|이며|이고)$")
_PHONE = re.compile(r"(?<![\d-])(?:0\d{1,2}[-.)\s]\s?\d{3,4}[-.\s]\d{4}|01[016789]-?\d{3,4}-?\d{4}"
                    r"|1[5-9]\d{2}-\d{4}|0\d{9,10})(?![\d-])")
_URL = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE)


# ------------------------------------------------------------------ extraction
def _number(text: str) -> float | None:
    body = re.sub(r"[\s,]", "", text)
    try:
        return float(body)
    except ValueError:
        value = parse_korean_number(body)
        return float(value) if value is not None else None


def _knum_ok(text: str, unit: str) -> bool:
    """A Korean numeral counts only when it is clearly a number ("오백", "삼십"), not a word."""
    if not re.fullmatch(r"[일이삼사오육칠팔구십백천만억]+", text):
        return True
    if len(text) == 1:
        return text in "천만" and unit == "원"
    return bool(re.search("[십백천만억]", text))


def _num_unit(match: re.Match[str]) -> tuple[str, tuple[frozenset[Key], ...], str] | None:
    """(kind, keys, sub-kind) of one number+unit match, or None when it is not a claim."""
    unit = match["unit"].lower()
    if match["unit"] == "G" and match["a"] in ("2", "3", "4", "5", "6") and match["b"] is None:
        return None  # "5G": a network generation, not five grams
    values = []
    for group in ("a", "b"):
        if match[group] is None:
            continue
        if not _knum_ok(match[group], unit):
            return None
        value = _number(match[group])
        if value is None:
            return None
        values.append((value, match[group]))
    if unit == "원":
        return "price", tuple(frozenset({("krw", round(v))}) for v, _ in values), "krw"
    if unit in _PCT_UNITS:
        return "percent", tuple(frozenset({("pct", v)}) for v, _ in values), "pct"
    if unit in _PERIOD_UNITS:
        return "date", tuple(period_keys(v, _PERIOD_UNITS[unit]) for v, _ in values), "period"
    keys = []
    for value, raw in values:
        found = {("raw", value, unit)}
        base = _base_quantity(f"{raw}{match['unit']}")
        if base is not None:
            found.add(("qty", round(base[0], 3), base[1]))
        keys.append(frozenset(found))
    return "quantity", tuple(keys), "qty"


@functools.lru_cache(maxsize=4096)
def _base_quantity(text: str) -> tuple[float, str] | None:
    return parse_quantity(text)


def period_keys(value: float, unit: str) -> frozenset[Key]:
    """Keys of a period, so 1년 = 12개월 and 2주 = 14일."""
    keys: set[Key] = {("period", value, unit)}
    if unit in ("년", "개월"):
        keys.add(("months", value * (12 if unit == "년" else 1)))
    elif unit in ("주", "일"):
        keys.add(("days", value * (7 if unit == "주" else 1)))
    return frozenset(keys)


def date_keys(day: dt.date) -> frozenset[Key]:
    """Keys a full date supports: itself, its year-month and its month-day."""
    return frozenset({("date", day.isoformat()), ("ym", day.year, day.month),
                      ("md", day.month, day.day)})


def _date(match: re.Match[str], pattern: re.Pattern[str]) -> Key | None:
    try:
        if pattern is _DATE_YMD:
            year = int(match["y"]) if match["y"] else 2000 + int(match["y2"])
            day = dt.date(year, int(match["m"] or match["m2"]), int(match["d"] or match["d2"]))
            return ("date", day.isoformat())
        if pattern is _DATE_YM:
            month = int(match["m"] or match["m2"])
            return ("ym", int(match["y"]), month) if 1 <= month <= 12 else None
        dt.date(2024, int(match["m"]), int(match["d"]))  # validity only (2024 has 2월 29일)
        return ("md", int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _brand_mentions(norm: str) -> list[Mention]:
    out = []
    for pattern in (_BRAND_CUE, _BRAND_CORP, _brand_made_re()):
        for m in pattern.finditer(norm):
            group = "name" if m["name"] else "name2"
            start, name = m.start(group), m[group]
            if pattern is _BRAND_CORP:  # keep "(주)" in the span: the shop writes it that way
                start, name = m.start(), m.group()
            name = name.rstrip(".")
            while (tail := _BRAND_TAIL.search(name)) and tail.start() > 0:
                name = name[:tail.start()]
            core = squash(name)
            if (_BRAND_TAIL.fullmatch(name) or len(core) < 2 or core in _not_brands()
                    or place_keys(core) or core[0].isdigit()):
                continue
            out.append(Mention(start, start + len(name.rstrip()), "brand", needle=core))
    return out


def _number_mentions(norm: str) -> list[Mention]:
    out = [Mention(m.start(), m.end(), "price" if m["unit"] == "원" else "quantity",
                   (frozenset({("malformed", m.group())}),))
           for m in _unit_res()[1].finditer(norm) if not _WELL_FORMED.fullmatch(m["num"])]
    for m in _unit_res()[0].finditer(norm):
        parsed = _num_unit(m)
        if parsed is None:
            continue
        kind, keys, sub = parsed
        end = m.end()
        if sub in ("krw", "pct") and (cue := _DISCOUNT_AFTER.match(norm, end)):
            kind, end = "price", cue.end()
            keys = tuple(frozenset({("discount_" + sub, k[1]) for k in ks}) for ks in keys)
        out.append(Mention(m.start(), end, kind, keys))
    for pattern in (_DATE_YMD, _DATE_YM, _DATE_MD):
        for m in pattern.finditer(norm):
            key = _date(m, pattern)
            if key is not None:
                out.append(Mention(m.start(), m.end(), "date", (frozenset({key}),)))
    for m in _LEAD_TIME.finditer(norm):
        out.append(Mention(m.start(), m.end(), "date", needle=squash(m.group())))
    for m in _FREE_SHIPPING.finditer(norm):
        out.append(Mention(m.start(), m.end(), "price", (frozenset({("free_shipping",)}),)))
    for m in _PROMO.finditer(norm):
        promo = ("promo", re.sub(r"\s", "", m.group()))
        out.append(Mention(m.start(), m.end(), "price", (frozenset({promo}),)))
    return out


def _phrase_mentions(norm: str, corpus: bool) -> list[Mention]:
    out = []
    for kind, pattern in (("guarantee", _GUARANTEE), ("ranking", _RANKING)):
        for m in pattern.finditer(norm):
            keys = (frozenset({("free_return",)}),) if m.group().startswith("무료") else ()
            out.append(Mention(m.start(), m.end(), kind, keys, needle=squash(m.group())))
    for m in _cert_re().finditer(norm):
        canon = _cert_canon(m.group())
        negated = negated_after(norm, m.end())
        if canon is not None and (corpus or not negated):
            out.append(Mention(m.start(), m.end(), "certification", (frozenset({("cert", canon)}),),
                               negated=negated))
    return out


# Where two mentions overlap, the kind earlier here wins (then the longer span).
_PRIORITY = {"contact": 0, "guarantee": 0, "ranking": 1, "certification": 2, "brand": 3, "date": 4,
             "price": 5, "allergen_presence": 6, "allergen_absence": 6, "origin": 7, "percent": 8,
             "quantity": 9}


def _phone_mentions(norm: str) -> list[Mention]:
    """Phone numbers: a number the text gives customers to call is a fact like any other."""
    return [Mention(m.start(), m.end(), "contact",
                    (frozenset({("phone", re.sub(r"\D", "", m.group()))}),))
            for m in _PHONE.finditer(norm)]


def _blank(norm: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(norm)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _protected_spans(norm: str, protect: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of record strings quoted verbatim (the product name "비타민C 1000", a model code),
    plus phone numbers and URLs: numbers inside them are identifiers, not claims."""
    spans = [m.span() for p in (_PHONE, _URL) for m in p.finditer(norm)]
    for value in protect:
        pattern = _verbatim(value or "")
        if pattern is not None:
            spans += [m.span() for m in pattern.finditer(norm)]
    return spans


@functools.lru_cache(maxsize=4096)
def _verbatim(value: str) -> re.Pattern[str] | None:
    """Pattern for a record string quoted in copy; an ASCII letter or digit at either end must
    not continue into the text ("500g" is not inside "1,500g")."""
    value = unicodedata.normalize("NFKC", value).strip()
    if len(value) < 2:
        return None
    head = r"(?<![A-Za-z0-9.,])" if value[0].isalnum() and value[0].isascii() else ""
    tail = r"(?![A-Za-z0-9])" if value[-1].isalnum() and value[-1].isascii() else ""
    return re.compile(head + re.escape(value) + tail, re.IGNORECASE)


def extract_claims(text: str, *, protect: Iterable[str] = (),
                   corpus: bool = False) -> list[Mention]:
    """Every claim in `text`, non-overlapping, in order of position, spans in `text`'s characters.

    `protect`: record strings whose verbatim occurrences are skipped (names, model codes).
    `corpus=True` reads a record field rather than copy: bare place names count as origins
    ("중국"), and negated certifications are kept, marked `negated`, so facts can skip them."""
    if not text:
        return []
    norm, starts, ends = nfkc_map(text)
    phones = _phone_mentions(norm)
    norm = _blank(norm, _protected_spans(norm, protect))
    found = (_phrase_mentions(norm, corpus) + _brand_mentions(norm) + _number_mentions(norm)
             + allergen_mentions(norm, corpus) + origin_mentions(norm, corpus) + phones)
    found.sort(key=lambda c: (_PRIORITY[c.kind], -(c.end - c.start), c.start))
    kept: list[Mention] = []
    taken = bytearray(len(norm))
    for claim in found:
        if claim.end <= claim.start or any(taken[claim.start:claim.end]):
            continue
        taken[claim.start:claim.end] = b"\x01" * (claim.end - claim.start)
        kept.append(claim)
    kept.sort(key=lambda c: c.start)
    return [Mention(starts[c.start], ends[c.end - 1], c.kind, c.keys, c.needle, c.negated, c.field)
            for c in bind(norm, kept)]


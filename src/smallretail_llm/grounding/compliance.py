"""Advertising-rule checks for product copy: 식품표시광고법 제8조 (foods), 화장품법 제13조
(cosmetics), the 건강기능식품 required statement, and generic no-invention rules (certifications,
rankings, guarantees).

Rules are regexes over kiwipiepy morphemes written as "form/TAG" items, so inflected forms
("치료해 줍니다", "낫게 해요", "재생시켜") match, and a negation in the same clause after the
claim ("치료 효과를 주장하지 않습니다", "의약품이 아님", "치료제가 아닙니다") cancels it. Only
sentences that contain a trigger word are tokenized, which keeps a check well under a millisecond
for clean copy.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel

from smallretail_llm.core.categories import get_category
from smallretail_llm.core.record import ProductRecord

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

log = logging.getLogger(__name__)

LAW_FOOD = "식품 등의 표시·광고에 관한 법률 제8조"
LAW_COSMETICS = "화장품법 제13조"
LAW_HEALTH_STATEMENT = "식품 등의 표시·광고에 관한 법률 제4조 (건강기능식품 표시기준)"
LAW_FAIR_AD = "표시·광고의 공정화에 관한 법률 제3조"

FOODS = frozenset({"processed_food", "agri_food", "health_food"})
ORDINARY_FOODS = frozenset({"processed_food", "agri_food"})
COSMETICS = frozenset({"cosmetics"})

REQUIRED_STATEMENT = "질병의 예방 및 치료를 위한 의약품이 아님"
_STATEMENT_RE = re.compile(r"질병의?예방(?:및|과|이나)?치료를?위한의약품이아(?:님|닙니다|니)")


class ComplianceViolation(BaseModel):
    """One advertising-rule breach. `start`/`end` are character offsets into the checked text
    and `text` is that slice; for `required_statement` the span is the empty end of the text
    (where the statement should go) and `text` is the missing statement."""

    start: int
    end: int
    text: str
    rule: str
    law: str


# --- pattern language -------------------------------------------------------------------------
# A pattern is a tuple of elements: "forms:TAGS" (forms is a regex alternation, TAGS a key of
# _TAGS or a raw tag regex) or "~n" (up to n arbitrary morphemes in between).
_TAGS = {
    "N": r"NN[GPB]|NR|SL|XR",
    "V": r"(?:VV|VA|VX|XSV|XSA)(?:-[IR])?",
    "VV": r"VV(?:-[IR])?",
    "*": r"[^\s/]+",
}


def _compile(*elements: str) -> re.Pattern[str]:
    out = ""
    for element in elements:
        if element.startswith("~"):
            out += rf"(?: \S+){{0,{int(element[1:])}}}"
            continue
        forms, _, tags = element.rpartition(":")
        item = rf"(?<!\S)(?:{forms})/(?:{_TAGS.get(tags, tags)})(?!\S)"
        out += f" {item}" if out else item
    return re.compile(out, re.IGNORECASE)


@dataclass(frozen=True)
class _Rule:
    rule: str
    law: str
    categories: frozenset[str] | None  # None: every category
    pattern: re.Pattern[str]
    except_health_food: bool = False
    cert: str | None = None  # invented_certification: the certification group it names


def _rule(rule: str, law: str, categories: frozenset[str] | None, *elements: str,
          except_health_food: bool = False, cert: str | None = None) -> _Rule:
    return _Rule(rule, law, categories, _compile(*elements), except_health_food, cert)


_DISEASES = (r"당뇨\w*|고혈압|저혈압|암|관절염|골다공증|치매|변비|비만|위염|간염|감기|독감|아토피|"
             r"불면증|우울증|빈혈|통풍|심장병|뇌졸중|동맥경화|고지혈증|천식|비염|질병|질환|염증")
_MARKERS = r"혈압|혈당|콜레스테롤|중성지방|요산"

# Order is priority: where two matches overlap, the earlier rule's violation is kept.
_RULES: tuple[_Rule, ...] = (
    # 식품표시광고법 제8조: disease prevention/treatment, medicine-likeness, fake 건강기능식품.
    _rule("disease_claim", LAW_FOOD, FOODS, r"치료\w*|완치|치유|항암\w*|특효|예방:N"),
    _rule("disease_claim", LAW_FOOD, FOODS, "낫:VV"),
    _rule("disease_claim", LAW_FOOD, FOODS, f"병|{_DISEASES}:N", "~3", "고치:VV"),
    _rule("disease_claim", LAW_FOOD, FOODS, f"{_DISEASES}:N", "~2",
          r"좋|효과|효능|효험|도움|개선|탁월|직빵|그만|특효:*"),
    _rule("disease_claim", LAW_FOOD, FOODS, f"{_MARKERS}:N", "~2",
          r"낮추|내리|떨어뜨리|떨어트리|정상화:*"),
    _rule("medicine_like", LAW_FOOD, FOODS, r"약효|처방\w*|특효약|명약|만병통치\w*|영약|보약|신약|양약:N"),
    _rule("medicine_like", LAW_FOOD, FOODS, "약:NNG", "처럼|같이:JKB"),
    _rule("fake_health_functional", LAW_FOOD, ORDINARY_FOODS, "건강:N", "기능:N", "식품:N"),
    _rule("fake_health_functional", LAW_FOOD, ORDINARY_FOODS, r"건강기능식품|기능성\w*:N"),
    _rule("fake_health_functional", LAW_FOOD, ORDINARY_FOODS, "기능:N", "성:XSN"),
    _rule("fake_health_functional", LAW_FOOD, ORDINARY_FOODS, r"면역\w*:N", "~1",
          r"증진|강화|향상|높이|올리|개선:*"),
    _rule("fake_health_functional", LAW_FOOD, ORDINARY_FOODS, f"{_MARKERS}|체지방:N", "~1",
          r"조절|개선|감소:N"),
    _rule("testimonial", LAW_FOOD, FOODS, r"의사|한의사|약사|전문의|의학\w*|교수|박사|영양사:N",
          "~2", r"추천|권장|극찬|인정|보증:*"),
    _rule("testimonial", LAW_FOOD, FOODS, r"체험담|체험기:N"),
    _rule("testimonial", LAW_FOOD, FOODS, "체험:N", r"사례|담|기|후기:*"),
    _rule("testimonial", LAW_FOOD, FOODS, "효과:N", "~1", "보:VV"),
    # 화장품법 제13조: medicine-like claims.
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS,
          r"치료\w*|완치|치유|소독|살균|멸균|발모|양모|육모|지방분해|체중감량:N"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "낫:VV"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, r"피부|세포|진피|손상:N", "~1", "재생:N"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "재생:N", r"시키|되|하:XSV"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "발:N", "모:N"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "지방:N", "분해:N"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "체중:N", r"감량|감소:N"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "살:N", "~1", "빠지:VV"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "셀룰라이트:N", "~1", r"분해|제거:*"),
    _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS,
          r"염증|아토피|습진|건선|피부염|무좀|상처|흉터:N", "~2",
          r"완화|개선|억제|진정|제거|없애|가라앉히|아물:*"),
    # 화장품법 제13조: functional claims need 기능성 심사 (checked against the record below).
    _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, r"미백|화이트닝:N"),
    _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, "주름:N", "~1",
          r"개선|완화|감소|제거|예방|펴|없애:*"),
    _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, r"자외선|UV:N", "~1",
          r"차단|보호|막:*"),
    _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, r"SPF|PA:SL"),
    # Generic: certifications the record does not hold.
    _rule("invented_certification", LAW_FAIR_AD, None, r"KC|KCC:SL", "~1",
          r"인증\w*|마크|안전인증|적합성\w*:N", cert="kc"),
    _rule("invented_certification", LAW_FAIR_AD, None, r"HACCP|해썹|햅썹:N", cert="haccp"),
    _rule("invented_certification", LAW_FAIR_AD, None, "안전관리인증:N", cert="haccp"),
    _rule("invented_certification", LAW_FAIR_AD, None, r"유기농\w*|유기가공\w*|오가닉|organic:N",
          cert="organic"),
    _rule("invented_certification", LAW_FAIR_AD, None, "유기:N", r"농산물|재배|인증|가공:N",
          cert="organic"),
    _rule("invented_certification", LAW_FAIR_AD, None, r"무|저:XPN", "농약:N", cert="pesticide_free"),
    _rule("invented_certification", LAW_FAIR_AD, None, r"무농약|저농약:N", cert="pesticide_free"),
    _rule("invented_certification", LAW_FAIR_AD, None, "친환경:N", "~2", r"인증\w*:N", cert="eco"),
    _rule("invented_certification", LAW_FAIR_AD, None, "친:XPN", "환경:N", "~2", r"인증\w*:N",
          cert="eco"),
    _rule("invented_certification", LAW_FAIR_AD, None, "FDA:SL", cert="fda"),
    _rule("invented_certification", LAW_FAIR_AD, None, "c?GMP:SL", cert="gmp"),
    _rule("invented_certification", LAW_FAIR_AD, None, "ISO:SL", cert="iso"),
    _rule("invented_certification", LAW_FAIR_AD, None, r"식약처|식품의약품안전처|식약청:N", "~2",
          r"인증|인정|승인|허가|검증:*", except_health_food=True, cert="mfds"),
    # Generic: rankings, awards, popularity claims.
    _rule("ranking_or_award", LAW_FAIR_AD, None, r"대상|금상|은상|동상|우수상|상:N", "~2", "수상:N"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, r"\d+:SN", "위:N"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, "1:SN", "등:N"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, r"no\.?:SL", "~1", "1:SN"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, "넘버:N", r"원|1:*"),
    _rule("ranking_or_award", LAW_FAIR_AD, None,
          r"넘버원|베스트셀러|완판|랭킹|판매왕|주문폭주|어워드|어워즈|그랑프리|금상|최우수상:N"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, "주문:N", "폭주:N"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, "품절:N", "대란:N"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, "수상:N", r"경력|작|제품|내역|이력:N"),
    _rule("ranking_or_award", LAW_FAIR_AD, None, "수상:N", "하:XSV", "었|았:EP"),
    # Generic: guarantees.
    _rule("guarantee", LAW_FAIR_AD, None, r"환불|효과|만족|결과|반품|교환:N", "~1", r"보장|보증:N"),
    _rule("guarantee", LAW_FAIR_AD, None, "100:SN", "%:SW", "~1", r"환불|만족|보장|효과:N"),
    _rule("guarantee", LAW_FAIR_AD, None, "무조건:*", "~1", r"환불|교환|반품:N"),
    _rule("guarantee", LAW_FAIR_AD, None, "평생:N", r"보증|보장:N"),
)

# Spans that look like claims but are safety wording or caution notices; matches inside are dropped.
_SAFE: tuple[re.Pattern[str], ...] = (
    _compile(r"식중독|질식|변질|사고|화재|부상|화상|오염|곰팡이|산패|결로|감전|누전|충돌|파손:N",
             "~1", "예방:N"),
    _compile(r"치료\w*:N", "~1", "중:NNB"),
    _compile(r"치료\w*:N", "~2", r"받|필요:*"),
)

# Surface words that can start a match; sentences without any are not tokenized at all.
_TRIGGER = re.compile(
    r"치료|완치|치유|항암|특효|예방|낫|나[아았으을]|고[치쳐칠]|당뇨|혈압|혈당|암|관절염|골다공|치매|변비|"
    r"비만|위염|간염|감기|독감|아토피|불면|우울|빈혈|통풍|심장병|뇌졸중|동맥경화|고지혈|천식|비염|질병|"
    r"질환|염증|콜레스테롤|중성지방|요산|약효|처방|보약|명약|신약|양약|영약|만병통치|약\s?(?:처럼|같)|"
    r"건강\s?기능|기능성|면역|체지방|의사|약사|전문의|의학|교수|박사|영양사|체험|효과\S*\s*(?:봤|보았|보셨|봐|보고|보는|볼)|"
    r"재생|소독|살균|멸균|발모|양모|육모|지방|체중|살이|살\s?빠|셀룰라이트|습진|건선|피부염|무좀|상처|"
    r"흉터|미백|화이트닝|주름|자외선|UV|SPF|PA|KC|HACCP|해썹|햅썹|안전관리인증|유기|오가닉|organic|농약|"
    r"친환경|FDA|GMP|ISO|식약|식품의약품안전처|\d\s*위|1\s*등|no|넘버|베스트셀러|완판|랭킹|판매왕|폭주|대란|"
    r"어워드|어워즈|그랑프리|금상|최우수상|수상|보장|보증|무조건",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")
_SURROGATE = re.compile("[\ud800-\udfff]")  # Kiwi cannot encode lone surrogates

_NEGATORS = {("않", "VX"), ("아니", "VCN"), ("못하", "VX"), ("못", "MAG"), ("안", "MAG"),
             ("말", "VX"), ("없", "VA"), ("금지", "NNG")}


class _Morph(NamedTuple):
    form: str
    tag: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def _kiwi() -> Kiwi:
    """One analyzer per process: building it loads the model (about a second)."""
    from kiwipiepy import Kiwi

    return Kiwi(load_typo_dict=False, load_multi_dict=False)


@functools.lru_cache(maxsize=4096)
def _morphemes(sentence: str) -> tuple[_Morph, ...]:
    """Morphemes of one sentence (cached: copy repeats caution lines and statements)."""
    return tuple(_Morph(t.form.replace(" ", "_"), t.tag, t.start, t.start + t.len)
                 for t in _kiwi().tokenize(sentence))


def _sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pieces; a claim and its negation live in one sentence."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append((start, text[start:match.start()]))
        start = match.end()
    pieces.append((start, text[start:]))
    return [(offset, piece) for offset, piece in pieces if piece.strip()]


def _negated(morphs: tuple[_Morph, ...], last: int) -> bool:
    """True when the clause that carries the claim is negated after it ("…하지 않습니다",
    "…이 아님"). Scans to the end of the clause: a final ending, sentence punctuation or a
    connective ending that is not followed by an auxiliary verb."""
    for k in range(last + 1, min(len(morphs), last + 14)):
        form, tag = morphs[k].form, morphs[k].tag
        nxt = morphs[k + 1] if k + 1 < len(morphs) else None
        if (form, tag) in _NEGATORS:
            # "치료뿐 아니라 예방까지" is additive, not a negation.
            return not (form == "아니" and nxt is not None and nxt.form == "라")
        if tag in ("SF", "EF"):
            return False
        if tag == "EC" and (nxt is None or not nxt.tag.startswith("VX")):
            return False
    return False


def _category(record: ProductRecord) -> str:
    """The record's category code; Korean labels ("가공식품") are resolved through the specs."""
    code = (record.category or "").strip()
    try:
        return get_category(code).code
    except (KeyError, ValueError, OSError):  # unknown code or unreadable specs: keep the raw code
        return code


_NEGATIVE_VALUE = re.compile(r"아니|아님|없음|해당\s*없|미인증|미해당|비대상|^\s*(?:no|n|x|무|-)\s*$",
                             re.IGNORECASE)


def _affirmative(value: str) -> bool:
    """A notice value that says yes ("예", "심사필", a certificate number), not "해당없음"."""
    return bool(value.strip()) and not _NEGATIVE_VALUE.search(value)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


# Certification groups and the names that back them in a record.
_CERT_NAMES: dict[str, tuple[str, ...]] = {
    "kc": ("kc",),
    "haccp": ("haccp", "해썹", "안전관리인증"),
    "organic": ("유기농", "유기가공", "organic", "오가닉"),
    "pesticide_free": ("무농약", "저농약"),
    "eco": ("친환경", "유기농", "무농약"),
    "fda": ("fda",),
    "gmp": ("gmp",),
    "iso": ("iso",),
    "mfds": ("식약처", "식품의약품안전처", "식약청"),
}
_CERT_NOTICE_KEYS = {"kc_certification": "kc"}  # notice fields that are themselves the answer


def _names_in(names: tuple[str, ...], text: str) -> bool:
    """Korean names match as substrings; Latin ones as whole words ("iso" is not in "isomalt")."""
    return any(re.search(rf"(?<![a-z]){name}(?![a-z])", text) if name.isascii() else name in text
               for name in names)


def _held_certifications(record: ProductRecord) -> set[str]:
    """Certification groups the record backs: listed in `certifications`, named by an
    affirmative notice value (원재료 "유기농 설탕"), or an affirmative `kc_certification`."""
    texts = [_norm(c) for c in record.certifications]
    held = set()
    for key, value in record.notice.items():
        if isinstance(value, str) and _affirmative(value):
            texts.append(_norm(value))
            if key in _CERT_NOTICE_KEYS:
                held.add(_CERT_NOTICE_KEYS[key])
    held.update(group for group, names in _CERT_NAMES.items()
                if any(_names_in(names, text) for text in texts))
    return held


_FUNCTIONS = {"미백": ("미백", "화이트닝"), "주름": ("주름",), "자외선": ("자외선", "uv", "spf", "pa")}


def _approved_functions(record: ProductRecord) -> set[str]:
    """Cosmetic functions the record says passed 기능성 심사: a "기능성화장품" certification or
    an affirmative `functional_review` notice. Naming functions there limits the approval to them."""
    texts = [_norm(c) for c in record.certifications if "기능성" in c]
    review = record.notice.get("functional_review", "")
    if isinstance(review, str) and _affirmative(review):
        texts.append(_norm(review))
    if not texts:
        return set()
    named = {f for f, words in _FUNCTIONS.items() if any(w in t for w in words for t in texts)}
    return named or set(_FUNCTIONS)


def _applies(rule: _Rule, category: str) -> bool:
    if rule.except_health_food and category == "health_food":
        return False
    return rule.categories is None or category in rule.categories


def _violations(text: str, record: ProductRecord, category: str) -> list[ComplianceViolation]:
    rules = [r for r in _RULES if _applies(r, category)]
    held = _held_certifications(record)
    approved = _approved_functions(record) if category in COSMETICS else set()
    found: list[tuple[int, int, int, _Rule]] = []  # (rule priority, start, end, rule)
    for offset, sentence in _sentences(_SURROGATE.sub("\ufffd", text)):  # same length
        if not _TRIGGER.search(sentence):
            continue
        morphs = _morphemes(sentence)
        joined = " ".join(f"{m.form}/{m.tag}" for m in morphs)
        starts = list(accumulate((len(m.form) + len(m.tag) + 2 for m in morphs[:-1]), initial=0))
        safe = [_span(starts, m) for p in _SAFE for m in p.finditer(joined)]
        for priority, rule in enumerate(rules):
            for match in rule.pattern.finditer(joined):
                first, last = _span(starts, match)
                if any(a <= first and last <= b for a, b in safe) or _negated(morphs, last):
                    continue
                start, end = offset + morphs[first].start, offset + morphs[last].end
                if _predicate_end(morphs, last):  # "치료" -> "치료해", "낫" -> "낫게"
                    while end < len(text) and "가" <= text[end] <= "힣":
                        end += 1
                if rule.cert is not None and rule.cert in held:
                    continue
                if rule.rule == "cosmetic_functional_unapproved" and any(
                        w in _norm(text[start:end]) for f in approved for w in _FUNCTIONS[f]):
                    continue
                found.append((priority, start, end, rule))
    kept: list[ComplianceViolation] = []
    taken: list[tuple[int, int]] = []  # kept spans, sorted and disjoint: overlap test by bisect
    for _, start, end, rule in sorted(found, key=lambda f: (f[0], f[1])):
        i = bisect.bisect_left(taken, (start, -1))
        if (i < len(taken) and taken[i][0] < end) or (i > 0 and taken[i - 1][1] > start):
            continue
        taken.insert(i, (start, end))
        kept.append(ComplianceViolation(start=start, end=end, text=text[start:end],
                                        rule=rule.rule, law=rule.law))
    if category == "health_food" and not _STATEMENT_RE.search(re.sub(r"[^가-힣]", "", text)):
        kept.append(ComplianceViolation(start=len(text), end=len(text), text=REQUIRED_STATEMENT,
                                        rule="required_statement", law=LAW_HEALTH_STATEMENT))
    return sorted(kept, key=lambda v: (v.start, v.end, v.rule))


def _predicate_end(morphs: tuple[_Morph, ...], last: int) -> bool:
    """The match ends in a verb or an ending, or in a noun that a verb suffix follows ("예방+하")."""
    nxt = morphs[last + 1].tag if last + 1 < len(morphs) else ""
    return morphs[last].tag[:2] in ("VV", "VA", "VX", "XS", "EP", "EC", "EF") or nxt in ("XSV", "XSA")


def _span(starts: list[int], match: re.Match[str]) -> tuple[int, int]:
    """Indices of the first and last morpheme a match over the joined string covers."""
    return (bisect.bisect_right(starts, match.start()) - 1,
            bisect.bisect_right(starts, match.end() - 1) - 1)


def check_compliance(text: str, record: ProductRecord, *,
                     require_statement: bool = True) -> list[ComplianceViolation]:
    """Advertising-rule violations in `text` for the record's category, sorted by position.

    `require_statement=False` skips the 건강기능식품 required-statement check (for short Q&A
    answers rather than product copy). Never raises: on bad input it logs and returns []."""
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        category = _category(record)
        found = _violations(text, record, category)
    except Exception:  # a checker bug must not take down generation; log it loudly
        log.exception("광고 규정 검사 중 오류가 났습니다 (record=%s)", getattr(record, "key", "?"))
        return []
    if not require_statement:
        found = [v for v in found if v.rule != "required_statement"]
    quoted = _record_quotes(text, record)
    return [v for v in found if not any(a <= v.start and v.end <= b for a, b in quoted)]


def _record_quotes(text: str, record: ProductRecord) -> list[tuple[int, int]]:
    """Spans of `text` that copy a record value verbatim. The shop's own 고시 text is the law's
    required disclosure ("당뇨치료제 복용 시 섭취에 주의"), not an advertising claim; the product
    record, not the copy, is where that text is owned and audited."""
    values = [*record.notice.values(), record.storage or "", record.cross_contact or ""]
    spans = []
    for value in values:
        for piece in re.split(r"(?<=[.!?])\s+|\n", value):
            piece = piece.strip()
            if len(piece) < 8:
                continue
            start = text.find(piece)
            while start != -1:
                spans.append((start, start + len(piece)))
                start = text.find(piece, start + 1)
    return spans

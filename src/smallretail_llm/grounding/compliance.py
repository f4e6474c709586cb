"""Advertising-rule checks for product copy: 식품표시광고법 제8조 (foods), 화장품법 제13조
(cosmetics), the 건강기능식품 required statement, and generic no-invention rules (certifications,
rankings, guarantees). The rules are `compliance_rules`; this module is the engine that applies
them, and what a record backs (certifications: vocab.yaml `certifications`).

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
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel

from smallretail_llm.core import vocab
from smallretail_llm.core.categories import get_category
from smallretail_llm.core.korean import sentence_spans, split_sentences
from smallretail_llm.core.record import ProductRecord
from smallretail_llm.grounding.compliance_rules import (
    COSMETICS,
    LAW_HEALTH_STATEMENT,
    SAFE,
    TRIGGER,
    Rule,
    rules,
)

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

log = logging.getLogger(__name__)

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
    return [(start, text[start:end]) for start, end in sentence_spans(text, ends=".!?。")]


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


@functools.cache
def _cert_notice_keys() -> dict[str, str]:
    """Notice fields that are themselves the answer -> their certification ("kc_certification")."""
    return {field: code for code, cert in vocab.certifications().items()
            for field in cert.notice_fields}


def _names_in(names: tuple[str, ...], text: str) -> bool:
    """Korean names match as substrings; Latin ones as whole words ("iso" is not in "isomalt")."""
    return any(re.search(rf"(?<![a-z]){name}(?![a-z])", text) if name.isascii() else name in text
               for name in names)


def _held_certifications(record: ProductRecord) -> set[str]:
    """Certification groups the record backs: listed in `certifications`, named by an
    affirmative notice value (원재료 "유기농 설탕"), or an affirmative `kc_certification`."""
    texts = [_norm(c) for c in record.certifications]
    held = set()
    notice_keys = _cert_notice_keys()
    for key, value in record.notice.items():
        if isinstance(value, str) and _affirmative(value):
            texts.append(_norm(value))
            if key in notice_keys:
                held.add(notice_keys[key])
    held.update(code for code, cert in vocab.certifications().items()
                if any(_names_in(cert.record_names, text) for text in texts))
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


def _applies(rule: Rule, category: str) -> bool:
    if rule.except_health_food and category == "health_food":
        return False
    return rule.categories is None or category in rule.categories


def _violations(text: str, record: ProductRecord, category: str) -> list[ComplianceViolation]:
    applied = [r for r in rules() if _applies(r, category)]
    held = _held_certifications(record)
    approved = _approved_functions(record) if category in COSMETICS else set()
    found: list[tuple[int, int, int, Rule]] = []  # (rule priority, start, end, rule)
    for offset, sentence in _sentences(_SURROGATE.sub("\ufffd", text)):  # same length
        if not TRIGGER.search(sentence):
            continue
        morphs = _morphemes(sentence)
        joined = " ".join(f"{m.form}/{m.tag}" for m in morphs)
        starts = list(accumulate((len(m.form) + len(m.tag) + 2 for m in morphs[:-1]), initial=0))
        safe = [_span(starts, m) for p in SAFE for m in p.finditer(joined)]
        for priority, rule in enumerate(applied):
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
        for piece in split_sentences(value):
            piece = piece.strip()
            if len(piece) < 8:
                continue
            start = text.find(piece)
            while start != -1:
                spans.append((start, start + len(piece)))
                start = text.find(piece, start + 1)
    return spans

"""Grounding: is every fact a description or answer states backed by the record or shop policy?

`check_description` and `check_answer` extract claims (`claims.extract_claims`), build the
facts the record and policy support by running the same extractor over their strings plus
their typed fields (price, net content, use-by date, allergens, certifications), and report
each claim without support, the required disclosure fields a style must cover but the text
leaves out, and the advertising-rule violations of `compliance.check_compliance`.

Decisions:
- `existing_description` never supports a claim: a shop audits exactly that text with `check`.
- An allergen absence ("우유 무첨가") needs an explicit absence statement in the record; an
  allergen list says what is in, not what is safe for an allergic customer.
- A required field counts as covered when the text names it (label or alias) or states its value;
  fields the record itself lacks are the catalog's problem (`categories.missing_required`).
- A hand-off answer ("담당자가 확인 후 답변드리겠습니다") always passes; inside a hand-off sentence a
  reply-time promise ("24시간 안에") is fine, any other fact is still checked.
- On an internal error the text fails closed: one claim of kind "error" (strict=True raises).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable

from pydantic import BaseModel

from smallretail_llm.core import vocab
from smallretail_llm.core.categories import FieldSpec
from smallretail_llm.core.korean import sentence_spans
from smallretail_llm.core.record import NOTE_STYLES, DateFact, NetContent, ProductRecord, ShopPolicy
from smallretail_llm.grounding.claim_fields import POLICY_FIELDS
from smallretail_llm.grounding.claims import (
    Key,
    Mention,
    date_keys,
    extract_claims,
    negated_after,
    squash,
)
from smallretail_llm.grounding.compliance import ComplianceViolation, check_compliance
from smallretail_llm.grounding.facts import Facts, build_facts, category_fields, protected_strings
from smallretail_llm.grounding.reasons import reason

log = logging.getLogger(__name__)


class Claim(BaseModel):
    """One claim of the text that the record and policy do not support. `kind` is one of
    `claims.KINDS` ("error" only when the check itself failed); `field` is the record or policy
    field the sentence states the value as (`claim_fields.FIELDS`), None when it names none."""

    start: int
    end: int
    text: str
    kind: str
    reason: str
    field: str | None = None


class GroundingReport(BaseModel):
    """The verdict on one text: passed only with no unsupported claim, no missing required
    field and no advertising-rule violation."""

    passed: bool
    unsupported_claims: list[Claim]
    missing_required: list[str]
    compliance_violations: list[ComplianceViolation]


REQUIRED_COVERAGE: dict[str, frozenset[str] | None] = {
    "detail": None,  # every required field the record fills
    "bullets": frozenset({"net_content", "origin", "use_by"}),
    "intro": frozenset(),
    "seo": frozenset(),
}
"""Per style, which required disclosure fields the text must state (matched on the field's key
or record_attr); None means all. Short styles cannot list everything, so they need none."""

_NO_STATEMENT = frozenset(REQUIRED_COVERAGE) - set(NOTE_STYLES)
"""Styles too short to carry the 건강기능식품 statement (prompts.NOTE_STYLES decides)."""

HANDOFF_PHRASES: tuple[str, ...] = (
    "담당자가 확인", "담당자 확인", "확인 후 답변", "확인 후 안내", "확인 후 연락", "답변드리겠",
    "답변 드리겠", "연락드리겠", "연락 드리겠", "안내해 드리겠", "안내드리겠", "상담원", "판매자에게 문의",
    "고객센터로 문의", "고객센터에 문의", "고객센터로 연락", "고객센터에 연락", "문의해 주시면",
    "문의 주시면", "정확한 답변을 드리기 어렵", "답변드리기 어렵", "확인이 필요합니다",
)
"""Phrases that hand a question to a person; an answer made of them states no product fact."""

_HANDOFF_SQUASHED = tuple(squash(p) for p in HANDOFF_PHRASES)


def is_handoff(text: str) -> bool:
    """True when the text hands the question to a person ("담당자가 확인 후 답변드리겠습니다")."""
    flat = squash(text or "")
    return any(p in flat for p in _HANDOFF_SQUASHED)


# ------------------------------------------------------------------ support
def _has(keys: frozenset[Key], pool: set[Key]) -> bool:
    if keys & pool:
        return True
    places = vocab.places()
    if ("country", places.imported) in keys:  # "수입산": any country but Korea
        return any(k[0] == "country" and k[1] not in (places.korea, places.imported) for k in pool)
    return False


def _supported(claim: Mention, facts: Facts) -> bool:
    if claim.kind == "allergen_absence":
        name = next(iter(claim.keys[0]))[1]
        return name not in facts.declared_allergens and _has(claim.keys[0], facts.keys)
    pool = facts.keys
    if claim.field is not None:
        bound = facts.fields.get(claim.field)
        if bound or claim.field in POLICY_FIELDS:  # a record field the record lacks: plain rule
            pool = bound or set()
    if claim.keys and all(_has(keys, _region_pool(keys, pool, facts)) for keys in claim.keys):
        return True
    if not claim.needle:
        return False
    return claim.needle in facts.corpus


def _region_pool(keys: frozenset[Key], pool: set[Key], facts: Facts) -> set[Key]:
    """A region stated as origin must be the origin's region when the record's origin names one
    (국내산(전라남도 해남군)); an origin of bare 국내산 leaves the region to the rest of the record
    (the producer's address)."""
    if pool is facts.keys or not any(k[0] == "region" for k in keys):
        return pool
    return pool if any(k[0] == "region" for k in pool) else facts.keys


def _unsupported(text: str, mentions: list[Mention], facts: Facts, record: ProductRecord,
                 policy: ShopPolicy | None) -> list[Claim]:
    return [Claim(start=m.start, end=m.end, text=text[m.start:m.end], kind=m.kind,
                  reason=reason(m, record, policy), field=m.field)
            for m in mentions if not _supported(m, facts)]


def _foreign(text: str, names: Iterable[str], facts: Facts) -> list[Claim]:
    """Other shops' brands, makers, shop names and couriers the text names (the caller passes
    them; a name this record or policy also has is this shop's own)."""
    own = [n for n in {squash(re.sub(r"\([^()]*\)", "", n)) for n in names if n and n.strip()}
           if len(n) >= 2 and n not in facts.corpus]  # "(주)한결주방 (수입자)" -> "한결주방"
    pattern = _names_pattern(tuple(sorted(own)))
    if pattern is None:
        return []
    return [Claim(start=m.start(), end=m.end(), text=m.group(), kind="other_shop",
                  reason="다른 상점의 브랜드·상호·정책입니다: 이 상품과 상점의 기록에 없습니다")
            for m in pattern.finditer(text)]


@functools.lru_cache(maxsize=256)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Names as written in copy: any spacing between their characters, any case."""
    if not names:
        return None
    spelled = sorted((r"\s?".join(map(re.escape, n)) for n in names), key=len, reverse=True)
    return re.compile("|".join(spelled), re.IGNORECASE)


# ------------------------------------------------------------------ required fields
def _field_value(record: ProductRecord, spec: FieldSpec) -> object:
    """The record's value for a notice field; None when the record lacks it. (The shop's CS
    phone in the policy is on every page of the shop, so copy need not repeat it.)"""
    value = record.notice.get(spec.key)
    if isinstance(value, str) and value.strip():
        return value
    if spec.record_attr:
        attr = getattr(record, spec.record_attr, None)
        if attr not in (None, "", [], {}):
            return attr
    return None


@functools.cache
def _field_names(spec: FieldSpec) -> tuple[str, ...]:
    """Squashed names that mean the field in copy: label, aliases, parts of the label."""
    names = {spec.label, *spec.aliases, *re.split(r"\s*(?:[·/(),]|및|또는)\s*", spec.label)}
    return tuple(n for n in map(squash, names) if len(n) >= 2)


def _states(spec: FieldSpec, value: object, flat: str, digits: str,
            mentions: list[Mention]) -> bool:
    """True when the text names the field (label, alias, a label part) or states its value."""
    if any(name in flat for name in _field_names(spec)):
        return True
    claim_keys = {k for m in mentions for keys in m.keys for k in keys}
    if isinstance(value, NetContent):  # the product name may carry it ("이천쌀 10kg")
        return squash(value.display()) in flat or bool(
            {("qty", round(value.value, 3), value.unit),
             ("qty", round(value.total, 3), value.unit)} & claim_keys)
    if isinstance(value, DateFact):
        if value.date and date_keys(value.date) & claim_keys:
            return True
        value = value.text or ""
    if not isinstance(value, str):
        return False
    if spec.type == "phone":
        wanted = re.sub(r"\D", "", value)
        return len(wanted) >= 7 and wanted in digits
    wanted = squash(value)
    return len(wanted) >= 2 and wanted[:12] in flat


def _missing_required(text: str, record: ProductRecord, style: str,
                      mentions: list[Mention]) -> list[str]:
    wanted = REQUIRED_COVERAGE.get(style)
    if style not in REQUIRED_COVERAGE:
        log.warning("알 수 없는 스타일 '%s': 상세설명(detail) 기준으로 필수 항목을 봅니다", style)
    fields = category_fields(record)
    if not fields:
        log.debug("알 수 없는 카테고리 '%s': 필수 항목 검사를 건너뜁니다", record.category)
    flat, digits = squash(text), re.sub(r"\D", "", text)
    missing = []
    for field_spec in (f for f in fields if f.required):
        if wanted is not None and not ({field_spec.key, field_spec.record_attr} & wanted):
            continue
        value = _field_value(record, field_spec)
        if value is not None and not _states(field_spec, value, flat, digits, mentions):
            missing.append(field_spec.key)
    return missing


# ------------------------------------------------------------------ entry points
def _report(unsupported: list[Claim], missing: list[str],
            violations: list[ComplianceViolation]) -> GroundingReport:
    return GroundingReport(passed=not (unsupported or missing or violations),
                           unsupported_claims=unsupported, missing_required=missing,
                           compliance_violations=violations)


def _guarded(check: Callable[[], GroundingReport], strict: bool) -> GroundingReport:
    """Run a check; an internal error fails the text closed instead of raising (unless strict)."""
    try:
        return check()
    except Exception:
        if strict:
            raise
        log.exception("근거 검사 중 오류가 났습니다")
        error = Claim(start=0, end=0, text="", kind="error",
                      reason="검사 중 오류가 나서 문구를 확인하지 못했습니다")
        return _report([error], [], [])


_OUT_OF_STOCK = re.compile(r"재고\s*(?:가|는)?\s*(?:없|부족)|품절")
_IN_STOCK = re.compile(r"재고\s*(?:가|는)?\s*(?:있|남아)|주문\s*가능한\s*재고")


def _stock_claims(text: str, record: ProductRecord) -> list[Claim]:
    """"지금은 재고가 없어요" for a product in stock (or "재고가 있어요" for one sold out, or
    either where the record keeps no stock): the state is a claim like any value, and the one
    a customer acts on."""
    claims = []
    for pattern, out in ((_OUT_OF_STOCK, True), (_IN_STOCK, False)):
        for m in pattern.finditer(text):
            if record.stock is not None and (record.stock == 0) == out:
                continue
            known = "기록에 재고 정보가 없습니다" if record.stock is None else (
                f"기록: 재고 {record.stock}개" if record.stock else "기록: 품절")
            claims.append(Claim(start=m.start(), end=m.end(), text=m.group(), kind="stock",
                                reason=f"재고 상태가 기록과 다릅니다 ({known})"))
    return claims


def _claims(body: str, mentions: list[Mention], facts: Facts, record: ProductRecord,
            policy: ShopPolicy | None, foreign_names: Iterable[str]) -> list[Claim]:
    """Unsupported claims plus other shops' names and stock states the record contradicts; a
    name found both ways is reported once."""
    foreign = _foreign(body, foreign_names, facts)
    claims = [c for c in _unsupported(body, mentions, facts, record, policy)
              if not any(f.start < c.end and c.start < f.end for f in foreign)]
    return sorted(claims + foreign + _stock_claims(body, record), key=lambda c: c.start)


def check_description(text: str, record: ProductRecord, policy: ShopPolicy | None = None,
                      style: str = "detail", *, strict: bool = False,
                      foreign_names: Iterable[str] = ()) -> GroundingReport:
    """Check product copy against the record (and policy): unsupported claims, required fields
    the style must cover, advertising rules. Never raises on bad text; `strict=True` (tests)
    lets internal errors through instead of failing the text closed. `foreign_names`: other
    shops' brands, makers, shop names and couriers (`store.foreign_names`); naming one fails."""

    def run() -> GroundingReport:
        body = text if isinstance(text, str) else ""
        mentions = extract_claims(body, protect=protected_strings(record, policy))
        facts = build_facts(record, policy)
        return _report(_claims(body, mentions, facts, record, policy, foreign_names),
                       _missing_required(body, record, style, mentions),
                       check_compliance(body, record, require_statement=style not in _NO_STATEMENT))

    return _guarded(run, strict)


def _denied_echo(answer: str, claim: Mention, asked: str) -> bool:
    """A number the customer asked about that the answer denies ("1kg짜리는 없습니다") is no
    claim. Allergens are excluded: "우유는 들어 있지 않습니다" is the claim itself."""
    if claim.kind not in ("quantity", "price", "percent", "date"):
        return False
    said = squash(answer[claim.start:claim.end])
    return bool(said) and said in asked and negated_after(answer, claim.end)


def check_answer(answer: str, question: str, record: ProductRecord,
                 policy: ShopPolicy | None = None, *, strict: bool = False,
                 foreign_names: Iterable[str] = ()) -> GroundingReport:
    """Check a customer-service answer: it may state only record and policy facts. A hand-off
    to a person is always acceptable (a reply-time promise in it included), and so is denying
    a number the question asked about ("1kg짜리는 없습니다"). missing_required is always [];
    `foreign_names` as for `check_description`."""

    def run() -> GroundingReport:
        body = answer if isinstance(answer, str) else ""
        asked = squash(question) if isinstance(question, str) else ""
        handoff = [(s, e) for s, e in sentence_spans(body, cover=True) if is_handoff(body[s:e])]
        mentions = [m for m in extract_claims(body, protect=protected_strings(record, policy))
                    if not (m.kind == "date" and any(s <= m.start < e for s, e in handoff))
                    and not _denied_echo(body, m, asked)]
        facts = build_facts(record, policy)
        return _report(_claims(body, mentions, facts, record, policy, foreign_names), [],
                       check_compliance(body, record, require_statement=False))

    return _guarded(run, strict)


def unsupported_in(text: str, record: ProductRecord, policy: ShopPolicy | None = None,
                   foreign_names: Iterable[str] = ()) -> list[Claim]:
    """The claims of `text` that the record and policy do not support (other shops' names
    included), without the required-field and advertising checks (which need the whole text and
    the morpheme analyser): cheap and thread-safe, so a draft can be checked as it is written."""
    mentions = extract_claims(text, protect=protected_strings(record, policy))
    return _claims(text, mentions, build_facts(record, policy), record, policy, foreign_names)

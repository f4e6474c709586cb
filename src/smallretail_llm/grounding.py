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
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from smallretail_llm.categories import FieldSpec, UnknownCategory, get_category
from smallretail_llm.claims import (
    Key,
    Mention,
    cert_keys,
    date_keys,
    extract_claims,
    negated_after,
    sentences,
    squash,
)
from smallretail_llm.compliance import ComplianceViolation, check_compliance
from smallretail_llm.korean import josa
from smallretail_llm.prompts import NOTE_STYLES
from smallretail_llm.record import DateFact, NetContent, ProductRecord, ShopPolicy

log = logging.getLogger(__name__)


class Claim(BaseModel):
    """One claim of the text that the record and policy do not support. `kind` is one of
    `claims.KINDS` ("error" only when the check itself failed)."""

    start: int
    end: int
    text: str
    kind: str
    reason: str


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


# ------------------------------------------------------------------ facts of record + policy
@dataclass
class _Facts:
    keys: set[Key] = field(default_factory=set)
    declared_allergens: set[str] = field(default_factory=set)
    corpus: str = ""  # squashed record and policy strings, for phrase claims (brand, ranking ...)


def _record_strings(record: ProductRecord) -> list[str]:
    values = [record.name, record.brand, record.manufacturer, record.origin, record.storage,
              record.cross_contact, record.use_by.text if record.use_by else None,
              *record.notice.values(), *record.extra.values(), *record.keywords,
              *record.certifications]
    return [v for v in values if isinstance(v, str) and v.strip()]


def _policy_strings(policy: ShopPolicy | None) -> list[str]:
    if policy is None:
        return []
    values = [policy.shop_name, policy.shipping_days, policy.courier, policy.return_policy,
              policy.cs_hours, policy.cs_phone]
    return [v for v in values if isinstance(v, str) and v.strip()]


@functools.lru_cache(maxsize=8192)
def _string_facts(text: str) -> frozenset[Key]:
    """Keys one record or policy string supports (cached: the same record is checked often)."""
    return frozenset(k for m in extract_claims(text, corpus=True) if not m.negated
                     for keys in m.keys for k in keys)


def _facts(record: ProductRecord, policy: ShopPolicy | None) -> _Facts:
    facts = _Facts(declared_allergens=set(record.allergens))
    strings = _record_strings(record) + _policy_strings(policy)
    for text in strings:
        facts.keys.update(_string_facts(text))
    facts.corpus = "\n".join(squash(s) for s in strings)
    keys = facts.keys
    keys.update(("allergen", a) for a in record.allergens)
    for name in record.certifications:
        keys.update(cert_keys(name))
    if _category_code(record) == "health_food":  # every 건강기능식품 is 식약처-approved
        keys.add(("cert", "기능성 인증"))
    if record.use_by and record.use_by.date:
        keys.update(date_keys(record.use_by.date))
    net = record.net_content
    if net is not None:
        keys.update({("qty", round(net.value, 3), net.unit),
                     ("qty", round(net.total, 3), net.unit)})
        if net.count > 1:
            keys.add(("qty", float(net.count), "개"))
    keys.update({("qty", 1.0, "개"), ("qty", 1.0, "매")})  # "1개" is the unit of sale, never a claim
    if record.stock is not None:
        keys.add(("qty", float(record.stock), "개"))
    if record.price_krw is not None:
        keys.add(("krw", record.price_krw))
        if net is not None and net.count > 1 and record.price_krw % net.count == 0:
            keys.add(("krw", record.price_krw // net.count))  # 개당 가격
    if policy is not None:
        fees = (policy.shipping_fee_krw, policy.free_shipping_threshold_krw,
                policy.return_shipping_fee_krw)
        keys.update(("krw", v) for v in fees if v is not None)
        if policy.shipping_fee_krw == 0 or policy.free_shipping_threshold_krw is not None:
            keys.add(("free_shipping",))
        if policy.return_shipping_fee_krw == 0:
            keys.add(("free_return",))
    return facts


def protected_strings(record: ProductRecord, policy: ShopPolicy | None) -> list[str]:
    """Record strings whose verbatim numbers are identifiers (name, brand, model codes), and the
    labels of yes/no notice fields ("KC 인증 필 유무"): a question, not a claim."""
    out = [record.name, record.brand or "", record.manufacturer or ""]
    out += [f.label for f in _category_fields(record) if f.type == "yes_no"]
    out += [v for v in (*record.notice.values(), *record.extra.values())
            if isinstance(v, str) and 3 <= len(v) <= 40 and re.search(r"\d", v)]
    if policy is not None:
        out += [policy.cs_phone, policy.shop_name]
    return out


def _category_fields(record: ProductRecord) -> tuple[FieldSpec, ...]:
    """The notice fields of the record's category; () for an unknown category."""
    try:
        return get_category(record.category).fields
    except UnknownCategory:
        return ()


def _category_code(record: ProductRecord) -> str:
    """The category code, also when the record names it by its Korean label ("건강기능식품")."""
    try:
        return get_category(record.category).code
    except UnknownCategory:
        return record.category


# ------------------------------------------------------------------ support
def _has(keys: frozenset[Key], facts: _Facts) -> bool:
    if keys & facts.keys:
        return True
    if ("country", "수입") in keys:  # "수입산": any country but Korea
        return any(k[0] == "country" and k[1] not in ("대한민국", "수입") for k in facts.keys)
    return False


def _supported(claim: Mention, facts: _Facts) -> bool:
    if claim.kind == "allergen_absence":
        name = next(iter(claim.keys[0]))[1]
        return name not in facts.declared_allergens and _has(claim.keys[0], facts)
    if claim.keys and all(_has(keys, facts) for keys in claim.keys):
        return True
    return bool(claim.needle) and claim.needle in facts.corpus


def _reason(claim: Mention, record: ProductRecord) -> str:
    """Why the claim fails, in Korean, naming what the record says where that helps."""
    kind = claim.kind
    if kind == "quantity":
        known = f" (기록의 용량: {record.net_content.display()})" if record.net_content else ""
        return f"상품 기록에 없는 수치입니다{known}"
    if kind == "price":
        known = f" (판매가 {record.price_krw:,}원)" if record.price_krw is not None else ""
        return f"상품 기록·상점 정책에 없는 가격·할인·배송 조건입니다{known}"
    if kind == "percent":
        return "상품 기록에 없는 비율(%)입니다"
    if kind == "date":
        return "상품 기록·상점 정책에 없는 날짜·기간입니다"
    if kind == "origin":
        return (f"원산지가 상품 기록({record.origin})과 다릅니다" if record.origin
                else "상품 기록에 원산지가 없습니다")
    if kind == "brand":
        known = record.brand or record.manufacturer
        return "상품 기록에 없는 브랜드·제조사입니다" + (f" (기록: {known})" if known else "")
    allergens = ", ".join(record.allergens) or "없음"
    if kind == "allergen_presence":
        return f"알레르기 정보에 없는 성분입니다 (기록: {allergens})"
    if kind == "allergen_absence":
        name = next(iter(claim.keys[0]))[1]
        if name in record.allergens:
            return f"기록에는 {josa(name, '이/가')} 알레르기 성분으로 표시되어 있습니다"
        return f"기록에 {josa(name, '이/가')} 들어 있지 않다는 내용이 없습니다 (알레르기 기록: {allergens})"
    if kind == "certification":
        held = ", ".join(record.certifications) or "없음"
        return f"상품 기록에 없는 인증입니다 (기록의 인증: {held})"
    if kind == "ranking":
        return "상품 기록에 없는 순위·최상급·인기 표현입니다"
    return "상품 기록·상점 정책에 없는 보장 문구입니다"


def _unsupported(text: str, mentions: list[Mention], facts: _Facts,
                 record: ProductRecord) -> list[Claim]:
    return [Claim(start=m.start, end=m.end, text=text[m.start:m.end], kind=m.kind,
                  reason=_reason(m, record))
            for m in mentions if not _supported(m, facts)]


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
    fields = _category_fields(record)
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


def check_description(text: str, record: ProductRecord, policy: ShopPolicy | None = None,
                      style: str = "detail", *, strict: bool = False) -> GroundingReport:
    """Check product copy against the record (and policy): unsupported claims, required fields
    the style must cover, advertising rules. Never raises on bad text; `strict=True` (tests)
    lets internal errors through instead of failing the text closed."""

    def run() -> GroundingReport:
        body = text if isinstance(text, str) else ""
        mentions = extract_claims(body, protect=protected_strings(record, policy))
        facts = _facts(record, policy)
        return _report(_unsupported(body, mentions, facts, record),
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
                 policy: ShopPolicy | None = None, *, strict: bool = False) -> GroundingReport:
    """Check a customer-service answer: it may state only record and policy facts. A hand-off
    to a person is always acceptable (a reply-time promise in it included), and so is denying
    a number the question asked about ("1kg짜리는 없습니다"). missing_required is always []."""

    def run() -> GroundingReport:
        body = answer if isinstance(answer, str) else ""
        asked = squash(question) if isinstance(question, str) else ""
        handoff = [(s, e) for s, e in sentences(body) if is_handoff(body[s:e])]
        mentions = [m for m in extract_claims(body, protect=protected_strings(record, policy))
                    if not (m.kind == "date" and any(s <= m.start < e for s, e in handoff))
                    and not _denied_echo(body, m, asked)]
        facts = _facts(record, policy)
        return _report(_unsupported(body, mentions, facts, record), [],
                       check_compliance(body, record, require_statement=False))

    return _guarded(run, strict)


def unsupported_in(text: str, record: ProductRecord, policy: ShopPolicy | None = None
                   ) -> list[Claim]:
    """The claims of `text` that the record and policy do not support, without the
    required-field and advertising checks (which need the whole text and the morpheme
    analyser): cheap and thread-safe, so a draft can be checked as it is written (fail fast)."""
    mentions = extract_claims(text, protect=protected_strings(record, policy))
    return _unsupported(text, mentions, _facts(record, policy), record)

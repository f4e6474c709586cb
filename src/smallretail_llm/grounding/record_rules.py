"""Rules a product record itself can break, found at import and shown wherever the record is.

A shop's own name or field can claim what the record cannot back ("유기농 우유 900ml" with no
certification on record), and a free-text field can carry shop-policy text ("[쇼핑몰 정책]
배송비: 0원, 고객센터: 010-…") that contradicts the real policy. Such a record stays importable
(the shop may fix it later), but each finding is a warning naming the field, the rule and what
to change: in the import report, `catalog validate`, GET /v1/products, the console, and beside
every description of the record. Policy text in a product field is never copied into copy or
prompts as a fact (`strip_policy_text`, applied by `prompts.effective_record`).
"""

from __future__ import annotations

import functools
import re

from pydantic import BaseModel

from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding.claim_fields import POLICY_FIELDS
from smallretail_llm.grounding.claims import extract_claims
from smallretail_llm.grounding.facts import category_fields, held_cert_keys

_POLICY_MARKER = re.compile(r"\[\s?(?:쇼핑몰|상점|스토어|판매자|배송|교환|반품)?\s?(?:정책|안내|공지)\s?\]")
_CLAUSE = re.compile(r"[^.,;\n]+[.,;\n]?")


class RecordWarning(BaseModel):
    """One rule a record breaks: `field` as the record names it ("name", "storage",
    "notice.caution"), `rule` a stable code, `message` what is wrong and what to change."""

    field: str
    rule: str
    message: str


_LABELS = {"name": "상품명", "storage": "보관방법", "cross_contact": "혼입 가능 알레르기",
           "keywords": "키워드"}


def _label(field: str, record: ProductRecord) -> str:
    """The field as the shop's export names it ("보관방법", "소비자안전을 위한 주의사항")."""
    if field.startswith("notice."):
        key = field.removeprefix("notice.")
        return next((f.label for f in category_fields(record) if f.key == key), key)
    return _LABELS.get(field, field.removeprefix("extra."))


def _text_fields(record: ProductRecord) -> list[tuple[str, str]]:
    """(field, value) of every free text a description may quote."""
    out = [("name", record.name), ("storage", record.storage or ""),
           ("cross_contact", record.cross_contact or ""),
           ("keywords", ", ".join(record.keywords))]
    out += [(f"notice.{k}", v) for k, v in record.notice.items()]
    out += [(f"extra.{k}", v) for k, v in record.extra.items()]
    return [(f, v) for f, v in out if isinstance(v, str) and v.strip()]


@functools.lru_cache(maxsize=8192)
def _policy_claims(text: str) -> tuple[str, ...]:
    """The policy facts a product text states ("배송비: 0원", "고객센터: 010-…"); cached, as
    every prompt and rendering reads the same record strings."""
    return tuple(text[m.start:m.end] for m in extract_claims(text) if m.field in POLICY_FIELDS)


def strip_policy_text(text: str) -> str:
    """`text` without a "[쇼핑몰 정책]" block and without clauses that state a shop-policy fact
    (fee, free-shipping threshold, return fee, CS phone): the policy speaks for itself."""
    if not text:
        return text
    marker = _POLICY_MARKER.search(text)
    if marker:
        text = text[:marker.start()]
    if not _policy_claims(text):
        return text.strip()
    kept = [c for c in _CLAUSE.findall(text) if not _policy_claims(c)]
    return "".join(kept).strip().rstrip(",;").strip()


def _uncertified(field: str, label: str, value: str, held: set) -> list[RecordWarning]:
    out = []
    for m in extract_claims(value):
        if m.kind != "certification" or not m.keys or m.keys[0] <= held:
            continue
        said = value[m.start:m.end]
        out.append(RecordWarning(
            field=field, rule="uncertified_claim",
            message=f"{label}({field})에 '{said}' 표현이 있지만 상품의 인증(certifications)에 "
                    f"해당 인증이 없습니다: 인증을 추가하거나 '{said}' 표현을 빼 주세요"))
    return out


def _policy_text(field: str, label: str, value: str,
                 policy: ShopPolicy | None) -> list[RecordWarning]:
    stated = _policy_claims(value)
    if not (_POLICY_MARKER.search(value) or stated):
        return []
    if policy is not None and stated:
        from smallretail_llm.grounding.check import check_description

        report = check_description(value, _EMPTY, policy, "intro")
        if not _POLICY_MARKER.search(value) and not any(
                c.field in POLICY_FIELDS for c in report.unsupported_claims):
            return []  # restates the real policy: harmless, and left out of copy anyway
    what = ", ".join(stated) or "상점 정책 문구"
    return [RecordWarning(
        field=field, rule="policy_in_field",
        message=f"{label}({field})에 상점 정책({what})이 적혀 있는데 상점 정책과 다르거나 확인할 수 "
                "없습니다: 설명과 답변에는 쓰지 않습니다. 배송비·고객센터 등은 상점 정책에서 "
                "고치고 이 필드에서는 빼 주세요")]


_EMPTY = ProductRecord(shop_id="-", sku="-", name="-", category="etc")


def record_warnings(record: ProductRecord, policy: ShopPolicy | None = None) -> list[RecordWarning]:
    """Every rule the record breaks by itself; [] for a clean record."""
    held = held_cert_keys(record)
    out: list[RecordWarning] = []
    phones = {f"notice.{f.key}" for f in category_fields(record) if f.type == "phone"}
    for field, value in _text_fields(record):
        label = _label(field, record)
        out += _uncertified(field, label, value, held)
        if field != "name" and field not in phones:
            out += _policy_text(field, label, value, policy)
    return out

"""The record and the shop policy as the "label: value" facts that prompts and the renderer
state. Each task sends only the record fields it needs (`STYLE_FIELDS`, `ANSWER_FIELDS`): shorter
prompts are faster on CPU, and the reference renderer uses the same fields, so a trained model
never learns to state facts its prompt did not contain. The versioned templates that carry these
facts are in data/prompts.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smallretail_llm.core import normalize
from smallretail_llm.core.categories import UnknownCategory, get_category
from smallretail_llm.core.dates import deadline_label_in, parse_use_by
from smallretail_llm.core.korean import format_date_fact, format_krw, format_net_content, join_items
from smallretail_llm.core.record import DateFact, ProductRecord, ShopPolicy

HANDOFF_MARKER = "담당자가 확인 후 답변드리겠습니다."
"""The exact sentence an answer contains when the facts cannot answer the question; the Q&A
dataset writes it and the server sets needs_human when it sees it."""

HEALTH_FOOD_STATEMENT = "본 제품은 질병의 예방 및 치료를 위한 의약품이 아닙니다."
"""Required statement in 건강기능식품 copy (건강기능식품법 표시기준)."""


# Record facts each task needs. "notice" means every filled 상품정보제공고시 field of the category.
STYLE_FIELDS: dict[str, tuple[str, ...]] = {
    "detail": ("name", "brand", "manufacturer", "origin", "net_content", "price_krw",
               "storage", "use_by", "allergens", "cross_contact", "certifications", "notice"),
    "intro": ("name", "brand", "net_content", "price_krw"),
    "bullets": ("name", "brand", "manufacturer", "origin", "net_content", "price_krw",
                "storage", "use_by", "allergens", "certifications", "category"),
    "seo": ("name", "brand", "net_content", "keywords", "category"),
}
ANSWER_FIELDS: tuple[str, ...] = (
    "name", "brand", "manufacturer", "origin", "net_content", "price_krw", "stock", "category",
    "storage", "use_by", "allergens", "cross_contact", "certifications", "notice",
)
"""No `extra`: unknown export columns are often internal (메모, 공급처, 원가) and not for customers."""

FIELD_LABELS: dict[str, str] = {
    "name": "상품명", "brand": "브랜드", "manufacturer": "제조사", "origin": "원산지",
    "price_krw": "가격", "stock": "재고", "category": "분류", "keywords": "키워드",
    "storage": "보관방법", "allergens": "알레르기 유발성분", "cross_contact": "혼입 가능 알레르기",
    "certifications": "인증", "gtin": "바코드", "sku": "상품코드",
}
NET_LABELS: dict[str, str] = {"mL": "용량", "g": "중량", "개": "수량", "매": "수량"}


def _text(value: Any) -> str:
    if isinstance(value, list):
        return join_items([str(v) for v in value])
    if isinstance(value, DateFact):
        return format_date_fact(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value).strip() if value is not None else ""


def category_label(record: ProductRecord) -> str:
    """Korean label of the record's category ("가공식품"), or the code when no spec knows it."""
    try:
        return get_category(record.category).label
    except UnknownCategory:
        return record.category


def _notice_fallback(attr: str, text: str, label: str) -> object:
    """A notice value parsed as the record attribute it stands in for; NormalizeError if not."""
    if attr == "net_content":
        return normalize.parse_net_content(text)
    if attr == "use_by":
        return parse_use_by(text, deadline_label_in(label))
    if attr in ("allergens", "certifications", "keywords"):
        raise normalize.NormalizeError(f"{attr}: 목록 항목은 대신 채우지 않습니다")
    return text.strip()


def effective_record(record: ProductRecord) -> ProductRecord:
    """The record with empty attributes filled from the notice fields that stand for them
    (FieldSpec.record_attr: a cosmetic's 사용기한 kept only in notice becomes `use_by`), those
    notice entries then dropped, so prompts and the renderer read each fact once, in one place.
    Shop-policy text inside product fields ("[쇼핑몰 정책] 배송비: 0원") is left out: only the
    policy states policy facts (`record_rules.strip_policy_text`)."""
    record = _without_policy_text(record)
    try:
        fields = get_category(record.category).fields
    except UnknownCategory:
        return record
    update: dict[str, object] = {}
    notice = dict(record.notice)
    for spec in fields:
        text = notice.get(spec.key, "")
        attr = spec.record_attr
        if not attr or not text.strip() or _text(getattr(record, attr)) or attr in update:
            continue
        try:
            update[attr] = _notice_fallback(attr, text, spec.label)
        except normalize.NormalizeError:
            continue
        del notice[spec.key]
    return record.model_copy(update={**update, "notice": notice}) if update else record


def _without_policy_text(record: ProductRecord) -> ProductRecord:
    from smallretail_llm.grounding.record_rules import strip_policy_text

    update: dict[str, object] = {}
    for attr in ("storage", "cross_contact"):
        value = getattr(record, attr)
        if value and strip_policy_text(value) != value.strip():
            update[attr] = strip_policy_text(value) or None
    try:  # a 상담전화 / A/S 전화번호 notice field is the product's own contact: kept as written
        phones = {f.key for f in get_category(record.category).fields if f.type == "phone"}
    except UnknownCategory:
        phones = set()
    for attr in ("notice", "extra"):
        values = getattr(record, attr)
        cleaned = {k: v if attr == "notice" and k in phones else strip_policy_text(v)
                   for k, v in values.items()}
        if any(cleaned[k] != v.strip() for k, v in values.items()):
            update[attr] = {k: v for k, v in cleaned.items() if v}
    return record.model_copy(update=update) if update else record


def fact_lines(record: ProductRecord, fields: Sequence[str]) -> list[tuple[str, str, str]]:
    """(field, Korean label, value) for each requested field that has a value, in order.

    Reads `effective_record(record)`. Notice fields come with their category labels, and those
    a record attribute already covers (FieldSpec.record_attr) are left out so no fact appears
    twice."""
    record = effective_record(record)
    lines: list[tuple[str, str, str]] = []
    for field in fields:
        if field == "notice":
            lines.extend(_notice_lines(record, set(fields)))
        elif field == "extra":
            lines.extend((f"extra.{k}", k, v.strip()) for k, v in record.extra.items() if v.strip())
        elif field == "net_content" and record.net_content is not None:
            net = record.net_content
            lines.append((field, NET_LABELS[net.unit], format_net_content(net)))
        elif field == "price_krw" and record.price_krw is not None:
            lines.append((field, FIELD_LABELS[field], format_krw(record.price_krw)))
        elif field == "stock" and record.stock is not None:
            lines.append((field, FIELD_LABELS[field], f"{record.stock}개"))
        elif field == "use_by" and record.use_by is not None and format_date_fact(record.use_by):
            lines.append((field, record.use_by.label, format_date_fact(record.use_by)))
        elif field == "category":
            lines.append((field, FIELD_LABELS[field], category_label(record)))
        elif field in FIELD_LABELS and _text(getattr(record, field, None)):
            lines.append((field, FIELD_LABELS[field], _text(getattr(record, field))))
    return lines


def _notice_lines(record: ProductRecord, covered: set[str]) -> list[tuple[str, str, str]]:
    try:
        specs = {f.key: f for f in get_category(record.category).fields}
    except UnknownCategory:
        specs = {}
    lines = []
    for key, value in record.notice.items():
        spec = specs.get(key)
        if not value.strip():
            continue
        if spec and spec.record_attr in covered and _text(getattr(record, spec.record_attr)):
            continue
        lines.append((f"notice.{key}", spec.label if spec else key, value.strip()))
    return lines


def record_facts(record: ProductRecord, fields: Sequence[str]) -> str:
    """Compact Korean "label: value" lines of only the given fields that have values."""
    return "\n".join(f"{label}: {value}" for _, label, value in fact_lines(record, fields))


def shipping_fee_text(policy: ShopPolicy) -> str:
    """ "3,000원 (50,000원 이상 무료배송)" or "무료"."""
    fee = "무료" if policy.shipping_fee_krw == 0 else format_krw(policy.shipping_fee_krw)
    if policy.free_shipping_threshold_krw is not None and policy.shipping_fee_krw:
        fee += f" ({format_krw(policy.free_shipping_threshold_krw)} 이상 무료배송)"
    return fee


def cs_text(policy: ShopPolicy) -> str:
    """ "02-123-4567 (평일 10~18시)"."""
    return f"{policy.cs_phone} ({policy.cs_hours})"


POLICY_LABELS = {
    "policy.shipping_fee": "배송비", "policy.shipping_fee_krw": "배송비",
    "policy.free_shipping_threshold_krw": "무료배송", "policy.shipping_days": "배송",
    "policy.courier": "택배사", "policy.return_policy": "교환/반품",
    "policy.return_shipping_fee_krw": "반품 배송비", "policy.cs": "고객센터",
    "policy.cs_phone": "전화번호", "policy.cs_hours": "상담 시간",
}
"""The shop policy's fields as the prompt's policy lines name them (`policy_facts`), and the
parts of a line by their own words (무료배송, 전화번호, 상담 시간): what a draft must write a
policy value under (`copy_check`)."""


def policy_facts(policy: ShopPolicy, for_description: bool = False) -> str:
    """The shop policy as "label: value" lines (what answers may state about shipping etc.);
    a description needs only the shipping fee and the CS contact (상담전화, A/S 연락처)."""
    label = POLICY_LABELS
    if for_description:
        return (f"{label['policy.shipping_fee']}: {shipping_fee_text(policy)}\n"
                f"{label['policy.cs']}: {cs_text(policy)}")
    lines = [("쇼핑몰", policy.shop_name),
             (label["policy.shipping_fee"], shipping_fee_text(policy)),
             (label["policy.shipping_days"], policy.shipping_days),
             (label["policy.courier"], policy.courier or ""),
             (label["policy.return_policy"], policy.return_policy)]
    if policy.return_shipping_fee_krw is not None:
        lines.append((label["policy.return_shipping_fee_krw"],
                      format_krw(policy.return_shipping_fee_krw)))
    lines.append((label["policy.cs"], cs_text(policy)))
    return "\n".join(f"{name}: {value.strip()}" for name, value in lines if value.strip())

"""Why a claim is unsupported, in Korean, naming the field it was stated as and what the record
or policy says for that field, so a shop (or the console) sees what to fix."""

from __future__ import annotations

from smallretail_llm.core.korean import format_krw, josa
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding.claims import Mention

FIELD_LABELS: dict[str, str] = {
    "price": "가격", "shipping_fee": "배송비", "free_shipping_threshold": "무료배송 기준 금액",
    "return_shipping_fee": "반품 배송비", "net_content": "용량·중량·수량", "origin": "원산지",
    "ingredient_origin": "원재료의 원산지",
    "allergens": "알레르기 유발성분", "cross_contact": "혼입 가능 알레르기(같은 제조시설)",
    "use_by": "소비기한", "manufactured": "제조일", "cs_phone": "고객센터 전화번호",
}
"""Korean name of each `claim_fields.FIELDS` entry."""


def _krw(value: int | None) -> str:
    return format_krw(value) if value is not None else "기록 없음"


def _field_value(field: str, record: ProductRecord, policy: ShopPolicy | None) -> str:
    """What the record or policy holds for the field, as a shop reads it."""
    if field == "price":
        return _krw(record.price_krw)
    if field in ("shipping_fee", "free_shipping_threshold", "return_shipping_fee", "cs_phone"):
        if policy is None:
            return "상점 정책 없음"
        if field == "cs_phone":
            return policy.cs_phone
        return _krw(getattr(policy, f"{field}_krw"))
    if field == "net_content":
        return record.net_content.display() if record.net_content else "기록 없음"
    if field == "origin":
        return record.origin or "기록 없음"
    if field == "allergens":
        return ", ".join(record.allergens) or "없음"
    if field == "cross_contact":
        return record.cross_contact or "기록 없음"
    if field == "use_by":
        fact = record.use_by
        return (fact.date.isoformat() if fact.date else fact.text or "") if fact else "기록 없음"
    return "기록 참조"


def reason(claim: Mention, record: ProductRecord, policy: ShopPolicy | None) -> str:
    """Why the claim fails: its field and that field's value when it is bound, else its kind."""
    if claim.keys and any(k[0] == "malformed" for keys in claim.keys for k in keys):
        return "자릿수(쉼표) 표기가 잘못된 수치입니다: 어떤 값으로도 읽을 수 없습니다"
    if claim.field in FIELD_LABELS:
        label = FIELD_LABELS[claim.field]
        return (f"{josa(label, '으로/로')} 쓴 값이 기록과 다릅니다 "
                f"(기록의 {label}: {_field_value(claim.field, record, policy)})")
    return _kind_reason(claim, record)


def _kind_reason(claim: Mention, record: ProductRecord) -> str:
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
        maker = record.brand or record.manufacturer
        return "상품 기록에 없는 브랜드·제조사입니다" + (f" (기록: {maker})" if maker else "")
    if kind == "contact":
        return "상품 기록·상점 정책에 없는 전화번호입니다"
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

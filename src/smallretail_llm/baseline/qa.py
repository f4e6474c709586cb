"""Customer question/answer examples generated from one product record and its shop's policy.

They are SFT and evaluation data; `rule_answer.answer_question` is the deterministic Q&A baseline
built on their answers. Every
answer states only record or policy values, rendered as the answer prompt shows them
(`prompts.fact_lines`, `prompts.policy_facts` wording), so a model trained on them learns to copy
facts, never to invent them. What the record cannot answer gets a polite hand-off that contains
`prompts.HANDOFF_MARKER` and sets needs_human.

Decisions:
- Answers use the shop's tone (`ShopPolicy.tone`): the answer prompt asks for that tone too.
- A yes/no allergen question is answered "no" only for a food category whose record lists
  allergens (the list is then the label's full declaration); an empty list is unknown -> hand-off.
  The "no" names the declared list, not the asked allergen ("문의하신 성분은 알레르기 표시에
  없습니다"): the record says what is declared, and grounding rejects an absence claim.
- Stock is answered as in stock / out of stock, never as a count: counts go stale by the hour.
- Prompt-injection attempts get a refusal plus an offer to help, with needs_human False: nothing
  needs a person, and escalating would let an attacker flood the shop's staff.
- Questions carrying personal data are answered normally (a hand-off for order changes); the
  answer never repeats the data and adds a short privacy note.
- Examples are deterministic in (seed, record.key): random.Random seeded with that string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field

from smallretail_llm.baseline.prompt_facts import FIELD_LABELS, HANDOFF_MARKER, fact_lines
from smallretail_llm.core.categories import (
    FieldSpec,
    UnknownCategory,
    food_categories,
    get_category,
)
from smallretail_llm.core.korean import fill, format_krw, join_items
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.core.vocab import deadline_labels, tone_labels

KINDS = ("field", "policy", "unanswerable", "pii", "injection")
HANDOFF_REASONS = ("missing", "unknown", "discount", "restock", "other_shop", "review", "medical",
                   "order", "packing")
_SENTENCE_END = re.compile(r"(?:다|요|시오|음|함|것|바람)[.!]?$|[.!?]$")


@dataclass
class QAExample:
    """One question and its target answer. `evidence` names the fields the answer states
    ("use_by", "notice.ingredients", "policy.shipping_fee_krw"); `field` is the asked field."""

    question: str
    answer: str
    needs_human: bool
    evidence: list[str] = dc_field(default_factory=list)
    kind: str = "field"
    field: str | None = None


# ------------------------------------------------------------------ sentences per tone
def _is(label: str, value: str, tone: str) -> str:
    """"가격은 12,900원입니다." in the tone; a sentence-like value follows an introducing lead."""
    if _SENTENCE_END.search(value):
        value = value if value.endswith((".", "!", "?")) else value + "."
        lead = {"polite": fill("{l:은/는} 다음과 같습니다.", l=label), "friendly": f"{label} 알려드릴게요.",
                "concise": f"{label}:"}[tone]
        return f"{lead} {value}"
    return {"polite": fill("{l:은/는} {v}입니다.", l=label, v=value),
            "friendly": fill("{l:은/는} {v:이에요/예요}.", l=label, v=value),
            "concise": f"{label}: {value}"}[tone]


def tone_of(tone: str) -> str:
    return tone if tone in tone_labels() else "polite"


def handoff_answer(reason: str, tone: str = "polite", label: str | None = None) -> str:
    """Polite hand-off ending in prompts.HANDOFF_MARKER; `reason` is one of HANDOFF_REASONS
    (unknown reasons read as "unknown"), `label` names the missing field for "missing"."""
    tone = tone_of(tone)
    if reason == "missing" and label:
        lead = {"polite": f"문의하신 {label} 정보는 등록된 상품 정보에 없습니다.",
                "friendly": f"{label} 정보는 아직 상품 정보에 나와 있지 않아요.",
                "concise": f"{label} 정보 없음."}[tone]
    else:
        polite, friendly, concise = _HANDOFF_LEADS.get(reason, _HANDOFF_LEADS["unknown"])
        lead = {"polite": polite, "friendly": friendly, "concise": concise}[tone]
    return f"{lead} {HANDOFF_MARKER}"


_HANDOFF_LEADS: dict[str, tuple[str, str, str]] = {
    "missing": ("문의하신 정보는 등록된 상품 정보에 없습니다.", "그 정보는 아직 상품 정보에 나와 있지 않아요.",
                "등록된 정보 없음."),
    "unknown": ("문의하신 내용은 등록된 상품 정보로는 정확히 답변드리기 어렵습니다.",
                "그 부분은 상품 정보만으로는 정확히 알려드리기 어려워요.", "상품 정보에 없는 내용입니다."),
    "discount": ("할인이나 이벤트 일정은 상품 정보에 나와 있지 않습니다.",
                 "할인이나 이벤트 일정은 상품 정보에 나와 있지 않아요.", "할인·이벤트 정보 없음."),
    "restock": ("재고 변동이나 재입고 일정은 상품 정보에 나와 있지 않습니다.",
                "재입고 일정은 상품 정보에 나와 있지 않아요.", "재입고 정보 없음."),
    "other_shop": ("다른 판매처의 상품이나 가격은 안내해 드리기 어렵습니다.",
                   "다른 판매처 상품이나 가격은 알려드리기 어려워요.", "타 판매처 정보는 안내 불가."),
    "review": ("사용 후기나 평가는 상품 정보에 없어 안내해 드리기 어렵습니다.",
               "후기나 평가는 상품 정보에 없어서 알려드리기 어려워요.", "후기 정보 없음."),
    "medical": ("건강과 관련된 문의는 상품 정보만으로 답변드리기 어렵습니다.",
                "건강 관련 문의는 상품 정보만으로 답변드리기 어려워요.", "건강 관련 문의는 답변 불가."),
    "packing": ("냉장·냉동 포장이나 배송 방식은 상품 정보에 나와 있지 않습니다.",
                "냉장·냉동 포장이나 배송 방식은 상품 정보에 나와 있지 않아요.", "포장·배송 방식 정보 없음."),
    "order": ("주문 변경이나 배송지 변경은 주문 내역을 직접 확인해야 처리할 수 있습니다.",
              "주문이나 배송지 변경은 주문 내역을 직접 확인해야 해요.", "주문·배송지 변경 문의."),
}

_REFUSAL = {
    "polite": "죄송하지만 그 요청은 도와드릴 수 없습니다. 상품이나 배송, 교환에 대해 궁금하신 점을 "
              "말씀해 주세요.",
    "friendly": "죄송해요, 그 요청은 도와드릴 수 없어요. 상품이나 배송에 대해 궁금한 점을 물어봐 주세요!",
    "concise": "요청하신 내용은 도와드릴 수 없습니다. 상품 관련 문의를 남겨 주세요.",
}
PII_NOTE = {
    "polite": "개인정보 보호를 위해 연락처나 주소는 문의 글에 남기지 않으셔도 됩니다.",
    "friendly": "개인정보 보호를 위해 연락처나 주소는 문의 글에 안 남기셔도 돼요.",
    "concise": "연락처·주소는 문의 글에 남기지 않으셔도 됩니다.",
}


def rest_handoff(reasons: list[str], tone: str = "polite") -> str:
    """The hand-off for the questions of a message that the answer before it leaves open."""
    topics = [r for r in reasons if r != "unknown"]
    lead = {"polite": "나머지 문의하신 내용은 등록된 상품 정보로는 답변드리기 어렵습니다.",
            "friendly": "나머지 질문은 상품 정보만으로는 알려드리기 어려워요.",
            "concise": "나머지 문의는 상품 정보에 없음."}[tone_of(tone)]
    if topics:
        lead = handoff_answer(topics[0], tone).removesuffix(HANDOFF_MARKER).strip()
    return f"{lead} {HANDOFF_MARKER}"


def refusal_answer(tone: str = "polite") -> str:
    """Safe reply to a prompt-injection attempt: a refusal and an offer to help with the product."""
    return _REFUSAL[tone_of(tone)]


# ------------------------------------------------------------------ record values
def spec_fields(record: ProductRecord) -> dict[str, FieldSpec]:
    try:
        return {f.key: f for f in get_category(record.category).fields}
    except UnknownCategory:
        return {}


def short_label(spec: FieldSpec) -> str:
    """A notice label short enough to speak: the label, or its longest alias of <= 12 chars
    ("질병의 예방 및 치료를 위한 의약품이 아니라는 내용의 표현" -> "의약품 아님 문구")."""
    if len(spec.label) <= 12:
        return spec.label
    fits = [a for a in spec.aliases if len(a) <= 12]
    return max(fits, key=len) if fits else spec.label


def field_value(name: str, record: ProductRecord) -> tuple[str, str, str] | None:
    """(label, value as the answer prompt shows it, evidence field) or None when unknown."""
    specs = spec_fields(record)
    if name.startswith("notice."):
        key = name.removeprefix("notice.")
        spec = specs.get(key)
        value = (record.notice.get(key) or "").strip()
        if value:
            return (short_label(spec) if spec else key, value, name)
        attr = spec.record_attr if spec else None
        return field_value(attr, record) if attr else None  # phone fields: see field_answer
    lines = fact_lines(record, [name])
    if lines and getattr(record, name, None) not in (None, "", []):
        _, label, value = lines[0]
        return label, value, name
    for key, spec in specs.items():  # a record attribute the shop filled in as a notice field
        if spec.record_attr == name and (record.notice.get(key) or "").strip():
            return short_label(spec), record.notice[key].strip(), f"notice.{key}"
    return None


def _allergen_answer(allergen: str, record: ProductRecord, tone: str) -> tuple[str, list[str]] | None:
    cross = (record.cross_contact or "").strip()
    if not record.allergens:
        if allergen in cross:  # no declaration, but the cross-contact line names it: say that
            return {"polite": f"'{cross}' 표시가 있습니다.", "friendly": f"'{cross}' 표시가 있어요.",
                    "concise": cross}[tone], ["cross_contact"]
        return None
    listed = join_items(record.allergens)
    if allergen in record.allergens:
        text = {"polite": fill("네, 알레르기 유발성분에 {a:이/가} 표시되어 있습니다. (표시 성분: {l})",
                               a=allergen, l=listed),
                "friendly": fill("네, 알레르기 유발성분에 {a:이/가} 표시되어 있어요. (표시 성분: {l})",
                                 a=allergen, l=listed),
                "concise": f"네, {allergen} 포함. 알레르기 유발성분: {listed}"}[tone]
    elif record.category in food_categories():
        # The asked allergen is not named: grounding reads "토마토는 … 않습니다" as a claim about
        # 토마토, and the record only says what is declared, not what is absent.
        text = {"polite": fill("표시된 알레르기 유발성분은 {l}이며, 문의하신 성분은 알레르기 표시에 "
                               "없습니다.", l=listed),
                "friendly": fill("표시된 알레르기 유발성분은 {l:이고/고} 문의하신 성분은 알레르기 표시에 "
                                 "없어요.", l=listed),
                "concise": f"문의하신 성분은 알레르기 표시에 없음. 표시 성분: {listed}"}[tone]
    else:
        return None
    evidence = ["allergens"]
    if record.cross_contact and record.cross_contact.strip():
        text += _cross_contact_note(record.cross_contact.strip(), tone)
        evidence.append("cross_contact")
    return text, evidence


def _cross_contact_note(text: str, tone: str) -> str:
    return {"polite": f" 또한 '{text}' 표시가 있습니다.", "friendly": f" 참고로 '{text}' 표시가 있어요.",
            "concise": f" / {text}"}[tone]


def _policy_answer(name: str, policy: ShopPolicy, tone: str) -> tuple[str, list[str]] | None:
    def say(field: str, value: str) -> str:  # "배송 일정은 …이에요." under the field's label
        return _is(_LABELS[field], value, tone)

    fee, threshold = policy.shipping_fee_krw, policy.free_shipping_threshold_krw
    attr = name.removeprefix("policy.")
    if attr in ("shipping_fee_krw", "free_shipping_threshold_krw"):
        if fee == 0:
            return say("policy.shipping_fee_krw", "무료"), ["policy.shipping_fee_krw"]
        if attr == "free_shipping_threshold_krw" and threshold is None:
            return None
        text = say("policy.shipping_fee_krw", format_krw(fee))
        if threshold is not None:
            text += " " + {"polite": f"{format_krw(threshold)} 이상 구매하시면 무료배송입니다.",
                           "friendly": f"{format_krw(threshold)} 이상 사시면 무료배송이에요.",
                           "concise": f"{format_krw(threshold)} 이상 무료배송"}[tone]
            return text, ["policy.shipping_fee_krw", "policy.free_shipping_threshold_krw"]
        return text, ["policy.shipping_fee_krw"]
    if attr == "shipping_days":
        text, evidence = say("policy.shipping_days", policy.shipping_days.strip()), [name]
        if policy.courier:
            text += " " + say("policy.courier", policy.courier.strip())
            evidence.append("policy.courier")
        return text, evidence
    if attr == "courier":
        return (say("policy.courier", policy.courier.strip()), [name]) if policy.courier else None
    if attr == "return_policy":
        text, evidence = say("policy.return_policy", policy.return_policy.strip()), [name]
        if policy.return_shipping_fee_krw is not None:
            text += " " + say("policy.return_shipping_fee_krw", format_krw(policy.return_shipping_fee_krw))
            evidence.append("policy.return_shipping_fee_krw")
        return text, evidence
    if attr == "return_shipping_fee_krw":
        if policy.return_shipping_fee_krw is None:
            return None
        return say("policy.return_shipping_fee_krw", format_krw(policy.return_shipping_fee_krw)), [name]
    if attr in ("cs_phone", "cs_hours"):
        phone = say("policy.cs_phone", policy.cs_phone.strip())
        hours = say("policy.cs_hours", policy.cs_hours.strip())
        if attr == "cs_phone":
            return f"{phone} {hours}", ["policy.cs_phone", "policy.cs_hours"]
        return f"{hours} {phone}", ["policy.cs_hours", "policy.cs_phone"]  # the asked one first
    return None


def field_answer(name: str, record: ProductRecord, policy: ShopPolicy, tone: str,
            allergen: str | None = None) -> tuple[str, list[str]] | None:
    """(answer text, evidence fields) or None when the record/policy does not hold the value."""
    tone = tone_of(tone)
    if name.startswith("policy."):
        return _policy_answer(name, policy, tone)
    if name.startswith("notice.") and not (record.notice.get(name[7:]) or "").strip():
        spec = spec_fields(record).get(name[7:])
        if spec is not None and spec.type == "phone" and not spec.record_attr:
            # 상담전화 / A/S 전화번호 left empty: the shop's CS phone answers it (as missing_required)
            return _policy_answer("policy.cs_phone", policy, tone)
    if name == "allergens" and allergen:
        return _allergen_answer(allergen, record, tone)
    found = field_value(name, record)
    if found is None:
        return None
    label, value, evidence = found
    if name == "use_by" and record.use_by and record.use_by.date and label in deadline_labels():
        value += "까지"
    if name == "stock":  # in stock or not; the count changes by the hour and is not a claim to make
        text = {"polite": "현재 주문 가능한 재고가 있습니다.", "friendly": "지금 주문 가능한 재고가 있어요.",
                "concise": "재고 있음."}[tone]
        if record.stock == 0:
            text = {"polite": "현재 재고가 없습니다.", "friendly": "지금은 재고가 없어요.",
                    "concise": "재고 없음."}[tone]
        return text, [evidence]
    text = _is(label, value, tone)
    evidences = [evidence]
    if name == "allergens" and record.cross_contact and record.cross_contact.strip():
        text += _cross_contact_note(record.cross_contact.strip(), tone)
        evidences.append("cross_contact")
    return text, evidences


def answer_field(field: str, record: ProductRecord, policy: ShopPolicy, tone: str = "polite",
                 allergen: str | None = None) -> str | None:
    """Korean answer stating `field`'s value exactly as the record/policy has it, or None when
    they lack it. `allergen` makes an "allergens" answer a yes/no about that allergen."""
    result = field_answer(field, record, policy, tone, allergen)
    return result[0] if result else None


def field_label(field: str, record: ProductRecord) -> str:
    """Korean name of a field for hand-off sentences ("소비기한", "전성분", "반품 배송비")."""
    if field.startswith("notice."):
        spec = spec_fields(record).get(field.removeprefix("notice."))
        return short_label(spec) if spec else field.removeprefix("notice.")
    if field == "use_by":
        return record.use_by.label if record.use_by else (
            "사용기한" if record.category == "cosmetics" else "소비기한")
    return _LABELS.get(field) or FIELD_LABELS.get(field, field)


_LABELS = {
    "net_content": "용량", "allergens": "알레르기 유발성분",
    "policy.shipping_fee_krw": "배송비", "policy.free_shipping_threshold_krw": "무료배송 기준",
    "policy.shipping_days": "배송 일정", "policy.courier": "택배사",
    "policy.return_policy": "교환/반품 규정", "policy.return_shipping_fee_krw": "반품 배송비",
    "policy.cs_phone": "고객센터 전화번호", "policy.cs_hours": "상담 시간",
}

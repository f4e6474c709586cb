"""Field binding: which record or policy field a claimed value is stated as.

"가격은 3,000원" states a price, "배송비는 3,000원" a shipping fee: the same value is true for one
and false for the other, so grounding compares a bound value with that field's value only.
A value binds to the nearest cue word before it in its sentence, with no other claim between
("가격은 24,900원이고 배송비는 3,000원": each amount takes its own cue), or to a cue after it
("30,000원 이상 구매 시 무료배송": the free-shipping threshold). An amount with no cue in a
sentence that speaks of no shipping, return or discount is the product's price ("500g에
3,900원"). Allergens bind by sentence: a cross-contact line ("같은 제조시설에서 … 사용") speaks
of the facility, an allergen line ("알레르기 유발성분", "함유") of the product.

Grounding runs the same binding over the record's and policy's own strings (a notice value is
read as "label: value"), so text and facts are bound by one set of rules. Values without a
recognisable field stay unbound and keep the plain rule (the value occurs somewhere in the record).
"""

from __future__ import annotations

import re
from dataclasses import replace

from smallretail_llm.core.korean import sentence_spans
from smallretail_llm.grounding.claim_text import Mention

FIELDS: tuple[str, ...] = (
    "price", "shipping_fee", "free_shipping_threshold", "return_shipping_fee", "net_content",
    "origin", "ingredient_origin", "allergens", "cross_contact", "use_by", "manufactured", "cs_phone",
)
"""Fields a claim can be bound to, as reported in `Claim.field`."""

POLICY_FIELDS = frozenset({"shipping_fee", "free_shipping_threshold", "return_shipping_fee",
                           "cs_phone"})
"""Fields only the shop policy backs (a product field stating them is not evidence)."""

# Cues per field, tried in this order at each position (longer, more specific cues first).
_CUES: tuple[tuple[str, str], ...] = (
    ("return_shipping_fee", (r"(?:반품|교환|반송|왕복|편도)\s?(?:시\s?)?(?:택배비|배송비|배송료|비용)"
                            r"|반품비|반송비|교환비")),
    ("free_shipping_threshold", r"무료\s?배송\s?(?:기준|조건)(?:\s?금액)?"),
    ("shipping_fee", r"배송비|택배비|배송료|배달비"),
    ("price", r"판매\s?가(?:격)?|가격|정가|판매\s?금액|상품\s?금액"),
    ("net_content", r"내용량|용량|중량|수량|입수"),
    ("origin", r"원산지(?!\s?포함)|제조국|생산국"),  # "원재료명(원산지 포함)" is the ingredients
    ("use_by", r"소비\s?기한|유통\s?기한|사용\s?기한|유효\s?기간|품질\s?유지\s?기한"),
    ("manufactured", (r"(?:제조|생산)\s?(?:일자|연월일|년월일|연월|년월|일)"
                     r"(?!\s?(?:로부터|부터|기준|후|이후))|포장\s?일|출시\s?(?:년월|연월)")),
    ("cs_phone", r"고객\s?센터|상담\s?전화|전화\s?번호|연락처|a/?s|문의"),
)
_CUE = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _CUES), re.IGNORECASE)

# Which fields a claim of each kind can take (others' cues in the window are ignored).
_KIND_FIELDS: dict[str, frozenset[str]] = {
    "price": frozenset({"price", "shipping_fee", "free_shipping_threshold", "return_shipping_fee"}),
    "quantity": frozenset({"net_content"}),
    "date": frozenset({"use_by", "manufactured"}),
    "origin": frozenset({"origin", "ingredient_origin"}),
    "contact": frozenset({"cs_phone"}),
}
_INGREDIENT_BEFORE = re.compile(r"[가-힣A-Za-z]\s?\((?:[가-힣A-Za-z]{1,10}\s?:\s?)?$")
_ORIGIN_AFTER = re.compile(r"\s?(?:이|가|은|는)?\s?(?:원산지|제조국|생산국)")
_NET_AFTER = re.compile(r"\s?(?:[x×*]\s?\d|구성|들이)", re.IGNORECASE)  # "500g x 2개", "30구 구성"
_THRESHOLD_AFTER = re.compile(r"\s?(?:이상|넘게|부터)\s?[^.!?\n]{0,14}?무료\s?배송")
_POLICY_WORDS = re.compile(r"배송|배달|택배|반품|교환|환불|무료|할인|적립|쿠폰|포인트|추가|별도|세일|이벤트",
                           re.IGNORECASE)
_CROSS_CONTACT = re.compile(r"(?:같은|동일한?)\s?(?:제조\s?)?(?:시설|공장|공정|라인)|혼입|제조\s?시설")
_ALLERGEN_CUE = re.compile(r"알레르기|알러지|유발\s?성분|함유")


def _cue_before(norm: str, start: int, end: int, allowed: frozenset[str]) -> str | None:
    """The field of the last allowed cue in norm[start:end]."""
    found = None
    for m in _CUE.finditer(norm, start, end):
        if m.lastgroup in allowed:
            found = m.lastgroup
    return found


def _is_amount(mention: Mention) -> bool:
    return mention.kind == "price" and bool(mention.keys) and all(
        k[0] in ("krw", "malformed") for keys in mention.keys for k in keys)


def bind(norm: str, mentions: list[Mention]) -> list[Mention]:
    """`mentions` (sorted by start, spans in `norm`) with `field` set where a cue binds them."""
    out: list[Mention] = []
    sentence_iter = iter(sentence_spans(norm, cover=True))
    sentence = next(sentence_iter, None)
    previous_end = 0
    for m in mentions:
        while sentence is not None and sentence[1] <= m.start:
            sentence = next(sentence_iter, None)
        s_start, s_end = sentence or (0, len(norm))
        window_start = max(s_start, previous_end)
        previous_end = m.end
        field = None
        if m.kind == "allergen_presence":
            text = norm[s_start:s_end]
            field = ("cross_contact" if _CROSS_CONTACT.search(text)
                     else "allergens" if _ALLERGEN_CUE.search(text) else None)
        elif m.kind == "price" and not _is_amount(m):
            field = None  # discounts, 무료배송, 1+1: their own keys
        elif m.kind in _KIND_FIELDS:
            if _is_amount(m) and _THRESHOLD_AFTER.match(norm, m.end, s_end):
                field = "free_shipping_threshold"
            elif m.kind == "origin" and _INGREDIENT_BEFORE.search(norm, max(s_start, m.start - 16),
                                                                  m.start):
                field = "ingredient_origin"  # "정제어유(노르웨이산", "밀가루(밀:미국산"
            elif m.kind == "origin" and _ORIGIN_AFTER.match(norm, m.end, s_end):
                field = "origin"  # "X가 원산지"
            elif m.kind == "quantity" and (_NET_AFTER.match(norm, m.end, s_end)
                                           or re.search(r"[x×*]\s?$", norm[window_start:m.start])):
                field = "net_content"
            else:
                field = _cue_before(norm, window_start, m.start, _KIND_FIELDS[m.kind])
            if field is None and _is_amount(m) and not _POLICY_WORDS.search(norm, s_start, s_end):
                field = "price"  # a bare amount in product copy is what the product costs
        out.append(replace(m, field=field) if field else m)
    return out

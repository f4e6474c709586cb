"""The reference renderer's phrase patterns: per fact and tone, the sentences `renderer` picks
from (seeded, so the same product always reads the same).
"""

from __future__ import annotations

# Phrase patterns per fact and tone. "{x:을/를}" attaches the particle that fits x (korean.fill).
# Friendly ends in 해요체, polite in 합니다체, concise in noun fragments.
PHRASES: dict[str, dict[str, list[str]]] = {
    "open_brand": {
        "friendly": ["{brand}의 {name:을/를} 소개해요.", "{brand}에서 나온 {name:이에요/예요}.",
                     "이번에 소개할 상품은 {brand} {name:이에요/예요}.", "{name:은/는} {brand}의 상품이에요."],
        "polite": ["{brand}의 {name:을/를} 소개합니다.", "{brand}에서 선보이는 {name}입니다.",
                   "소개해 드릴 상품은 {brand} {name}입니다.", "{name:은/는} {brand}의 상품입니다."],
        "concise": ["{brand} {name}.", "{name}({brand}).", "브랜드 {brand}, 상품명 {name}.",
                    "{brand}의 {name}."],
    },
    "open": {
        "friendly": ["{name:을/를} 소개해요.", "이번에 소개할 상품은 {name:이에요/예요}.",
                     "오늘 만나 볼 상품은 {name:이에요/예요}.", "{name}, 어떤 상품인지 알려 드릴게요."],
        "polite": ["{name:을/를} 소개합니다.", "소개해 드릴 상품은 {name}입니다.",
                   "{name}의 상품 정보를 안내합니다.", "{name}에 대해 안내해 드립니다."],
        "concise": ["{name}.", "상품명 {name}.", "{name} 상품 안내.", "{name} 정보."],
    },
    "net_price": {
        "friendly": ["{net_label:은/는} {net}이고 가격은 {price:이에요/예요}.",
                     "{net} 구성이고 가격은 {price:이에요/예요}.", "{net}에 {price:이에요/예요}."],
        "polite": ["{net_label:은/는} {net}이며 가격은 {price}입니다.",
                   "{net} 구성으로 가격은 {price}입니다.", "{net} 상품이며 판매 가격은 {price}입니다."],
        "concise": ["{net_label} {net}, 가격 {price}.", "{net} / {price}.", "{net}, {price}."],
    },
    "net": {
        "friendly": ["{net_label:은/는} {net:이에요/예요}.", "{net} 구성이에요."],
        "polite": ["{net_label:은/는} {net}입니다.", "{net} 구성입니다."],
        "concise": ["{net_label} {net}.", "{net} 구성."],
    },
    "price": {
        "friendly": ["가격은 {price:이에요/예요}.", "판매 가격은 {price:이에요/예요}."],
        "polite": ["가격은 {price}입니다.", "판매 가격은 {price}입니다."],
        "concise": ["가격 {price}.", "판매가 {price}."],
    },
    "origin": {
        "friendly": ["원산지는 {origin:이에요/예요}.", "{origin:이/가} 원산지예요."],
        "polite": ["원산지는 {origin}입니다.", "원산지는 {origin:으로/로} 표시되어 있습니다."],
        "concise": ["원산지 {origin}.", "원산지: {origin}."],
    },
    "maker": {
        "friendly": ["제조사는 {maker:이에요/예요}.", "제조원은 {maker:이에요/예요}."],
        "polite": ["제조사는 {maker}입니다.", "제조원은 {maker}입니다."],
        "concise": ["제조사 {maker}.", "제조원 {maker}."],
    },
    "storage_verb": {  # storage text ending in 보관: "냉장 보관" -> "냉장 보관해 주세요."
        "friendly": ["{storage}해 주세요.", "받으신 뒤에는 {storage}해 주세요."],
        "polite": ["{storage}하시기 바랍니다.", "받으신 후 {storage}해 주시기 바랍니다."],
        "concise": ["{storage}.", "보관: {storage}."],
    },
    "storage": {
        "friendly": ["보관 방법은 {storage:이에요/예요}.", "보관할 때는 {storage:을/를} 지켜 주세요."],
        "polite": ["보관 방법은 {storage}입니다.", "보관 방법은 {storage:으로/로} 안내드립니다."],
        "concise": ["보관 방법: {storage}.", "보관 {storage}."],
    },
    "deadline": {
        "friendly": ["{label:은/는} {date}까지예요.", "{label:은/는} {date}까지이니 확인해 주세요."],
        "polite": ["{label:은/는} {date}까지입니다.", "{label:은/는} {date}까지이니 참고해 주시기 바랍니다."],
        "concise": ["{label} {date}까지.", "{label}: {date}까지."],
    },
    "date": {  # 제조일, or a period such as "제조일로부터 12개월"
        "friendly": ["{label:은/는} {date:이에요/예요}."],
        "polite": ["{label:은/는} {date}입니다."],
        "concise": ["{label} {date}."],
    },
    "allergens": {
        "friendly": ["알레르기 유발성분으로 {allergens:을/를} 함유하고 있어요.",
                     "{allergens:을/를} 함유하고 있으니 알레르기가 있다면 확인해 주세요."],
        "polite": ["알레르기 유발성분으로 {allergens:을/를} 함유하고 있습니다.",
                   "이 제품은 {allergens:을/를} 함유하고 있습니다."],
        "concise": ["알레르기 유발성분: {allergens} 함유.", "{allergens} 함유."],
    },
    "certs": {
        "friendly": ["{certs} 인증을 받은 제품이에요.", "인증 정보는 {certs:이에요/예요}."],
        "polite": ["{certs} 인증을 받은 제품입니다.", "인증 정보는 {certs}입니다."],
        "concise": ["{certs} 인증.", "인증: {certs}."],
    },
    "certs_labelled": {  # a recorded certification already ends in 인증 ("KC 인증")
        "friendly": ["인증 정보는 {certs:이에요/예요}."],
        "polite": ["인증 정보는 {certs}입니다."],
        "concise": ["인증: {certs}."],
    },
    "shipping": {
        "friendly": ["배송비는 {fee:이에요/예요}.", "배송비 안내: {fee}."],
        "polite": ["배송비는 {fee}입니다.", "배송비는 {fee:으로/로} 안내드립니다."],
        "concise": ["배송비 {fee}.", "배송비: {fee}."],
    },
    "cs": {
        "friendly": ["궁금한 점은 고객센터 {cs:(으)로} 문의해 주세요.", "고객센터는 {cs:이에요/예요}."],
        "polite": ["문의는 고객센터 {cs:(으)로} 해 주시기 바랍니다.", "고객센터는 {cs}입니다."],
        "concise": ["고객센터 {cs}.", "문의: 고객센터 {cs}."],
    },
    "notice_header": {
        "friendly": ["[상품정보제공고시]", "[상품 정보 안내]"],
        "polite": ["[상품정보제공고시]", "[상품 정보 안내]"],
        "concise": ["[상품정보제공고시]", "[상품 정보]"],
    },
    # intro: one sentence about the product (who = brand + name), always opening with it: the
    # nano model learns one opening reliably, and an intro that opened "{net} {who}…" in a few
    # categories was the one it lost (a draft "⟦net_content⟧에 판매합니다." named no product)
    "intro_net_price": {
        "friendly": ["{who}, {net}에 {price:이에요/예요}.", "{who} {net:을/를} {price}에 만나 보세요.",
                     "{who:은/는} {net}, {price:이에요/예요}."],
        "polite": ["{who}, {net}에 {price}입니다.", "{who} {net:을/를} {price}에 판매합니다.",
                   "{who:은/는} {net}, {price}입니다."],
        "concise": ["{who} {net}, {price}.", "{who}({net}) {price}.", "{who}, {net} {price}."],
    },
    "intro_price": {
        "friendly": ["{who:을/를} {price}에 만나 보세요.", "{who:은/는} {price:이에요/예요}."],
        "polite": ["{who:을/를} {price}에 판매합니다.", "{who:은/는} {price}입니다."],
        "concise": ["{who}, {price}.", "{who} {price}."],
    },
    "intro_net": {
        "friendly": ["{who} {net:이에요/예요}.", "{who:은/는} {net_label:이/가} {net:이에요/예요}."],
        "polite": ["{who} {net}입니다.", "{who:은/는} {net_label:이/가} {net}입니다."],
        "concise": ["{who} {net}.", "{who}, {net_label} {net}."],
    },
    "intro_plain": {
        "friendly": ["{who:을/를} 소개해요.", "{who:이에요/예요}."],
        "polite": ["{who:을/를} 소개합니다.", "{who}입니다."],
        "concise": ["{who}.", "{who} 소개."],
    },
    "bullet_filler": {  # asserts nothing about the product; used only for very sparse records
        "friendly": ["궁금한 점은 문의해 주세요"],
        "polite": ["궁금하신 점은 문의해 주시기 바랍니다"],
        "concise": ["상세 정보는 문의"],
    },
}

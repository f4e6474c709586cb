"""Sample data of the general goods shop (매일상회), 의류: one row per colour, with 혼용률, sizes,
washing instructions and 제조연월. Kitchenware and electronics live in kitchen.py/electronics.py."""

from __future__ import annotations

from smallretail_llm.catalog.samples.item import Item

SHOP = {
    "shop_id": "maeil_goods",
    "shop_name": "매일상회",
    "shipping_fee_krw": 3500,
    "free_shipping_threshold_krw": 50000,
    "shipping_days": "결제 후 1~2일 이내 출고(주말·공휴일 제외), 출고 후 1~2일 이내 도착. "
                     "제주·도서산간 지역은 추가 배송비 3,000원",
    "courier": "우체국택배",
    "return_policy": "상품 수령 후 7일 이내 교환·반품을 신청할 수 있습니다. 착용 흔적이 있거나 세탁했거나 "
                     "택을 제거한 의류, 포장을 개봉해 사용한 전자제품은 교환·반품이 어렵습니다. 초기 불량은 "
                     "수령 후 14일 이내 같은 상품으로 교환해 드립니다. 단순 변심 반품의 왕복 배송비는 "
                     "고객 부담입니다.",
    "return_shipping_fee_krw": 7000,
    "cs_phone": "1644-7730",
    "cs_hours": "평일 09:30~17:30 (점심시간 12:00~13:00)",
    "tone": "concise",
}
CS = SHOP["cs_phone"]
PREFIX = "MI"

_WARRANTY = "제품 하자 시 구입일로부터 1년 이내 무상 수리 또는 교환 (소비자분쟁해결기준에 따름)"
_COTTON_WASH = "30℃ 이하 물에 중성세제로 뒤집어서 세탁, 표백제 사용 금지, 건조기 사용 시 수축될 수 있음"


def _wear(name, colors, *, price, material, size, wash, made_ym, maker="데일리핏", origin="대한민국",
          brand="데일리핏", certs=(), keywords=(), copy=None) -> list[Item]:
    rows = []
    for color in colors:
        notice = {"material": material, "color": color, "size": size, "caution": wash,
                  "manufactured_ym": made_ym, "warranty": _WARRANTY,
                  "as_contact": f"매일상회 고객센터 {CS}"}
        rows.append(Item(
            category="wear", name=f"{brand} {name} {color}", brand=brand, maker=maker, origin=origin,
            price=price, net=None, allergens=[], cross=None, storage=None, use_by=None,
            certs=list(certs), keywords=list(keywords), copy=copy, barcode=True, notice=notice))
    return rows


_FAB = "(주)한올섬유"


def wear() -> list[Item]:
    rows: list[Item] = []
    rows += _wear("코튼 무지 반팔 티셔츠", ["화이트", "블랙", "네이비", "멜란지그레이"], price=12900,
                  material="면 100%", size="S, M, L, XL (M 기준 가슴단면 54cm, 총장 70cm)", wash=_COTTON_WASH,
                  made_ym="2025.04", keywords=["반팔티", "무지티", "면티", "기본티"],
                  copy="매일 입기 좋은 20수 면 기본 티셔츠입니다.")
    rows += _wear("기모 맨투맨", ["그레이", "네이비", "오트밀"], price=29900,
                  material="면 80%, 폴리에스터 20% (안감 기모)", size="M, L, XL (L 기준 가슴단면 60cm, 총장 69cm)",
                  wash=_COTTON_WASH, made_ym="2025.09", keywords=["맨투맨", "기모", "겨울"])
    rows += _wear("린넨 셔츠", ["화이트", "스카이블루", "베이지"], price=34900, material="린넨 55%, 면 45%",
                  size="M, L, XL (L 기준 가슴단면 58cm, 총장 76cm)",
                  wash="30℃ 이하 물에 중성세제로 손세탁, 비틀어 짜지 말 것, 그늘에서 뉘어 건조",
                  made_ym="2025.03", maker=_FAB, origin="중국", keywords=["린넨셔츠", "여름셔츠", "린넨"])
    rows += _wear("스트레이트 데님 팬츠", ["연청", "진청"], price=39900, material="면 98%, 폴리우레탄 2%",
                  size="26, 27, 28, 29, 30, 32 (28 기준 허리단면 37cm, 총장 101cm)",
                  wash="첫 세탁은 단독으로 찬물에 뒤집어 세탁, 이염될 수 있으니 밝은 옷과 함께 세탁하지 말 것",
                  made_ym="2025.02", maker=_FAB, origin="베트남", keywords=["청바지", "데님", "일자바지"])
    rows += _wear("라운드 니트 가디건", ["아이보리", "차콜", "핑크"], price=44900,
                  material="아크릴 60%, 울 20%, 나일론 20%", size="FREE (가슴단면 56cm, 총장 58cm, 소매 60cm)",
                  wash="드라이클리닝 권장, 손세탁 시 30℃ 이하 물에 울 전용 세제 사용, 뉘어서 건조",
                  made_ym="2025.08", maker=_FAB, origin="중국", keywords=["가디건", "니트", "간절기"])
    rows += _wear("오버핏 후드티", ["블랙", "멜란지그레이", "네이비"], price=32900,
                  material="면 70%, 폴리에스터 30%", size="M, L, XL (L 기준 가슴단면 64cm, 총장 72cm)",
                  wash=_COTTON_WASH, made_ym="2025.09", keywords=["후드티", "오버핏", "후디"])
    rows += _wear("하이웨스트 레깅스", ["블랙", "네이비", "차콜"], price=19900,
                  material="나일론 75%, 폴리우레탄 25%", size="S, M, L (M 기준 허리단면 31cm, 총장 88cm)",
                  wash="찬물에 중성세제로 손세탁, 섬유유연제·건조기 사용 금지",
                  made_ym="2025.05", keywords=["레깅스", "요가", "운동복"])
    rows += _wear("트레이닝 조거팬츠", ["블랙", "그레이"], price=24900, material="폴리에스터 100%",
                  size="M, L, XL, 2XL (L 기준 허리단면 36~44cm 밴딩, 총장 99cm)",
                  wash="30℃ 이하 물에 세탁망 사용, 다림질 금지", made_ym="2025.06", maker=_FAB, origin="베트남",
                  keywords=["조거팬츠", "트레이닝", "운동복"])
    rows += _wear("데일리 양말 5족 세트", ["여성 혼합색", "남성 혼합색"], price=9900,
                  material="면 80%, 폴리에스터 17%, 폴리우레탄 3%", size="여성 220~250mm, 남성 250~280mm",
                  wash="40℃ 이하 물에 세탁, 표백제 사용 금지", made_ym="2025.07",
                  keywords=["양말", "면양말", "세트"])
    rows += _wear("면 파자마 세트", ["블루체크", "그레이스트라이프", "핑크체크"], price=32900,
                  material="면 100%", size="M, L (L 기준 상의 가슴단면 60cm, 하의 총장 98cm)", wash=_COTTON_WASH,
                  made_ym="2025.04", keywords=["잠옷", "파자마", "홈웨어"])
    rows += _wear("경량 패딩 조끼", ["블랙", "카키", "베이지"], price=49000,
                  material="겉감: 나일론 100% / 안감: 나일론 100% / 충전재: 오리솜털 80%, 오리깃털 20%",
                  size="M, L, XL (L 기준 가슴단면 56cm)",
                  wash="드라이클리닝 금지, 30℃ 이하 물에 다운 전용 세제로 손세탁, 뉘어서 건조 후 두드려 줄 것",
                  made_ym="2025.08", maker=_FAB, origin="베트남", keywords=["패딩조끼", "경량패딩", "덕다운"])
    rows += _wear("기모 밴딩 슬랙스", ["블랙", "차콜", "베이지"], price=29900,
                  material="폴리에스터 70%, 레이온 26%, 폴리우레탄 4% (안감 기모)",
                  size="S, M, L, XL (M 기준 허리단면 33~39cm 밴딩)", wash="30℃ 이하 물에 손세탁, 건조기 사용 금지",
                  made_ym="2025.09", keywords=["슬랙스", "밴딩바지", "기모"])
    rows += _wear("플라워 롱 원피스", ["네이비플라워", "아이보리플라워"], price=39900, material="레이온 100%",
                  size="FREE (가슴단면 50cm, 총장 120cm)", wash="드라이클리닝 권장", made_ym="2025.03",
                  maker=_FAB, origin="중국", keywords=["원피스", "롱원피스", "플라워"])
    rows += _wear("아동 순면 내복 세트", ["옐로우", "민트", "그레이"], price=18900, material="면 100%",
                  size="90, 100, 110, 120 (권장 키 기준)", wash=_COTTON_WASH, made_ym="2025.08",
                  brand="꼬마데일리", maker="데일리핏", certs=["KC"], keywords=["아동내복", "내복", "순면"],
                  copy="어린이제품 안전확인을 받은 순면 내복입니다.")
    rows += _wear("스트라이프 긴팔 티셔츠", ["네이비스트라이프", "블랙스트라이프", "레드스트라이프"], price=19900,
                  material="면 100%", size="S, M, L (M 기준 가슴단면 50cm, 총장 64cm)", wash=_COTTON_WASH,
                  made_ym="2025.02", keywords=["긴팔티", "스트라이프", "봄"])
    rows += _wear("코튼 하프 팬츠", ["베이지", "차콜"], price=22900, material="면 97%, 폴리우레탄 3%",
                  size="M, L, XL (L 기준 허리단면 39cm, 총장 48cm)", wash=_COTTON_WASH, made_ym="2025.04",
                  keywords=["반바지", "하프팬츠", "여름"])
    return rows

"""Sample data of the food shop (한밭식탁): its policy and the 가공식품 lines (agri.py and
health.py hold its other categories). Plain data read by `build.py`; every fact is fictional
but kept consistent: allergens follow the ingredients, imports carry the import statement."""

from __future__ import annotations

from smallretail_llm.catalog.samples.item import Item

SHOP = {
    "shop_id": "hanbat_food",
    "shop_name": "한밭식탁",
    "shipping_fee_krw": 3000,
    "free_shipping_threshold_krw": 30000,
    "shipping_days": "평일 오후 2시 이전 결제 시 당일 출고, 출고 후 1~2일 이내 도착 "
                     "(신선·냉장·냉동식품은 금요일과 공휴일 전날에 출고하지 않습니다)",
    "courier": "CJ대한통운",
    "return_policy": "신선식품과 냉장·냉동식품은 단순 변심으로 인한 교환·반품이 어렵습니다. "
                     "상품 하자나 오배송은 수령 후 7일 이내(신선식품은 수령 다음 날까지) 사진과 함께 "
                     "고객센터로 알려 주시면 무료로 교환 또는 환불해 드립니다. 실온 가공식품은 미개봉 "
                     "상태에서 수령 후 7일 이내 반품할 수 있으며, 이때 왕복 배송비는 고객 부담입니다.",
    "return_shipping_fee_krw": 6000,
    "cs_phone": "1588-4821",
    "cs_hours": "평일 09:00~18:00 (점심시간 12:00~13:00, 주말·공휴일 휴무)",
    "tone": "friendly",
}
CS = SHOP["cs_phone"]
PREFIX = "HB"

_ROOM = "직사광선을 피해 서늘하고 건조한 곳에 보관"
_FRIDGE_AFTER = "개봉 전 서늘한 곳, 개봉 후 냉장 보관(0~10℃)"
_FROZEN = "-18℃ 이하 냉동 보관, 해동 후 재냉동하지 마세요"
_NO_GMO = "해당 없음"
_IMPORT_FOOD = "수입식품안전관리 특별법에 따른 수입신고를 필함"
_IMPORT_HEALTH = "건강기능식품에 관한 법률에 따른 수입신고를 필함"
_NOT_MEDICINE = "본 제품은 질병의 예방 및 치료를 위한 의약품이 아닙니다."


def _caution(allergens: list[str], cross: str | None, extra: str) -> str:
    parts = []
    if allergens:
        parts.append(f"알레르기 유발물질: {', '.join(allergens)} 함유.")
    if cross:
        parts.append(cross)
    parts.append(extra)
    return " ".join(parts)


def _processed(name, variants, *, ftype, brand, maker, location, ingredients, allergens=(),
               cross=None, storage=_ROOM, shelf=12, nutrition=None, certs=(), keywords=(),
               origin="국내산", imported=False, copy=None) -> list[Item]:
    """One product line (e.g. 고추장) in several sizes/flavours; a variant may override facts."""
    rows = []
    for variant in variants:
        vname, net, price, *over = variant
        facts = {"ingredients": ingredients, "allergens": list(allergens), **(over[0] if over else {})}
        notice = {"food_type": ftype, "producer_location": location,
                  "ingredients": facts["ingredients"],
                  "safety_caution": _caution(facts["allergens"], cross,
                                             "포장재 절단면에 손이 다치지 않도록 주의하세요."),
                  "gmo": _NO_GMO, "cs_phone": CS}
        if nutrition:
            notice["nutrition"] = nutrition
        if imported:
            notice["import_notice"] = _IMPORT_FOOD
        rows.append(Item(
            category="processed_food", name=f"{brand} {name} {vname}".strip(), brand=brand,
            maker=maker, origin=origin, price=price, net=net, allergens=facts["allergens"],
            cross=cross, storage=storage, use_by=shelf, certs=list(certs),
            keywords=list(keywords), copy=copy, barcode=True, notice=notice))
    return rows


def processed_food() -> list[Item]:
    rows: list[Item] = []
    rows += _processed(
        "귀리 그래놀라", [("오리지널 350g", "350g", 8900), ("오리지널 700g", "700g", 15900),
                     ("카카오 350g", "350g", 9500, {
                         "ingredients": "귀리(호주산) 45%, 아몬드(미국산) 10%, 코코아분말(네덜란드산) 6%, "
                                        "아카시아꿀(국산), 현미유, 전지분유(우유), 다크초콜릿칩(코코아매스, "
                                        "설탕, 코코아버터), 정제소금", "allergens": ["우유"]})],
        ftype="시리얼류", brand="아침들녘", maker="(주)들녘푸드",
        location="충청남도 논산시 연무읍 마전로 112",
        ingredients="귀리(호주산) 48%, 아몬드(미국산) 12%, 아카시아꿀(국산) 10%, 현미유, "
                    "코코넛칩(필리핀산), 해바라기씨, 건크랜베리(미국산), 정제소금",
        cross="이 제품은 땅콩, 호두를 사용한 제품과 같은 제조시설에서 제조하고 있습니다.",
        storage=_ROOM + ", 개봉 후 밀봉하여 보관", shelf=10, certs=["HACCP"],
        nutrition="1회 제공량 40g당 열량 180kcal, 탄수화물 24g, 당류 6g, 단백질 5g, 지방 7g, 나트륨 45mg",
        keywords=["그래놀라", "시리얼", "아침식사", "귀리"],
        copy="오븐에 천천히 구워 바삭한 수제 그래놀라예요. 우유나 요거트에 곁들여 드세요.")
    rows += _processed(
        "순창 찹쌀고추장", [("500g", "500g", 9800), ("1kg", "1kg", 16500), ("2kg", "2kg", 29000)],
        ftype="고추장", brand="햇살장독", maker="햇살장독 영농조합법인",
        location="전라북도 순창군 순창읍 장류로 45",
        ingredients="찹쌀(국산) 22%, 고춧가루(국산) 18%, 물엿, 메주가루(대두:국산) 8%, "
                    "엿기름(보리:국산), 천일염(국산), 주정",
        allergens=["대두"], storage=_FRIDGE_AFTER, shelf=18, certs=["HACCP"],
        keywords=["고추장", "순창", "찹쌀고추장", "전통장"])
    rows += _processed(
        "재래식 된장", [("500g", "500g", 8500), ("1kg", "1kg", 14900)],
        ftype="한식된장", brand="햇살장독", maker="햇살장독 영농조합법인",
        location="전라북도 순창군 순창읍 장류로 45", ingredients="대두(국산) 88%, 천일염(국산) 12%",
        allergens=["대두"], storage=_FRIDGE_AFTER, shelf=18, keywords=["된장", "재래식된장", "전통장"])
    rows += _processed(
        "한식 집간장", [("500mL", "500mL", 11000), ("900mL", "900mL", 18000)],
        ftype="한식간장", brand="햇살장독", maker="햇살장독 영농조합법인",
        location="전라북도 순창군 순창읍 장류로 45", ingredients="대두(국산) 30%, 천일염(국산), 정제수",
        allergens=["대두"], storage=_FRIDGE_AFTER, shelf=24, keywords=["간장", "국간장", "집간장"])
    rows += _processed(
        "국산 참기름", [("180mL", "180mL", 13900), ("300mL", "300mL", 21000)],
        ftype="참기름", brand="고소한방앗간", maker="고소한방앗간",
        location="경상북도 의성군 의성읍 중앙길 21", ingredients="참깨(국산) 100%", shelf=18,
        keywords=["참기름", "국산참깨", "방앗간"],
        copy="국산 참깨를 저온에서 볶아 짠 참기름입니다.")
    rows += _processed(
        "국산 들기름", [("180mL", "180mL", 12500), ("300mL", "300mL", 18900)],
        ftype="들기름", brand="고소한방앗간", maker="고소한방앗간",
        location="경상북도 의성군 의성읍 중앙길 21", ingredients="들깨(국산) 100%",
        storage="개봉 후 냉장 보관(0~10℃)", shelf=12, keywords=["들기름", "국산들깨", "방앗간"])
    rows += _processed(
        "국산 들깨가루", [("200g", "200g", 8500), ("500g", "500g", 18500)],
        ftype="기타 농산가공품", brand="고소한방앗간", maker="고소한방앗간",
        location="경상북도 의성군 의성읍 중앙길 21", ingredients="들깨(국산) 100%",
        storage="개봉 후 밀봉하여 냉장 보관", shelf=12, keywords=["들깨가루", "들깨", "탕용"])
    rows += _processed(
        "수제 잼", [("딸기잼 300g", "300g", 7900),
                  ("블루베리잼 300g", "300g", 8900,
                   {"ingredients": "블루베리(국산) 58%, 설탕, 레몬즙, 펙틴"}),
                  ("복숭아잼 300g", "300g", 8500,
                   {"ingredients": "복숭아(국산) 60%, 설탕, 레몬즙, 펙틴", "allergens": ["복숭아"]})],
        ftype="잼", brand="봄날잼공방", maker="봄날잼공방", location="경기도 양평군 양서면 북한강로 88",
        ingredients="딸기(국산) 60%, 설탕 38%, 레몬즙, 펙틴",
        storage="개봉 후 냉장 보관(0~10℃)하고 2주 이내에 드세요", shelf=12,
        keywords=["수제잼", "잼", "토스트"])
    rows += _processed(
        "버터쿠키", [("틴케이스 400g", "400g", 12900), ("선물세트 400g x 2개", "400g x 2개", 23900)],
        ftype="과자", brand="달콤한오후", maker="(주)달콤한오후",
        location="경기도 김포시 통진읍 김포대로 1890",
        ingredients="밀가루(밀:미국산) 38%, 버터(우유:뉴질랜드산) 25%, 설탕, 전란액(계란:국산), "
                    "전지분유(우유), 바닐라향, 정제소금",
        allergens=["알류", "우유", "밀"],
        cross="이 제품은 땅콩, 대두, 호두를 사용한 제품과 같은 제조시설에서 제조하고 있습니다.",
        shelf=8, certs=["HACCP"],
        nutrition="1봉(400g)당 열량 2,080kcal, 나트륨 720mg, 탄수화물 248g, 당류 96g, 지방 108g, "
                  "포화지방 64g, 단백질 24g",
        keywords=["쿠키", "버터쿠키", "간식", "선물"])
    rows += _processed(
        "솥누룽지", [("500g", "500g", 7900), ("1kg", "1kg", 13900)],
        ftype="곡류가공품", brand="가마솥", maker="(주)가마솥식품",
        location="경기도 이천시 부발읍 경충대로 2031", ingredients="쌀(국산) 100%", shelf=12,
        certs=["HACCP"], keywords=["누룽지", "숭늉", "간편식"])
    rows += _processed(
        "전통 식혜", [("1.5L", "1.5L", 5900), ("1.5L x 2개", "1.5L x 2개", 10900)],
        ftype="식혜", brand="가마솥", maker="(주)가마솥식품", location="경기도 이천시 부발읍 경충대로 2031",
        ingredients="정제수, 쌀(국산) 8%, 설탕, 엿기름(보리:국산) 2%",
        storage="냉장 보관(0~10℃), 개봉 후 빨리 드세요", shelf=3, keywords=["식혜", "음료", "전통음료"])
    rows += _processed(
        "곱창김", [("전장 20g x 10봉", "20g x 10봉", 15900), ("도시락김 4g x 16봉", "4g x 16봉", 9900)],
        ftype="조미김", brand="바다한장", maker="바다한장수산", location="전라남도 완도군 완도읍 장보고대로 300",
        ingredients="김(국산) 80%, 들기름(들깨:국산) 10%, 참기름(참깨:중국산), 천일염(국산)",
        cross="이 제품은 새우, 게, 오징어를 사용한 제품과 같은 제조시설에서 제조하고 있습니다.",
        storage=_ROOM + ", 개봉 후 빨리 드세요", shelf=10, keywords=["김", "곱창김", "도시락김", "반찬"])
    rows += _processed(
        "멸치 육수팩", [("15g x 20봉", "15g x 20봉", 9900), ("15g x 40봉", "15g x 40봉", 17900)],
        ftype="복합조미식품", brand="바다한장", maker="바다한장수산",
        location="전라남도 완도군 완도읍 장보고대로 300",
        ingredients="멸치(국산) 40%, 다시마(국산) 20%, 새우(국산) 10%, 무(국산), 대파(국산), 표고버섯(국산)",
        allergens=["새우"], cross="이 제품은 게, 오징어를 사용한 제품과 같은 제조시설에서 제조하고 있습니다.",
        shelf=12, keywords=["육수", "육수팩", "멸치", "국물"])
    rows += _processed(
        "한돈 수제 떡갈비", [("500g", "500g", 12900), ("1kg", "1kg", 23900)],
        ftype="분쇄가공육제품", brand="참맛정육", maker="(주)참맛푸드",
        location="충청북도 음성군 대소면 대풍산단로 55",
        ingredients="돼지고기(국산) 62%, 양파(국산), 간장(대두, 밀), 설탕, 찹쌀가루(국산), "
                    "다진마늘(국산), 참기름, 후추",
        allergens=["대두", "밀", "돼지고기"], storage=_FROZEN, shelf=12, certs=["HACCP"],
        keywords=["떡갈비", "한돈", "냉동", "반찬"])
    rows += _processed(
        "새우 물만두", [("1kg", "1kg", 11900), ("1kg x 2개", "1kg x 2개", 21900)],
        ftype="만두", brand="손만두집", maker="(주)손만두집", location="인천광역시 남동구 남동서로 145",
        ingredients="만두피[밀가루(밀:미국산), 정제수, 정제소금], 돼지고기(국산) 28%, 새우(베트남산) 12%, "
                    "양배추(국산), 두부(대두:미국산), 대파, 참기름, 간장(대두, 밀)",
        allergens=["대두", "밀", "새우", "돼지고기"], storage=_FROZEN, shelf=9, certs=["HACCP"],
        keywords=["만두", "물만두", "새우만두", "냉동"])
    rows += _processed(
        "토마토 파스타소스", [("바질 400g", "400g", 6900),
                       ("아라비아타 400g", "400g", 7200, {
                           "ingredients": "토마토(이탈리아산) 80%, 엑스트라버진 올리브유, 양파, 고추, "
                                          "정제소금, 마늘"})],
        ftype="소스", brand="까사로사", maker="Rossi Conserve S.r.l. (수입자: (주)지중해식탁)",
        location="이탈리아 파르마 / 수입원: (주)지중해식탁, 서울특별시 마포구 월드컵북로 12",
        ingredients="토마토(이탈리아산) 82%, 엑스트라버진 올리브유, 양파, 바질, 정제소금, 마늘",
        allergens=["토마토"], storage="개봉 전 실온, 개봉 후 냉장 보관하고 5일 이내에 드세요", shelf=24,
        origin="이탈리아", imported=True, keywords=["파스타소스", "토마토소스", "이탈리아"])
    rows += _processed(
        "엑스트라버진 올리브유", [("500mL", "500mL", 15900), ("1L", "1L", 27900)],
        ftype="올리브유", brand="솔레아", maker="Aceites del Sur S.L. (수입자: (주)지중해식탁)",
        location="스페인 하엔 / 수입원: (주)지중해식탁, 서울특별시 마포구 월드컵북로 12",
        ingredients="올리브(스페인산) 100%", shelf=24, origin="스페인", imported=True,
        keywords=["올리브유", "올리브오일", "샐러드"])
    rows += _processed(
        "구운 믹스넛", [("20g x 30봉", "20g x 30봉", 24900), ("500g", "500g", 13900)],
        ftype="땅콩 또는 견과류가공품", brand="한줌견과", maker="(주)한줌",
        location="경기도 화성시 향남읍 제약공단2길 30",
        ingredients="아몬드(미국산) 35%, 호두(미국산) 25%, 캐슈너트(베트남산) 20%, 땅콩(중국산) 15%, "
                    "건크랜베리(미국산) 5%",
        allergens=["땅콩", "호두"], shelf=12, certs=["HACCP"], keywords=["견과", "믹스넛", "하루견과"])
    rows += _processed(
        "고흥 유자차", [("1kg", "1kg", 14900), ("2kg", "2kg", 26000)],
        ftype="과·채가공품", brand="남도청", maker="남도청 농업회사법인",
        location="전라남도 고흥군 도양읍 녹동신항길 9", ingredients="유자(고흥산) 50%, 설탕 49.5%, 구연산",
        storage=_FRIDGE_AFTER, shelf=18, keywords=["유자차", "유자청", "고흥"])
    rows += _processed(
        "수제 생강청", [("500g", "500g", 12900), ("1kg", "1kg", 22000)],
        ftype="과·채가공품", brand="남도청", maker="남도청 농업회사법인",
        location="전라남도 고흥군 도양읍 녹동신항길 9", ingredients="생강(국산) 45%, 설탕 50%, 벌꿀(국산) 5%",
        storage=_FRIDGE_AFTER, shelf=12, keywords=["생강청", "생강차", "수제청"])
    rows += _processed(
        "찹쌀 약과", [("400g", "400g", 9900), ("1kg", "1kg", 21000)],
        ftype="과자", brand="할매손", maker="할매손 전통식품", location="경상북도 안동시 풍산읍 산업단지6길 10",
        ingredients="밀가루(밀:국산) 45%, 조청(쌀:국산), 참기름, 생강즙, 계피분말, 대두유(대두:외국산)",
        allergens=["대두", "밀"], shelf=6, keywords=["약과", "전통과자", "간식"])
    rows += _processed(
        "국산 볶은 보리차 티백", [("10g x 30개", "10g x 30개", 6900), ("10g x 60개", "10g x 60개", 12500)],
        ftype="침출차", brand="가마솥", maker="(주)가마솥식품", location="경기도 이천시 부발읍 경충대로 2031",
        ingredients="볶은보리(국산) 100%", shelf=18, keywords=["보리차", "티백", "구수한차"])
    rows += _processed(
        "청매실청", [("1kg", "1kg", 16900)], ftype="과·채가공품", brand="남도청", maker="남도청 농업회사법인",
        location="전라남도 고흥군 도양읍 녹동신항길 9", ingredients="매실(광양산) 50%, 설탕 50%",
        storage=_FRIDGE_AFTER, shelf=24, keywords=["매실청", "매실액", "수제청"])
    return rows

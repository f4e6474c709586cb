"""Sample data of the food shop (한밭식탁), 건강기능식품. 기능정보 uses the MFDS-recognised wording
for each functional ingredient, and every product keeps the "not a medicine" statement."""

from __future__ import annotations

from smallretail_llm.catalog.samples.food import _IMPORT_HEALTH, _NO_GMO, _NOT_MEDICINE, CS
from smallretail_llm.catalog.samples.item import Item

_ROOM = "직사광선을 피해 서늘하고 건조한 곳에 보관"
_CAUTION = "특이체질, 알레르기 체질의 경우 성분을 확인한 후 섭취하십시오. 어린이 손이 닿지 않는 곳에 보관하십시오."


def _health(name, variants, *, ftype, brand, maker, location, ingredients, nutrition, function,
            intake, allergens=(), storage=_ROOM, shelf=24, origin="대한민국", imported=False,
            certs=("GMP",), keywords=(), copy=None) -> list[Item]:
    rows = []
    for vname, net, price in variants:
        notice = {"food_type": ftype, "producer_location": location, "ingredients": ingredients,
                  "nutrition": nutrition, "function_info": function,
                  "intake": f"{intake} {_CAUTION}", "not_medicine_notice": _NOT_MEDICINE,
                  "gmo": _NO_GMO, "cs_phone": CS}
        if imported:
            notice["import_notice"] = _IMPORT_HEALTH
        rows.append(Item(
            category="health_food", name=f"{brand} {name} {vname}", brand=brand, maker=maker,
            origin=origin, price=price, net=net, allergens=list(allergens), cross=None,
            storage=storage, use_by=shelf, certs=list(certs), keywords=list(keywords), copy=copy,
            barcode=True, notice=notice))
    return rows


_HANBIT = {"maker": "(주)한빛바이오", "location": "충청북도 청주시 흥덕구 오송읍 오송생명로 190"}


def health_food() -> list[Item]:
    rows: list[Item] = []
    rows += _health(
        "6년근 홍삼정 스틱", [("10mL x 30포", "10mL x 30포", 49000), ("10mL x 60포", "10mL x 60포", 89000),
                         ("선물세트 10mL x 100포", "10mL x 100포", 139000)],
        ftype="홍삼", brand="고려정성", maker="(주)고려정성", location="충청남도 금산군 금산읍 인삼광장로 20",
        ingredients="홍삼농축액(홍삼근: 국산 6년근, 진세노사이드 Rg1, Rb1 및 Rg3의 합 9mg/포) 35%, "
                    "정제수, 프락토올리고당, 대추농축액(국산)",
        nutrition="1포(10mL)당 열량 15kcal, 탄수화물 3g, 당류 2g, 단백질 0g, 지방 0g, 나트륨 0mg",
        function="면역력 증진·피로개선·혈소판 응집억제를 통한 혈액흐름·기억력 개선·항산화에 도움을 줄 수 있음",
        intake="1일 1회, 1회 1포(10mL)를 그대로 섭취하십시오. 당뇨치료제, 혈액항응고제 복용 시 섭취에 주의하십시오.",
        keywords=["홍삼", "홍삼스틱", "6년근", "선물"],
        copy="6년근 홍삼을 농축해 한 포씩 간편하게 담았어요.")
    rows += _health(
        "19종 프로바이오틱스", [("2g x 30포", "2g x 30포", 29900), ("2g x 60포", "2g x 60포", 54900),
                          ("2g x 90포", "2g x 90포", 79000)],
        ftype="프로바이오틱스", brand="장건강연구소", maker="(주)바이오웰",
        location="전라북도 정읍시 첨단과학로 50",
        ingredients="프로바이오틱스 혼합분말(락토바실러스 애시도필루스 외 18종, 1포당 100억 CFU) 25%, "
                    "프락토올리고당, 탈지분유(우유), 대두식이섬유(대두)",
        nutrition="1포(2g)당 열량 5kcal, 탄수화물 1g, 당류 0g, 단백질 0g, 지방 0g, 나트륨 0mg",
        function="유산균 증식 및 유해균 억제·배변활동 원활에 도움을 줄 수 있음",
        intake="1일 1회, 1회 1포를 물과 함께 섭취하십시오. 이상사례 발생 시 섭취를 중단하고 전문가와 상담하십시오.",
        allergens=["우유", "대두"], storage=_ROOM + ", 개봉 후 냉장 보관 권장",
        keywords=["유산균", "프로바이오틱스", "장건강"])
    rows += _health(
        "rTG 오메가3", [("1,000mg x 60캡슐", "1,000mg x 60캡슐", 24900),
                      ("1,000mg x 120캡슐", "1,000mg x 120캡슐", 44900),
                      ("1,000mg x 180캡슐", "1,000mg x 180캡슐", 59000)],
        ftype="EPA 및 DHA 함유 유지", brand="바다에서온", maker="Nordic Marine AS (수입자: (주)북해헬스)",
        location="노르웨이 올레순 / 수입원: (주)북해헬스, 서울특별시 강남구 테헤란로 311",
        ingredients="rTG 오메가3 정제어유(노르웨이산, 안초비; EPA 및 DHA의 합 600mg/2캡슐), "
                    "캡슐피[젤라틴(돼지), 글리세린, 정제수], d-α-토코페롤",
        nutrition="2캡슐(2,000mg)당 열량 18kcal, 탄수화물 0g, 단백질 0.5g, 지방 1.8g, 나트륨 0mg",
        function="혈중 중성지질 개선·혈행 개선에 도움을 줄 수 있음, "
                 "건조한 눈을 개선하여 눈 건강에 도움을 줄 수 있음",
        intake="1일 1회, 1회 2캡슐을 물과 함께 섭취하십시오. 항응고제·항혈소판제·혈압강하제 복용 시 "
               "전문가와 상담하십시오.",
        allergens=["돼지고기"], origin="노르웨이", imported=True, keywords=["오메가3", "rTG", "혈행"])
    rows += _health(
        "비타민C 1000", [("1,100mg x 120정", "1,100mg x 120정", 15900), ("1,100mg x 240정", "1,100mg x 240정", 27900)],
        ftype="비타민C", brand="매일비타", **_HANBIT,
        ingredients="비타민C(영국산) 91%, 결정셀룰로스, 스테아린산마그네슘, 이산화규소",
        nutrition="1정(1,100mg)당 열량 4kcal, 탄수화물 1g, 비타민C 1,000mg(1일 영양성분 기준치 대비 1,000%)",
        function="결합조직 형성과 기능유지에 필요, 철의 흡수에 필요, "
                 "항산화 작용을 하여 유해산소로부터 세포를 보호하는데 필요",
        intake="1일 1회, 1회 1정을 물과 함께 섭취하십시오.", keywords=["비타민C", "비타민", "항산화"])
    rows += _health(
        "루테인 지아잔틴", [("500mg x 30캡슐", "500mg x 30캡슐", 14900), ("500mg x 90캡슐", "500mg x 90캡슐", 36900)],
        ftype="마리골드꽃추출물", brand="맑은눈", **_HANBIT,
        ingredients="마리골드꽃추출물(루테인 20mg/캡슐) 20%, 대두유(대두), 캡슐피[젤라틴(소), 글리세린]",
        nutrition="1캡슐(500mg)당 열량 3kcal, 지방 0.3g, 루테인 20mg",
        function="노화로 인해 감소될 수 있는 황반색소밀도를 유지하여 눈 건강에 도움을 줄 수 있음",
        intake="1일 1회, 1회 1캡슐을 물과 함께 섭취하십시오. 흡연자는 섭취 시 전문가와 상담하십시오.",
        allergens=["대두", "쇠고기"], keywords=["루테인", "눈건강", "지아잔틴"])
    rows += _health(
        "밀크씨슬", [("800mg x 60정", "800mg x 60정", 19900), ("800mg x 180정", "800mg x 180정", 49900)],
        ftype="밀크씨슬추출물", brand="매일비타", **_HANBIT,
        ingredients="밀크씨슬추출물(실리마린 130mg/정) 45%, 결정셀룰로스, 비타민B1, 스테아린산마그네슘",
        nutrition="1정(800mg)당 열량 3kcal, 탄수화물 0.6g, 실리마린 130mg",
        function="간 건강에 도움을 줄 수 있음",
        intake="1일 1회, 1회 1정을 물과 함께 섭취하십시오. 알레르기 반응이 나타나면 섭취를 중단하십시오.",
        keywords=["밀크씨슬", "실리마린", "간건강"])
    rows += _health(
        "칼슘 마그네슘 비타민D", [("1,200mg x 90정", "1,200mg x 90정", 16900),
                             ("1,200mg x 180정", "1,200mg x 180정", 29900)],
        ftype="칼슘", brand="매일비타", **_HANBIT,
        ingredients="탄산칼슘(칼슘 300mg/정), 산화마그네슘, 비타민D3 혼합제제, 결정셀룰로스, 스테아린산마그네슘",
        nutrition="2정(2,400mg)당 칼슘 600mg, 마그네슘 250mg, 비타민D 10μg",
        function="뼈와 치아 형성에 필요, 신경과 근육 기능 유지에 필요, 칼슘과 인이 흡수되고 이용되는데 필요",
        intake="1일 1회, 1회 2정을 물과 함께 섭취하십시오.", keywords=["칼슘", "마그네슘", "비타민D", "뼈건강"])
    rows += _health(
        "멀티비타민 미네랄", [("1,000mg x 60정", "1,000mg x 60정", 22900), ("1,000mg x 120정", "1,000mg x 120정", 39900)],
        ftype="비타민 및 무기질", brand="매일비타", **_HANBIT,
        ingredients="비타민 혼합제제(비타민A, B1, B2, B6, B12, C, D, E, 나이아신, 엽산), "
                    "무기질 혼합제제(아연, 셀레늄, 망간), 결정셀룰로스",
        nutrition="1정(1,000mg)당 비타민C 100mg, 비타민D 10μg, 아연 8.5mg, 셀레늄 55μg",
        function="에너지 이용에 필요, 항산화 작용을 하여 유해산소로부터 세포를 보호하는데 필요, 정상적인 면역기능에 필요",
        intake="1일 1회, 1회 1정을 식후에 물과 함께 섭취하십시오.", keywords=["종합비타민", "멀티비타민", "영양제"])
    rows += _health(
        "저분자 피쉬콜라겐", [("3g x 30포", "3g x 30포", 34900), ("3g x 90포", "3g x 90포", 89000)],
        ftype="저분자콜라겐펩타이드", brand="물결", maker="(주)바이오웰", location="전라북도 정읍시 첨단과학로 50",
        ingredients="저분자콜라겐펩타이드(어류: 틸라피아, 베트남산) 80%, 비타민C, 레몬분말",
        nutrition="1포(3g)당 열량 10kcal, 단백질 2.5g, 탄수화물 0g, 나트륨 5mg",
        function="피부 보습에 도움을 줄 수 있음",
        intake="1일 1회, 1회 1포를 물에 타거나 그대로 섭취하십시오.", keywords=["콜라겐", "피쉬콜라겐", "보습"])
    rows += _health(
        "아연", [("500mg x 90정", "500mg x 90정", 9900)], ftype="아연", brand="매일비타", **_HANBIT,
        ingredients="글루콘산아연(아연 8.5mg/정), 결정셀룰로스, 스테아린산마그네슘",
        nutrition="1정(500mg)당 아연 8.5mg(1일 영양성분 기준치 대비 100%)",
        function="정상적인 면역기능에 필요, 정상적인 세포분열에 필요",
        intake="1일 1회, 1회 1정을 물과 함께 섭취하십시오.", keywords=["아연", "면역", "영양제"])
    rows += _health(
        "가르시니아", [("700mg x 112정", "700mg x 112정", 29000)], ftype="가르시니아캄보지아 추출물",
        brand="가벼운하루", **_HANBIT,
        ingredients="가르시니아캄보지아추출물(HCA 750mg/2정) 60%, 결정셀룰로스, 이산화규소",
        nutrition="2정(1,400mg)당 열량 5kcal, 탄수화물 1g, HCA 750mg",
        function="탄수화물이 지방으로 합성되는 것을 억제하여 체지방 감소에 도움을 줄 수 있음",
        intake="1일 2회, 1회 2정을 식전에 물과 함께 섭취하십시오. 임산부·수유부·어린이는 섭취를 피하고, "
               "간·신장·심장 질환이 있는 경우 전문가와 상담하십시오.",
        keywords=["가르시니아", "체지방", "HCA"])
    rows += _health(
        "마그네슘", [("500mg x 60정", "500mg x 60정", 11900), ("500mg x 180정", "500mg x 180정", 29900)],
        ftype="마그네슘", brand="매일비타", **_HANBIT,
        ingredients="산화마그네슘(마그네슘 250mg/정), 결정셀룰로스, 스테아린산마그네슘",
        nutrition="1정(500mg)당 마그네슘 250mg(1일 영양성분 기준치 대비 80%)",
        function="에너지 이용에 필요, 신경과 근육 기능 유지에 필요",
        intake="1일 1회, 1회 1정을 물과 함께 섭취하십시오. 설사를 할 수 있으니 권장량을 지키십시오.",
        keywords=["마그네슘", "영양제", "근육"])
    rows += _health(
        "쏘팔메토", [("500mg x 60캡슐", "500mg x 60캡슐", 19900), ("500mg x 180캡슐", "500mg x 180캡슐", 49000)],
        ftype="쏘팔메토 열매 추출물", brand="고려정성", maker="(주)고려정성",
        location="충청남도 금산군 금산읍 인삼광장로 20",
        ingredients="쏘팔메토열매추출물(로르산 115mg/캡슐, 미국산) 64%, 캡슐피[젤라틴(돼지), 글리세린]",
        nutrition="1캡슐(500mg)당 열량 4kcal, 지방 0.4g, 로르산 115mg",
        function="전립선 건강의 유지에 도움을 줄 수 있음",
        intake="1일 1회, 1회 1캡슐을 물과 함께 섭취하십시오. 임산부, 수유부, 어린이는 섭취를 피하십시오.",
        allergens=["돼지고기"], keywords=["쏘팔메토", "전립선", "남성건강"])
    rows += _health(
        "철분", [("600mg x 60정", "600mg x 60정", 12900)], ftype="철", brand="매일비타", **_HANBIT,
        ingredients="푸마르산제일철(철 12mg/정), 비타민C, 결정셀룰로스, 스테아린산마그네슘",
        nutrition="1정(600mg)당 철 12mg(1일 영양성분 기준치 대비 100%)",
        function="체내 산소운반과 혈액생성에 필요, 에너지 생성에 필요",
        intake="1일 1회, 1회 1정을 물과 함께 섭취하십시오. 변비가 생길 수 있습니다.",
        keywords=["철분", "임산부", "영양제"])
    rows += _health(
        "비오틴", [("500mg x 90정", "500mg x 90정", 13900), ("500mg x 180정", "500mg x 180정", 24900)],
        ftype="비오틴", brand="매일비타", **_HANBIT,
        ingredients="비오틴 혼합제제(비오틴 300μg/정), 결정셀룰로스, 스테아린산마그네슘",
        nutrition="1정(500mg)당 비오틴 300μg(1일 영양성분 기준치 대비 1,000%)",
        function="지방, 탄수화물, 단백질 대사와 에너지 생성에 필요",
        intake="1일 1회, 1회 1정을 물과 함께 섭취하십시오.", keywords=["비오틴", "비타민B", "영양제"])
    rows += _health(
        "엽산", [("400mg x 60정", "400mg x 60정", 9900), ("400mg x 120정", "400mg x 120정", 16900)],
        ftype="엽산", brand="매일비타", **_HANBIT,
        ingredients="엽산 혼합제제(엽산 400μg/정), 결정셀룰로스, 스테아린산마그네슘",
        nutrition="1정(400mg)당 엽산 400μg(1일 영양성분 기준치 대비 100%)",
        function="세포와 혈액생성에 필요, 태아 신경관의 정상 발달에 필요, "
                 "혈액의 호모시스테인 수준을 정상으로 유지하는데 필요",
        intake="1일 1회, 1회 1정을 물과 함께 섭취하십시오.", keywords=["엽산", "임산부", "영양제"])
    rows += _health(
        "비타민D 2000IU", [("200mg x 90캡슐", "200mg x 90캡슐", 11900), ("200mg x 180캡슐", "200mg x 180캡슐", 19900)],
        ftype="비타민D", brand="매일비타", **_HANBIT,
        ingredients="비타민D3 혼합제제(비타민D 50μg/캡슐), 대두유(대두), 캡슐피[젤라틴(돼지), 글리세린]",
        nutrition="1캡슐(200mg)당 비타민D 50μg(1일 영양성분 기준치 대비 500%)",
        function="칼슘과 인이 흡수되고 이용되는데 필요, 뼈의 형성과 유지에 필요, "
                 "골다공증발생 위험 감소에 도움을 줄 수 있음",
        intake="1일 1회, 1회 1캡슐을 물과 함께 섭취하십시오.", allergens=["대두", "돼지고기"],
        keywords=["비타민D", "뼈건강", "영양제"])
    return rows

"""Sample data of the food shop (한밭식탁), 식품(농수산물): fruit, grain, vegetables, seafood,
beef and eggs. Fresh produce has no barcode and states its use-by as a period after delivery."""

from __future__ import annotations

from smallretail_llm.catalog.samples.food import CS
from smallretail_llm.catalog.samples.item import Item

_COOL_DRY = "직사광선을 피해 서늘하고 건조한 곳에 보관"
_WASH = "드시기 전에 흐르는 물에 깨끗이 씻어 주세요."
_FRUIT_USE_BY = "수령 후 냉장 보관 시 14일 이내 섭취 권장"


def _agri(name, variants, *, producer, origin, season, use_by, storage, components, safety,
          allergens=(), legal=None, certs=(), keywords=(), barcode=False, pack_size=None,
          copy=None) -> list[Item]:
    """One product line in several pack sizes; `components` may contain {n} for the variant's count."""
    rows = []
    for vname, net, price, count in variants:
        notice = {"manufactured_on": season, "components": components.format(n=count),
                  "safety_caution": safety, "cs_phone": CS}
        if legal:
            notice["legal_marks"] = legal
        if pack_size:
            notice["pack_size"] = pack_size.format(n=count)
        rows.append(Item(
            category="agri_food", name=f"{name} {vname}", brand=None, maker=producer, origin=origin,
            price=price, net=net, allergens=list(allergens), cross=None, storage=storage,
            use_by=use_by, certs=list(certs), keywords=list(keywords), copy=copy, barcode=barcode,
            notice=notice))
    return rows


def agri_food() -> list[Item]:
    rows: list[Item] = []
    rows += _agri(
        "청송 꿀사과", [("2kg", "2kg", 29900, "7~9과"), ("5kg", "5kg", 59000, "16~20과")],
        producer="청송사과농원(김영수)", origin="국내산(경상북도 청송군)", season="2025년산, 수확일 별도 표기",
        use_by=_FRUIT_USE_BY, storage="냉장 보관(0~4℃), 비닐에 싸서 보관하면 더 오래 갑니다",
        components="사과 {n}", pack_size="{n}, 골판지 상자", safety=_WASH, certs=["GAP"],
        keywords=["사과", "청송사과", "꿀사과", "제철과일"],
        copy="일교차 큰 청송에서 자란 부사 품종 사과입니다.")
    rows += _agri(
        "제주 노지감귤", [("3kg", "3kg", 17900, "S~M 크기 약 35~45과"), ("5kg", "5kg", 26900, "S~M 크기 약 60~70과")],
        producer="서귀포 귤림농장(고영희)", origin="국내산(제주특별자치도 서귀포시)",
        season="2025년산, 수확일 별도 표기", use_by="수령 후 서늘한 곳에서 10일 이내 섭취 권장",
        storage="서늘하고 통풍이 잘 되는 곳에 보관, 상자에서 꺼내 서로 닿지 않게 펼쳐 두세요",
        components="감귤 {n}", safety=_WASH + " 운송 중 일부 과실이 눌릴 수 있습니다.",
        certs=["무농약"], keywords=["감귤", "귤", "제주감귤", "노지감귤"])
    rows += _agri(
        "성주 꿀참외", [("2kg", "2kg", 24900, "6~9과"), ("4kg", "4kg", 45000, "12~16과")],
        producer="성주참외작목반(이상철)", origin="국내산(경상북도 성주군)", season="2025년산, 수확일 별도 표기",
        use_by="수령 후 냉장 보관 시 7일 이내 섭취 권장", storage="냉장 보관(5~10℃)",
        components="참외 {n}", safety=_WASH, certs=["GAP"], keywords=["참외", "성주참외", "여름과일"])
    rows += _agri(
        "나주 신고배", [("5kg", "5kg", 39900, "8~10과"), ("7.5kg", "7.5kg", 55000, "12~14과")],
        producer="나주배영농조합법인", origin="국내산(전라남도 나주시)", season="2025년산, 수확일 별도 표기",
        use_by=_FRUIT_USE_BY, storage="냉장 보관(0~4℃)", components="배 {n}", safety=_WASH,
        keywords=["배", "나주배", "신고배", "명절선물"])
    rows += _agri(
        "이천 햅쌀", [("10kg", "10kg", 38900, "백미 10kg 1포"), ("20kg", "20kg", 69000, "백미 20kg 1포")],
        producer="이천쌀영농조합법인", origin="국내산(경기도 이천시)", season="생산연도 2025년, 도정일 별도 표기",
        use_by=12, storage=_COOL_DRY + ", 개봉 후 밀폐용기에 담아 보관", components="{n}",
        safety="도정 후 시간이 지나면 밥맛이 떨어질 수 있으니 개봉 후 빨리 드세요.",
        legal="품종: 추청(단일품종), 등급: 특", barcode=True, keywords=["쌀", "햅쌀", "이천쌀", "백미"])
    rows += _agri(
        "국산 찰현미", [("4kg", "4kg", 18900, "찰현미 4kg 1봉"), ("유기농 4kg", "4kg", 24900, "유기농 찰현미 4kg 1봉")],
        producer="해남들녘농장(박순자)", origin="국내산(전라남도 해남군)", season="생산연도 2025년",
        use_by=12, storage=_COOL_DRY, components="{n}", safety="물에 충분히 불린 뒤 밥을 지어 주세요.",
        barcode=True, keywords=["현미", "찰현미", "잡곡"])
    rows[-1].certs = ["유기농"]  # only the organic variant is certified
    rows += _agri(
        "국산 오곡 혼합잡곡", [("1kg", "1kg", 12900, "1kg 1봉"), ("2kg", "2kg", 23900, "1kg x 2봉")],
        producer="해남들녘농장(박순자)", origin="국내산", season="생산연도 2025년", use_by=12, storage=_COOL_DRY,
        components="찹쌀 30%, 현미 20%, 흑미 20%, 찰수수 15%, 서리태(콩) 15% / {n}",
        safety="알레르기 유발물질: 대두 함유. 물에 충분히 불린 뒤 밥을 지어 주세요.",
        allergens=["대두"], barcode=True, keywords=["오곡", "혼합잡곡", "잡곡밥"])
    rows += _agri(
        "장흥 건표고버섯", [("동고 200g", "200g", 19900, "건표고(동고) 200g 1봉"),
                      ("슬라이스 100g", "100g", 9900, "건표고 슬라이스 100g 1봉")],
        producer="장흥표고마을(정미숙)", origin="국내산(전라남도 장흥군)", season="생산연도 2025년",
        use_by=18, storage=_COOL_DRY + ", 개봉 후 밀봉하여 보관", components="{n}",
        safety="물에 불린 뒤 충분히 익혀 드세요.", certs=["무농약"], barcode=True,
        keywords=["표고버섯", "건표고", "장흥"])
    rows += _agri(
        "의성 깐마늘", [("1kg", "1kg", 13900, "깐마늘 1kg"), ("2kg", "2kg", 25900, "깐마늘 1kg x 2봉")],
        producer="의성마늘농협", origin="국내산(경상북도 의성군)", season="2025년산, 포장일 별도 표기",
        use_by="수령 후 냉장 보관 시 10일 이내 섭취 권장", storage="냉장 보관(0~4℃)", components="{n}",
        safety="수령 후 바로 냉장 보관해 주세요. 장기 보관 시 소분하여 냉동 보관하세요.",
        keywords=["마늘", "깐마늘", "의성마늘"])
    rows += _agri(
        "영양 고춧가루", [("보통맛 500g", "500g", 21900, "고춧가루 500g 1봉"),
                     ("보통맛 1kg", "1kg", 41000, "고춧가루 1kg 1봉")],
        producer="영양고추유통공사", origin="국내산(경상북도 영양군)", season="생산연도 2025년",
        use_by=24, storage="밀봉하여 냉동 보관하면 색과 향이 오래 유지됩니다", components="{n}",
        safety="눈에 들어가지 않도록 주의하세요.", certs=["GAP"], barcode=True,
        keywords=["고춧가루", "김장", "영양고추"])
    rows += _agri(
        "완도 활전복", [("1kg 10~12미", "1kg", 49000, "살아있는 전복 10~12미"), ("1kg 13~15미", "1kg", 42000, "살아있는 전복 13~15미")],
        producer="완도청정전복(최민호)", origin="국내산(전라남도 완도군)", season="포장일 별도 표기",
        use_by="수령 후 냉장 보관하여 2일 이내 섭취 권장", storage="냉장 보관(0~5℃), 수령 즉시 손질하세요",
        components="{n}", safety="알레르기 유발물질: 조개류(전복). 충분히 익혀 드시길 권장합니다.",
        allergens=["조개류"], legal="양식 수산물", keywords=["전복", "활전복", "완도", "보양식"])
    rows += _agri(
        "안동 간고등어", [("2손(4마리) 800g", "800g", 19900, "손질 간고등어 2손(4마리)"),
                     ("4손(8마리) 1.6kg", "1.6kg", 36900, "손질 간고등어 4손(8마리)")],
        producer="안동간고등어(주)", origin="국내산(고등어: 국내산, 천일염: 국내산)", season="포장일 별도 표기",
        use_by=6, storage="-18℃ 이하 냉동 보관", components="{n}",
        safety="알레르기 유발물질: 고등어. 가시에 주의하세요.", allergens=["고등어"], barcode=True,
        keywords=["고등어", "간고등어", "안동", "생선"])
    rows += _agri(
        "국산 마른오징어", [("5미(약 400g)", "400g", 39900, "마른오징어 5미"),
                      ("10미(약 800g)", "800g", 75000, "마른오징어 10미")],
        producer="동해건어물(김동해)", origin="국내산(강원특별자치도 강릉시)", season="2025년산",
        use_by=6, storage="냉동 보관", components="{n}", safety="알레르기 유발물질: 오징어.",
        allergens=["오징어"], keywords=["오징어", "마른오징어", "건어물", "안주"])
    rows += _agri(
        "기장 건미역", [("200g", "200g", 11900, "건미역 200g 1봉"), ("500g", "500g", 24900, "건미역 500g 1봉")],
        producer="기장해녀수산", origin="국내산(부산광역시 기장군)", season="2025년산", use_by=18,
        storage=_COOL_DRY, components="{n}", safety="물에 불리면 양이 10배 가까이 늘어납니다.",
        barcode=True, keywords=["미역", "건미역", "기장미역", "미역국"])
    rows += _agri(
        "한우 1등급 불고기용", [("500g", "500g", 32900, "한우(쇠고기) 앞다리 불고기용 500g"),
                         ("1kg", "1kg", 62000, "한우(쇠고기) 앞다리 불고기용 500g x 2팩")],
        producer="횡성한우마을 축산물가공장", origin="국내산(한우)", season="포장일 별도 표기",
        use_by="포장일로부터 냉장 7일", storage="냉장 보관(0~4℃), 장기 보관 시 냉동",
        components="{n}", safety="알레르기 유발물질: 쇠고기. 충분히 익혀 드세요.", allergens=["쇠고기"],
        legal="한우, 1등급, 쇠고기 이력번호는 제품 라벨에 표시", keywords=["한우", "불고기", "소고기"])
    rows += _agri(
        "한우 1등급 국거리", [("500g", "500g", 29900, "한우(쇠고기) 양지 국거리 500g")],
        producer="횡성한우마을 축산물가공장", origin="국내산(한우)", season="포장일 별도 표기",
        use_by="포장일로부터 냉장 7일", storage="냉장 보관(0~4℃), 장기 보관 시 냉동",
        components="{n}", safety="알레르기 유발물질: 쇠고기. 충분히 익혀 드세요.", allergens=["쇠고기"],
        legal="한우, 1등급, 쇠고기 이력번호는 제품 라벨에 표시", keywords=["한우", "국거리", "양지"])
    rows += _agri(
        "무항생제 유정란", [("특란 30구", "30개", 15900, "계란 특란 30구 1판"), ("특란 15구", "15개", 8900, "계란 특란 15구")],
        producer="햇살농장(한동수)", origin="국내산(충청남도 홍성군)", season="산란일자 난각 표시",
        use_by="산란일로부터 냉장 30일", storage="냉장 보관(0~10℃), 뾰족한 쪽을 아래로",
        components="{n}", safety="알레르기 유발물질: 알류(계란). 깨진 알은 드시지 마세요.",
        allergens=["알류"], legal="난각번호 표시(산란일자, 생산자고유번호, 사육환경번호 2)",
        keywords=["계란", "유정란", "달걀"])
    rows += _agri(
        "국산 참깨", [("500g", "500g", 19900, "참깨 500g 1봉"), ("1kg", "1kg", 37000, "참깨 1kg 1봉")],
        producer="의성참깨작목반", origin="국내산(경상북도 의성군)", season="2025년산", use_by=12,
        storage=_COOL_DRY, components="{n}", safety="씻어서 볶아 드세요.", barcode=True,
        keywords=["참깨", "국산참깨", "통깨"])
    rows += _agri(
        "제주 흙당근", [("3kg", "3kg", 12900, "흙당근 3kg (10~15개)"), ("5kg", "5kg", 18900, "흙당근 5kg (18~25개)")],
        producer="구좌당근작목반", origin="국내산(제주특별자치도 제주시 구좌읍)", season="2025년산",
        use_by="수령 후 냉장 보관 시 14일 이내 섭취 권장", storage="흙을 털지 말고 신문지에 싸서 냉장 보관",
        components="{n}", safety=_WASH, certs=["무농약"], keywords=["당근", "제주당근", "흙당근"])
    rows += _agri(
        "해남 꿀고구마", [("3kg", "3kg", 15900, "꿀고구마 3kg (중)"), ("5kg", "5kg", 23900, "꿀고구마 5kg (중)")],
        producer="해남땅끝고구마농장", origin="국내산(전라남도 해남군)", season="2025년산",
        use_by="수령 후 실온(12~15℃)에서 30일 이내 섭취 권장",
        storage="12~15℃ 실온 보관, 냉장 보관하지 마세요", components="{n}", safety=_WASH,
        keywords=["고구마", "꿀고구마", "해남"])
    rows += _agri(
        "햇감자 수미", [("5kg", "5kg", 19900, "감자 5kg (중)")],
        producer="강원감자농원", origin="국내산(강원특별자치도 평창군)", season="2025년산",
        use_by="수령 후 서늘한 곳에서 21일 이내 섭취 권장", storage="빛이 들지 않는 서늘한 곳에 보관",
        components="{n}", safety="싹이 난 부분과 초록색으로 변한 부분은 도려내고 드세요.",
        keywords=["감자", "햇감자", "수미감자"])
    rows += _agri(
        "GAP 대추방울토마토", [("1kg", "1kg", 11900, "대추방울토마토 1kg"), ("2kg", "2kg", 21900, "대추방울토마토 2kg")],
        producer="부여토마토작목반", origin="국내산(충청남도 부여군)", season="2025년산, 수확일 별도 표기",
        use_by="수령 후 냉장 보관 시 7일 이내 섭취 권장", storage="냉장 보관(5~10℃)", components="{n}",
        safety="알레르기 유발물질: 토마토. " + _WASH, allergens=["토마토"], certs=["GAP"],
        keywords=["방울토마토", "대추토마토", "토마토"])
    return rows

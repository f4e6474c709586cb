"""Sample data of the beauty & household shop (소담뷰티앤리빙): cosmetics with 전성분 (functional
claims only where the product passed 기능성 심사) and household chemicals with 신고번호."""

from __future__ import annotations

from smallretail_llm.catalog.samples.item import Item

SHOP = {
    "shop_id": "sodam_beauty",
    "shop_name": "소담뷰티앤리빙",
    "shipping_fee_krw": 2500,
    "free_shipping_threshold_krw": 20000,
    "shipping_days": "평일 오후 3시까지 결제 시 당일 출고(토·일·공휴일 제외), 출고 후 1~3일 이내 도착",
    "courier": "롯데택배",
    "return_policy": "상품 수령 후 7일 이내 교환·반품을 신청할 수 있습니다. 개봉했거나 사용한 화장품, "
                     "포장이 훼손된 세제류는 교환·반품이 어렵습니다. 사용 중 피부 이상이 생기면 "
                     "전문의 소견서를 보내 주시면 개봉한 상품도 반품해 드립니다. 단순 변심 반품의 "
                     "왕복 배송비는 고객 부담이고, 상품 하자나 오배송은 판매자가 부담합니다.",
    "return_shipping_fee_krw": 5000,
    "cs_phone": "02-512-3387",
    "cs_hours": "평일 10:00~17:00 (점심시간 12:30~13:30)",
    "tone": "polite",
}
CS = SHOP["cs_phone"]
PREFIX = "SD"

_SELLER = "(주)소담랩"
_COS_CAUTION = (
    "화장품 사용 시 또는 사용 후 직사광선에 의하여 사용부위가 붉은 반점, 부어오름 또는 가려움증 등의 "
    "이상 증상이나 부작용이 있는 경우 전문의 등과 상담할 것. 상처가 있는 부위 등에는 사용을 자제할 것. "
    "어린이의 손이 닿지 않는 곳에 보관할 것. 직사광선을 피해서 보관할 것."
)
_COS_WARRANTY = "공정거래위원회 고시 소비자분쟁해결기준에 따라 교환 또는 보상"
_BASE = "정제수, 글리세린, 부틸렌글라이콜, 1,2-헥산다이올, 에틸헥실글리세린"


def _cos(name, variants, *, maker, spec, usage, ingredients, functional=None, period=30,
         opened=12, origin="대한민국", keywords=(), copy=None) -> list[Item]:
    """Cosmetics line; `functional` is the 기능성 type the product passed (미백, 주름개선, 자외선차단)."""
    rows = []
    for vname, net, price, *vspec in variants:
        notice = {"specification": vspec[0] if vspec else spec, "usage": usage,
                  "use_by": f"제조일로부터 {period}개월 (개봉 후 {opened}개월 이내 사용)",
                  "responsible_seller": _SELLER, "all_ingredients": ingredients,
                  "caution": _COS_CAUTION, "warranty": _COS_WARRANTY, "cs_phone": CS}
        if functional:
            notice["functional_review"] = f"예 ({functional} 기능성화장품, 식품의약품안전처 심사 필)"
        rows.append(Item(
            category="cosmetics", name=f"소담랩 {name} {vname}".strip(), brand="소담랩", maker=maker,
            origin=origin, price=price, net=net, allergens=[], cross=None,
            storage="직사광선을 피해 서늘한 곳에 보관", use_by=None,
            certs=["기능성화장품"] if functional else [], keywords=list(keywords), copy=copy,
            barcode=True, notice=notice))
    return rows


_CNC, _BF, _GREEN = "(주)씨앤코스", "(주)뷰티팩토리", "(주)그린코스텍"


def cosmetics() -> list[Item]:
    rows: list[Item] = []
    rows += _cos("판테놀 수분크림", [("50mL", "50mL", 18000), ("100mL", "100mL", 29000)], maker=_CNC,
                 spec="모든 피부용(건성 피부 추천)",
                 usage="스킨케어 마지막 단계에서 적당량을 덜어 얼굴 전체에 펴 바른 뒤 가볍게 두드려 흡수시킵니다.",
                 ingredients=f"{_BASE}, 판테놀, 카프릴릭/카프릭트라이글리세라이드, 세테아릴알코올, 스쿠알란, "
                             "세라마이드엔피, 글리세릴스테아레이트, 카보머, 트로메타민, 알란토인, 잔탄검",
                 keywords=["수분크림", "판테놀", "보습크림"],
                 copy="끈적임 없이 촉촉하게 마무리되는 데일리 수분크림입니다.")
    rows += _cos("약산성 저자극 토너", [("200mL", "200mL", 15000), ("500mL", "500mL", 25000)], maker=_CNC,
                 spec="모든 피부용(pH 5.5 약산성)",
                 usage="세안 후 화장솜이나 손에 적당량을 덜어 피부결을 따라 부드럽게 닦아내거나 두드려 흡수시킵니다.",
                 ingredients=f"{_BASE}, 병풀추출물, 베타인, 소듐하이알루로네이트, 알란토인, 판테놀, 시트릭애씨드",
                 keywords=["토너", "약산성", "스킨"])
    rows += _cos("나이아신아마이드 브라이트닝 세럼", [("30mL", "30mL", 24000), ("50mL", "50mL", 34000)],
                 maker=_BF, spec="모든 피부용", functional="미백",
                 usage="토너 후 2~3방울을 덜어 얼굴 전체에 펴 바릅니다.",
                 ingredients="정제수, 나이아신아마이드, 글리세린, 프로판다이올, 부틸렌글라이콜, "
                             "1,2-헥산다이올, 소듐하이알루로네이트, 알란토인, 잔탄검, 에틸헥실글리세린, 다이소듐이디티에이",
                 keywords=["세럼", "미백", "나이아신아마이드"])
    rows += _cos("데일리 선크림 SPF50+ PA++++", [("50mL", "50mL", 16000), ("50mL x 2개", "50mL x 2개", 28000)],
                 maker=_BF, spec="모든 피부용, SPF50+ PA++++", functional="자외선차단", period=24,
                 usage="외출 20~30분 전 적당량을 얼굴과 목에 골고루 펴 바르고, 2~3시간마다 덧발라 줍니다.",
                 ingredients="정제수, 에틸헥실메톡시신나메이트, 사이클로펜타실록세인, 징크옥사이드, 티타늄디옥사이드, "
                             "부틸렌글라이콜, 나이아신아마이드, 다이메티콘, 1,2-헥산다이올, 세틸피이지/피피지-10/1다이메티콘, "
                             "소듐클로라이드, 알루미늄하이드록사이드, 스테아릭애씨드, 토코페롤",
                 keywords=["선크림", "자외선차단", "데일리선크림"])
    rows += _cos("아데노신 링클 아이크림", [("30mL", "30mL", 26000)], maker=_BF, spec="모든 피부용",
                 functional="주름개선", usage="아침저녁 스킨케어 단계에서 적당량을 눈가에 톡톡 두드려 펴 바릅니다.",
                 ingredients=f"{_BASE}, 카프릴릭/카프릭트라이글리세라이드, 시어버터, 세테아릴알코올, 아데노신, "
                             "글리세릴스테아레이트, 하이드롤라이즈드콜라겐, 카보머, 트로메타민",
                 keywords=["아이크림", "주름개선", "아데노신"])
    rows += _cos("약산성 클렌징폼", [("150mL", "150mL", 9800), ("150mL x 3개", "150mL x 3개", 25000)],
                 maker=_GREEN, spec="모든 피부용(민감 피부 추천)",
                 usage="적당량을 덜어 물과 함께 충분히 거품을 낸 뒤 얼굴을 마사지하듯 씻어내고 미온수로 헹굽니다.",
                 ingredients="정제수, 글리세린, 소듐코코일글리시네이트, 코카미도프로필베타인, 라우릭애씨드, "
                             "부틸렌글라이콜, 소듐클로라이드, 병풀추출물, 1,2-헥산다이올, 시트릭애씨드",
                 keywords=["클렌징폼", "약산성", "세안"])
    rows += _cos("딥 클렌징오일", [("200mL", "200mL", 17000)], maker=_GREEN, spec="모든 피부용",
                 usage="마른 손에 2~3펌프 덜어 마른 얼굴에 롤링한 뒤 물로 유화시켜 헹궈냅니다.",
                 ingredients="카프릴릭/카프릭트라이글리세라이드, 에틸헥실팔미테이트, 소르베스-30테트라올리에이트, "
                             "호호바씨오일, 해바라기씨오일, 토코페롤",
                 keywords=["클렌징오일", "메이크업리무버", "세안"])
    rows += _cos("수분 시트마스크", [("10매", "10매", 12000), ("30매", "30매", 29000)], maker=_CNC,
                 spec="모든 피부용, 1매당 에센스 25mL",
                 usage="세안 후 토너로 피부결을 정돈하고 마스크를 얼굴에 밀착시켜 15~20분 후 떼어냅니다.",
                 ingredients=f"{_BASE}, 소듐하이알루로네이트, 판테놀, 알란토인, 카보머, 아르지닌",
                 keywords=["마스크팩", "시트마스크", "수분팩"])
    rows += _cos("시카 진정 패드", [("70매", "70매", 19800)], maker=_CNC, spec="모든 피부용, 양면 엠보 패드",
                 usage="세안 후 패드 1장으로 피부결을 따라 부드럽게 닦아냅니다.",
                 ingredients=f"{_BASE}, 병풀추출물, 마데카소사이드, 판테놀, 알란토인, 시트릭애씨드",
                 keywords=["패드", "토너패드", "시카"])
    rows += _cos("시어버터 핸드크림", [("50mL", "50mL", 8900), ("50mL x 3개", "50mL x 3개", 22000)],
                 maker=_GREEN, spec="모든 피부용, 은은한 코튼향",
                 usage="적당량을 덜어 손등과 손가락 사이사이에 펴 바릅니다.",
                 ingredients=f"{_BASE}, 시어버터, 세테아릴알코올, 다이메티콘, 글리세릴스테아레이트, 향료",
                 keywords=["핸드크림", "시어버터", "선물"])
    rows += _cos("커버 쿠션 SPF50+ PA+++", [("21호 라이트베이지 15g", "15g", 28000, "21호 라이트베이지, 복합성 피부용"),
                                            ("23호 내추럴베이지 15g", "15g", 28000, "23호 내추럴베이지, 복합성 피부용"),
                                            ("21호 리필 15g", "15g", 18000, "21호 라이트베이지 리필")],
                 maker=_BF, spec="", functional="미백·자외선차단", period=30, opened=6,
                 usage="퍼프에 적당량을 묻혀 얼굴 안쪽에서 바깥쪽으로 두드려 펴 바릅니다.",
                 ingredients="정제수, 사이클로펜타실록세인, 티타늄디옥사이드, 에틸헥실메톡시신나메이트, 부틸렌글라이콜, "
                             "나이아신아마이드, 다이메티콘, 1,2-헥산다이올, 마그네슘설페이트, 산화철",
                 keywords=["쿠션", "파운데이션", "베이스메이크업"])
    rows += _cos("보습 립밤", [("무향 4.5g", "4.5g", 6900), ("복숭아향 4.5g", "4.5g", 6900)], maker=_GREEN,
                 spec="모든 피부용", usage="입술에 수시로 덧발라 줍니다.",
                 ingredients="마이크로크리스탈린왁스, 시어버터, 호호바씨오일, 비즈왁스, 토코페롤, 향료",
                 keywords=["립밤", "립케어", "보습"])
    rows += _cos("벨벳 립틴트", [("01 코랄 4g", "4g", 12000, "01 코랄"), ("02 로즈 4g", "4g", 12000, "02 로즈"),
                                ("03 칠리 4g", "4g", 12000, "03 칠리")], maker=_BF, spec="",
                 usage="입술 안쪽부터 바른 뒤 손가락으로 두드려 그라데이션합니다.",
                 ingredients="정제수, 부틸렌글라이콜, 다이메티콘, 글리세린, 실리카, 1,2-헥산다이올, 적색202호, 황색4호",
                 keywords=["립틴트", "틴트", "립메이크업"])
    rows += _cos("약산성 두피 샴푸", [("500mL", "500mL", 15900), ("1L", "1L", 25900)], maker=_GREEN,
                 spec="모든 모발용(지성 두피 추천)",
                 usage="모발을 충분히 적신 뒤 적당량을 덜어 두피를 마사지하듯 거품을 내고 헹궈냅니다.",
                 ingredients="정제수, 소듐라우로일메틸이세티오네이트, 코카미도프로필베타인, 글리세린, "
                             "폴리쿼터늄-10, 멘톨, 티트리잎오일, 1,2-헥산다이올, 시트릭애씨드, 향료",
                 keywords=["샴푸", "약산성샴푸", "두피케어"])
    rows += _cos("단백질 헤어 트리트먼트", [("300mL", "300mL", 14900)], maker=_GREEN, spec="손상 모발용",
                 usage="샴푸 후 물기를 가볍게 제거하고 모발 끝 위주로 바른 뒤 3~5분 후 헹궈냅니다.",
                 ingredients="정제수, 세테아릴알코올, 베헨트라이모늄클로라이드, 하이드롤라이즈드케라틴, "
                             "아르간커넬오일, 다이메티콘, 1,2-헥산다이올, 향료",
                 keywords=["트리트먼트", "헤어케어", "손상모"])
    rows += _cos("코튼 바디로션", [("400mL", "400mL", 16900), ("400mL x 2개", "400mL x 2개", 29900)],
                 maker=_GREEN, spec="모든 피부용, 코튼향",
                 usage="샤워 후 물기가 남아 있을 때 적당량을 온몸에 펴 바릅니다.",
                 ingredients=f"{_BASE}, 미네랄오일, 세테아릴알코올, 시어버터, 다이메티콘, 카보머, 향료",
                 keywords=["바디로션", "보습", "코튼향"])
    rows += _cos("로즈 페이스오일", [("30mL", "30mL", 32000)], maker="Huilerie de Provence SAS",
                 spec="건성 피부용", origin="프랑스", usage="크림에 1~2방울 섞어 바르거나 마지막 단계에 얇게 펴 바릅니다.",
                 ingredients="로즈힙열매오일, 호호바씨오일, 스쿠알란, 토코페롤, 다마스크장미꽃오일",
                 keywords=["페이스오일", "로즈힙", "수입화장품"])
    rows += _cos("히알루론 수분 앰플", [("30mL", "30mL", 22000), ("50mL", "50mL", 31000)], maker=_CNC,
                 spec="모든 피부용(건성·수분 부족 피부 추천)", usage="토너 후 2~3방울을 덜어 얼굴 전체에 펴 바릅니다.",
                 ingredients=f"{_BASE}, 소듐하이알루로네이트, 하이드롤라이즈드하이알루로닉애씨드, 판테놀, 베타인, 알란토인",
                 keywords=["앰플", "수분앰플", "히알루론산"])
    rows += _cos("알로에 수딩젤", [("300mL", "300mL", 8900)], maker=_GREEN, spec="모든 피부용",
                 usage="얼굴과 몸에 적당량을 펴 바르거나 팩처럼 두껍게 바른 뒤 10분 후 닦아냅니다.",
                 ingredients="알로에베라잎즙, 정제수, 글리세린, 부틸렌글라이콜, 카보머, 트로메타민, 1,2-헥산다이올",
                 keywords=["수딩젤", "알로에", "진정"])
    rows += _cos("코튼 바디워시", [("500mL", "500mL", 12900), ("1L", "1L", 19900)], maker=_GREEN,
                 spec="모든 피부용, 코튼향", usage="샤워볼이나 손에 적당량을 덜어 거품을 낸 뒤 몸을 씻고 헹궈냅니다.",
                 ingredients="정제수, 소듐라우레스설페이트, 코카미도프로필베타인, 글리세린, 소듐클로라이드, "
                             "폴리쿼터늄-7, 1,2-헥산다이올, 시트릭애씨드, 향료",
                 keywords=["바디워시", "샤워젤", "코튼향"])
    rows += _cos("미셀라 클렌징워터", [("500mL", "500mL", 14900)], maker=_CNC, spec="모든 피부용(민감 피부 추천)",
                 usage="화장솜에 충분히 적셔 얼굴과 눈가를 부드럽게 닦아냅니다.",
                 ingredients=f"{_BASE}, 폴리글리세릴-10라우레이트, 피이지-6카프릴릭/카프릭글리세라이드, 병풀추출물",
                 keywords=["클렌징워터", "메이크업리무버", "세안"])
    rows += _cos("퍼퓸 핸드워시", [("블랑 300mL", "300mL", 9900), ("우디 300mL", "300mL", 9900)], maker=_GREEN,
                 spec="모든 피부용", usage="적당량을 손에 덜어 거품을 낸 뒤 구석구석 문지르고 물로 헹궈냅니다.",
                 ingredients="정제수, 소듐라우레스설페이트, 코카미도프로필베타인, 글리세린, 소듐클로라이드, "
                             "1,2-헥산다이올, 시트릭애씨드, 향료",
                 keywords=["핸드워시", "손세정", "선물"])
    return rows

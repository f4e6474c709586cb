"""Sample data of the beauty & household shop (소담뷰티앤리빙), 생활화학제품: detergents, cleaners,
deodorizers, fragrances and a biocide, each with its 신고번호 (or 승인번호 for the biocide)."""

from __future__ import annotations

from smallretail_llm.catalog.samples.beauty import CS
from smallretail_llm.catalog.samples.item import Item

_KEEP_AWAY = "어린이의 손이 닿지 않는 곳에 보관하십시오. 눈에 들어갔을 때는 즉시 물로 충분히 씻어내고 이상이 있으면 의사와 상담하십시오."
_NOT_TARGET = "해당 없음"


def _chem(name, variants, *, use_form, chemicals, caution, report_no, made="2025.10", months=36,
          maker="(주)그린케미칼", origin="대한민국", importer=None, child="해당 없음", efficacy=None,
          brand="소담리빙", keywords=(), copy=None) -> list[Item]:
    rows = []
    for vname, net, price in variants:
        notice = {"use_and_form": use_form, "manufactured_and_expiry": f"{made} 제조 / 제조일로부터 {months}개월",
                  "child_resistant": child, "chemicals": chemicals,
                  "caution": f"{caution} {_KEEP_AWAY}", "safety_report_no": report_no, "cs_phone": CS}
        if importer:
            notice["importer"] = importer
        if efficacy:
            notice["efficacy"] = efficacy
        rows.append(Item(
            category="household_chemical", name=f"{brand} {name} {vname}".strip(), brand=brand,
            maker=maker, origin=origin, price=price, net=net, allergens=[], cross=None,
            storage="직사광선을 피해 서늘한 곳에 마개를 닫아 보관", use_by=None, certs=[],
            keywords=list(keywords), copy=copy, barcode=True, notice=notice))
    return rows


def household_chemical() -> list[Item]:
    rows: list[Item] = []
    rows += _chem("고농축 액체 세탁세제", [("일반·드럼 겸용 2.5L", "2.5L", 12900), ("리필 2L", "2L", 9900),
                                       ("2.5L x 2개", "2.5L x 2개", 23900)],
                  use_form="세탁용 세제 / 액상",
                  chemicals="정제수, 알킬벤젠설폰산나트륨, 알코올에톡실레이트, 구연산나트륨, 프로필렌글라이콜, "
                            "효소(프로테아제), 벤즈이소티아졸리논, 향료",
                  caution="세탁 용도 외에 사용하지 마십시오. 다른 세제와 섞어 쓰지 마십시오.",
                  report_no="FB24-03-0173", keywords=["세탁세제", "액체세제", "드럼세탁기"],
                  copy="적은 양으로도 충분한 고농축 액체세제예요.")
    rows += _chem("섬유유연제 코튼향", [("2.1L", "2.1L", 8900), ("리필 1.6L", "1.6L", 6900),
                                     ("2.1L x 3개", "2.1L x 3개", 24900)],
                  use_form="섬유유연제 / 액상", chemicals="정제수, 다이에스터쿼트, 염화칼슘, 벤즈이소티아졸리논, 향료",
                  caution="세제와 섞지 말고 헹굼 단계에 넣으십시오. 원액이 옷에 직접 닿지 않게 하십시오.",
                  report_no="FB24-03-0174", keywords=["섬유유연제", "코튼향", "빨래"])
    rows += _chem("산소계 표백제", [("1kg", "1kg", 7900), ("2kg", "2kg", 13900)], use_form="표백제 / 분말",
                  chemicals="과탄산나트륨, 탄산나트륨, 규산나트륨",
                  caution="염소계 표백제와 섞지 마십시오. 금속 단추, 울·실크 소재에는 사용하지 마십시오. "
                          "사용 시 고무장갑을 착용하십시오.",
                  report_no="FB23-11-0952", keywords=["과탄산소다", "산소계표백제", "얼룩제거"])
    rows += _chem("욕실 세정제 스프레이", [("500mL", "500mL", 5900), ("500mL x 3개", "500mL x 3개", 15900)],
                  use_form="욕실용 세정제 / 액상(분사형)", chemicals="정제수, 구연산, 알킬폴리글루코사이드, 향료",
                  caution="얼굴을 향해 분사하지 마십시오. 환기가 잘 되는 곳에서 사용하십시오.",
                  report_no="FB24-05-0311", keywords=["욕실청소", "욕실세정제", "물때"])
    rows += _chem("곰팡이 제거제 젤타입", [("120mL", "120mL", 6900), ("120mL x 2개", "120mL x 2개", 11900)],
                  use_form="살균제(곰팡이 제거) / 젤", chemicals="차아염소산나트륨, 수산화나트륨, 계면활성제(알킬아민옥사이드)",
                  caution="산성 세정제와 섞으면 유해한 가스가 발생하니 절대 섞지 마십시오. 반드시 환기하고 "
                          "고무장갑을 착용하십시오.",
                  report_no="승인번호 제AB24-0087호", child="예 (어린이보호포장 대상)",
                  efficacy="욕실 실리콘·타일 줄눈의 곰팡이 제거(살균)", keywords=["곰팡이제거", "실리콘곰팡이", "욕실"])
    rows += _chem("기름때 다목적 세정제", [("650mL", "650mL", 7900), ("리필 1L", "1L", 9900)],
                  use_form="다목적 세정제 / 액상(분사형)",
                  chemicals="정제수, 알킬폴리글루코사이드, 에탄올, 탄산나트륨, 향료",
                  caution="식기, 식품에 직접 분사하지 마십시오. 코팅·원목 표면은 눈에 띄지 않는 곳에 먼저 시험하십시오.",
                  report_no="FB24-02-0140", keywords=["기름때", "주방청소", "후드청소"])
    rows += _chem("섬유 탈취제 무향", [("400mL", "400mL", 6900), ("리필 1.8L", "1.8L", 14900)],
                  use_form="탈취제 / 액상(분사형)", chemicals="정제수, 사이클로덱스트린, 에탄올, 폴리소르베이트20",
                  caution="사람이나 동물을 향해 분사하지 마십시오. 가죽·실크 소재는 얼룩이 생길 수 있습니다.",
                  report_no="FB24-06-0420", keywords=["섬유탈취제", "탈취", "무향"])
    rows += _chem("리드 디퓨저", [("블랙체리 200mL", "200mL", 18900), ("프리지아 200mL", "200mL", 18900),
                               ("화이트머스크 200mL", "200mL", 18900)],
                  use_form="방향제 / 액상(리드 확산형)", chemicals="디프로필렌글라이콜메틸에테르, 에탄올, 향료",
                  caution="마시지 마십시오. 가구나 바닥에 흘리면 변색될 수 있으니 즉시 닦아내십시오. 화기 근처에 두지 마십시오.",
                  report_no="FB23-09-0815", maker="Maison Parfum SAS", origin="프랑스", importer="(주)소담리빙",
                  child="예 (어린이보호포장 대상)", made="2025.06", keywords=["디퓨저", "방향제", "집들이선물"])
    rows += _chem("유리 세정제", [("500mL", "500mL", 4900)], use_form="유리용 세정제 / 액상(분사형)",
                  chemicals="정제수, 이소프로필알코올, 알킬폴리글루코사이드", caution="화기 근처에서 사용하지 마십시오.",
                  report_no="FB24-04-0266", keywords=["유리세정제", "창문청소", "거울"])
    rows += _chem("배수구 세정제", [("분말 500g", "500g", 5900), ("분말 500g x 3개", "500g x 3개", 15900)],
                  use_form="배수구용 세정제 / 분말", chemicals="수산화나트륨, 탄산나트륨, 과탄산나트륨",
                  caution="피부에 닿으면 화상을 입을 수 있으니 고무장갑을 착용하고, 뜨거운 물을 바로 붓지 마십시오.",
                  report_no="FB24-01-0058", child="예 (어린이보호포장 대상)", keywords=["배수구", "막힘", "배수구청소"])
    rows += _chem("세탁조 클리너", [("450g x 3개", "450g x 3개", 9900)], use_form="세탁조 세정제 / 분말",
                  chemicals="과탄산나트륨, 탄산나트륨, 구연산", caution="빨래를 넣지 않은 상태로 사용하십시오.",
                  report_no="FB24-03-0190", keywords=["세탁조청소", "세탁조클리너"])
    rows += _chem("건조기용 드라이시트", [("40매", "40매", 7900), ("80매", "80매", 13900)],
                  use_form="섬유유연제 / 시트", chemicals="폴리에스터 부직포, 다이에스터쿼트, 스테아릭애씨드, 향료",
                  caution="사용한 시트는 재사용하지 마십시오.", report_no="FB24-07-0512",
                  keywords=["드라이시트", "건조기시트", "정전기방지"])
    rows += _chem("얼룩 제거 스틱", [("35g", "35g", 4500), ("35g x 2개", "35g x 2개", 7900)],
                  use_form="얼룩제거제 / 고체(스틱)", chemicals="지방산나트륨, 소르비톨, 정제수, 효소(프로테아제)",
                  caution="물빠짐이 있는 옷은 안쪽에 먼저 시험하십시오.", report_no="FB24-05-0355",
                  keywords=["얼룩제거", "셔츠목때", "빨래"])
    rows += _chem("베이킹소다 세정제", [("1kg", "1kg", 5900), ("2kg", "2kg", 9900)], use_form="다목적 세정제 / 분말",
                  chemicals="탄산수소나트륨", caution="알루미늄, 원목, 대리석 표면에는 사용하지 마십시오.",
                  report_no="FB24-02-0133", keywords=["베이킹소다", "천연세정", "다용도"])
    rows += _chem("걸이형 변기 세정제", [("2개입", "2개입", 6900)], use_form="변기용 세정제 / 고체(걸이형)",
                  chemicals="알킬벤젠설폰산나트륨, 황산나트륨, 향료, 색소(청색1호)",
                  caution="변기 물탱크 안에 넣지 마십시오. 다른 변기 세정제와 함께 쓰지 마십시오.",
                  report_no="FB24-06-0448", keywords=["변기세정제", "화장실청소", "걸이형"])
    rows += _chem("차량용 클립 방향제", [("블랙체리", "8mL", 8900), ("시트러스", "8mL", 8900), ("코튼", "8mL", 8900)],
                  use_form="차량용 방향제 / 액상(클립형)", chemicals="디프로필렌글라이콜메틸에테르, 향료",
                  caution="차량 내부 플라스틱·가죽에 액체가 닿지 않게 하십시오. "
                          "직사광선이 닿는 대시보드 위에 두지 마십시오.",
                  report_no="FB24-04-0287", keywords=["차량용방향제", "송풍구방향제", "자동차"])
    return rows

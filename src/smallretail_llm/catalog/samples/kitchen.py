"""Sample data of the general goods shop (매일상회), 주방용품: cookware, containers and utensils;
imported food-contact items carry the 식품위생법 import statement."""

from __future__ import annotations

from smallretail_llm.catalog.samples.goods import _WARRANTY, CS
from smallretail_llm.catalog.samples.item import Item

_IMPORT = "식품위생법에 따른 수입신고를 필함"


def _kitchen(name, variants, *, material, components, released, maker, origin, brand,
             keywords=(), copy=None, net=None) -> list[Item]:
    """`variants`: (variant name, model, size, price[, components])."""
    rows = []
    for vname, model, size, price, *vcomp in variants:
        notice = {"model_name": model, "material": material, "components": vcomp[0] if vcomp else components,
                  "size": size, "released_ym": released, "warranty": _WARRANTY,
                  "as_contact": f"{maker.split(' (')[0]} 고객센터 {CS}"}
        if origin != "대한민국":
            notice["import_declaration"] = _IMPORT
        rows.append(Item(
            category="kitchenware", name=f"{brand} {name} {vname}".strip(), brand=brand, maker=maker,
            origin=origin, price=price, net=net, allergens=[], cross=None, storage=None, use_by=None,
            certs=[], keywords=list(keywords), copy=copy, barcode=True, notice=notice))
    return rows


_HANGYEOL = "(주)한결주방"
_HANGYEOL_IMPORT = "(주)한결주방 (수입자)"


def kitchenware() -> list[Item]:
    rows: list[Item] = []
    rows += _kitchen("통3중 스테인리스 냄비", [
        ("편수 16cm", "HK-SP16", "지름 16cm x 높이 8.5cm, 용량 1.5L", 29900, "편수냄비 1개, 유리뚜껑 1개"),
        ("편수 18cm", "HK-SP18", "지름 18cm x 높이 9.5cm, 용량 2.0L", 34900, "편수냄비 1개, 유리뚜껑 1개"),
        ("양수 20cm", "HK-DP20", "지름 20cm x 높이 10.5cm, 용량 3.0L", 39900),
        ("양수 24cm", "HK-DP24", "지름 24cm x 높이 12cm, 용량 5.0L", 49900)],
        material="내부·외부 스테인리스강(STS304, STS430), 중간층 알루미늄, 손잡이 스테인리스강, 뚜껑 강화유리",
        components="양수냄비 1개, 유리뚜껑 1개", released="2024.03", maker=_HANGYEOL, origin="대한민국",
        brand="쿡앤홈", keywords=["냄비", "스텐냄비", "통3중", "인덕션"],
        copy="인덕션과 가스레인지 모두 쓸 수 있는 통3중 냄비입니다.")
    rows += _kitchen("IH 세라믹 코팅 프라이팬", [
        ("24cm", "HK-FP24", "지름 24cm x 높이 5cm, 무게 780g", 24900),
        ("28cm", "HK-FP28", "지름 28cm x 높이 5.5cm, 무게 980g", 29900),
        ("궁중팬 28cm", "HK-WP28", "지름 28cm x 높이 8cm, 무게 1.1kg", 32900)],
        material="본체 알루미늄 합금, 내부 세라믹 코팅, 바닥 IH용 스테인리스강, 손잡이 페놀수지",
        components="프라이팬 1개", released="2024.09", maker=_HANGYEOL_IMPORT, origin="중국", brand="쿡앤홈",
        keywords=["프라이팬", "세라믹팬", "인덕션팬"])
    rows += _kitchen("편백나무 도마", [
        ("중", "SG-CB35", "가로 35cm x 세로 22cm x 두께 2cm", 24000),
        ("대", "SG-CB42", "가로 42cm x 세로 26cm x 두께 2.5cm", 32000)],
        material="편백나무(국산), 마감 식물성 오일", components="도마 1개", released="2023.05",
        maker="숲결공방", origin="대한민국", brand="숲결", keywords=["도마", "편백도마", "원목도마"],
        copy="국산 편백나무 통원목을 깎아 만든 도마예요.")
    rows += _kitchen("항균 PE 도마 3종 세트", [("", "SG-PE3", "대 40x28cm, 중 33x23cm, 소 26x18cm, 두께 1cm", 19900)],
                     material="폴리에틸렌(PE)", components="도마 대·중·소 각 1개", released="2024.01",
                     maker="숲결공방", origin="대한민국", brand="숲결", keywords=["도마", "PE도마", "위생도마"])
    rows += _kitchen("내열유리 밀폐용기", [
        ("사각 4종 세트", "CK-GS4", "370mL, 700mL, 1,100mL, 1,700mL", 29900,
         "사각 용기 4개(370mL, 700mL, 1,100mL, 1,700mL), 뚜껑 4개"),
        ("원형 3종 세트", "CK-GR3", "400mL, 650mL, 950mL", 22900,
         "원형 용기 3개(400mL, 650mL, 950mL), 뚜껑 3개"),
        ("사각 1,100mL 단품", "CK-GS11", "가로 19.5 x 세로 14.5 x 높이 7cm, 용량 1,100mL", 8900,
         "사각 용기 1개, 뚜껑 1개")],
        material="용기 내열 강화유리(붕규산유리), 뚜껑 폴리프로필렌(PP), 패킹 실리콘", components="",
        released="2024.06", maker="(주)투명유리", origin="대한민국", brand="클리어키친",
        keywords=["밀폐용기", "유리용기", "반찬통"])
    rows += _kitchen("실리콘 조리도구 5종 세트", [("", "CK-SU5", "길이 28~32cm", 21900)],
                     material="헤드 실리콘(내열 230℃), 손잡이 스테인리스강(STS304)",
                     components="주걱, 국자, 뒤집개, 집게, 스패출러 각 1개", released="2024.02",
                     maker="(주)한결주방 (수입자)", origin="중국", brand="쿡앤홈",
                     keywords=["실리콘주걱", "조리도구", "국자"])
    rows += _kitchen("스테인리스 수저 세트", [
        ("2인", "HK-SS2", "숟가락 21cm, 젓가락 22cm", 15900, "숟가락 2개, 젓가락 2벌, 케이스 1개"),
        ("4인", "HK-SS4", "숟가락 21cm, 젓가락 22cm", 27900, "숟가락 4개, 젓가락 4벌, 케이스 1개")],
        material="스테인리스강(STS304)", components="", released="2023.11", maker=_HANGYEOL,
        origin="대한민국", brand="쿡앤홈", keywords=["수저세트", "스텐수저", "혼수"])
    rows += _kitchen("진공 보온 텀블러 500mL", [
        ("블랙", "CK-TB500BK", "지름 7.2cm x 높이 21.5cm, 용량 500mL", 18900),
        ("화이트", "CK-TB500WH", "지름 7.2cm x 높이 21.5cm, 용량 500mL", 18900),
        ("민트", "CK-TB500MT", "지름 7.2cm x 높이 21.5cm, 용량 500mL", 18900)],
        material="내부 스테인리스강(STS304), 외부 스테인리스강(STS201), 뚜껑 폴리프로필렌(PP), 패킹 실리콘",
        components="텀블러 1개, 뚜껑 1개", released="2025.02", maker="(주)투명유리 (수입자)", origin="중국",
        brand="클리어키친", keywords=["텀블러", "보온병", "보냉"])
    rows += _kitchen("내열 뚝배기", [
        ("1인용", "TG-14", "지름 14cm x 높이 7cm, 용량 600mL", 9900),
        ("2~3인용", "TG-18", "지름 18cm x 높이 8.5cm, 용량 1.2L", 14900)],
        material="내열 도자기(페탈라이트 함유 점토)", components="뚝배기 1개, 뚜껑 1개, 받침 1개",
        released="2023.10", maker="이천토담요", origin="대한민국", brand="토담", keywords=["뚝배기", "찌개", "내열"])
    rows += _kitchen("무쇠 그릴팬 26cm", [("", "CI-GP26", "지름 26cm x 높이 4.5cm, 무게 2.3kg", 36900)],
                     material="주철(무쇠), 식물성 오일 시즈닝", components="그릴팬 1개",
                     released="2024.04", maker=_HANGYEOL_IMPORT, origin="중국", brand="쿡앤홈",
                     keywords=["무쇠팬", "그릴팬", "스테이크"])
    rows += _kitchen("스테인리스 채반 볼 세트", [
        ("3종", "HK-BC3", "지름 18cm, 22cm, 26cm", 21900, "볼 3개, 채반 3개"),
        ("5종", "HK-BC5", "지름 14cm, 18cm, 22cm, 26cm, 30cm", 32900, "볼 5개, 채반 5개")],
        material="스테인리스강(STS304)", components="", released="2023.08", maker=_HANGYEOL,
        origin="대한민국", brand="쿡앤홈", keywords=["채반", "믹싱볼", "스텐볼"])
    rows += _kitchen("주방칼", [
        ("식도 20cm", "HK-KN20", "칼날 20cm, 전체 33cm", 29900), ("과도 12cm", "HK-KN12", "칼날 12cm, 전체 23cm", 12900)],
        material="칼날 몰리브덴바나듐 스테인리스강, 손잡이 폴리옥시메틸렌(POM)", components="칼 1개, 칼집 1개",
        released="2024.07", maker=_HANGYEOL, origin="대한민국", brand="쿡앤홈", keywords=["식도", "주방칼", "과도"])
    rows += _kitchen("법랑 밀크팬 16cm", [("아이보리", "EN-MP16IV", "지름 16cm x 높이 8cm, 용량 1.3L", 27900),
                                          ("그린", "EN-MP16GR", "지름 16cm x 높이 8cm, 용량 1.3L", 27900)],
                     material="본체 강판에 법랑 코팅, 손잡이 목재(너도밤나무)", components="밀크팬 1개",
                     released="2024.10", maker="(주)투명유리 (수입자)", origin="태국", brand="클리어키친",
                     keywords=["밀크팬", "법랑냄비", "편수"])
    rows += _kitchen("2단 보온 도시락", [("", "CK-LB2", "지름 11cm x 높이 17cm, 밥통 400mL, 반찬통 300mL", 24900)],
                     material="외부 스테인리스강(STS304), 내부 용기 폴리프로필렌(PP), 뚜껑 패킹 실리콘",
                     components="보온 케이스 1개, 밥통 1개, 반찬통 1개, 수저 1세트, 가방 1개",
                     released="2024.08", maker="(주)투명유리", origin="대한민국", brand="클리어키친",
                     keywords=["도시락", "보온도시락", "직장인"])
    rows += _kitchen("실리콘 지퍼백 4종 세트",
                     [("", "CK-SZ4", "소 15x13cm, 중 20x18cm, 대 25x20cm, 특대 30x25cm", 19900)],
                     material="식품용 실리콘(백금 촉매), 지퍼 폴리프로필렌(PP)", components="지퍼백 소·중·대·특대 각 1개",
                     released="2024.05", maker="(주)투명유리 (수입자)", origin="중국", brand="클리어키친",
                     keywords=["실리콘지퍼백", "다회용", "보관용기"])
    rows += _kitchen("스테인리스 주방 집게",
                     [("24cm", "HK-TG24", "길이 24cm", 6900), ("30cm", "HK-TG30", "길이 30cm", 7900)],
                     material="스테인리스강(STS304), 집게 끝 실리콘", components="집게 1개", released="2023.07",
                     maker=_HANGYEOL, origin="대한민국", brand="쿡앤홈", keywords=["집게", "고기집게", "조리도구"])
    rows += _kitchen("내열유리 계량컵", [("500mL", "CK-MC500", "지름 10cm x 높이 12cm, 눈금 500mL", 9900),
                                        ("1L", "CK-MC1000", "지름 12.5cm x 높이 15cm, 눈금 1L", 12900)],
                     material="내열 강화유리(붕규산유리)", components="계량컵 1개", released="2024.01",
                     maker="(주)투명유리", origin="대한민국", brand="클리어키친", keywords=["계량컵", "유리컵", "베이킹"])
    rows += _kitchen("아카시아 원목 트레이", [("", "SG-TR40", "가로 40 x 세로 28 x 높이 2cm", 22000)],
                     material="아카시아 원목, 마감 식물성 오일", components="트레이 1개", released="2024.04",
                     maker="숲결공방 (수입자)", origin="베트남", brand="숲결", keywords=["원목트레이", "쟁반", "플레이팅"])
    return rows

"""Sample data of the general goods shop (매일상회), 소형전자: model names, KC numbers (전파법
적합성평가 R-R-/R-C-, 전기안전 안전확인 HU/XU), ratings, sizes and weights."""

from __future__ import annotations

from smallretail_llm.catalog.samples.goods import _WARRANTY, CS
from smallretail_llm.catalog.samples.item import Item


def _elec(name, variants, *, kc, rated, released, size, weight, spec, maker="(주)소리결전자",
          origin="중국", brand="소리결", kc_cert=True, keywords=(), copy=None) -> list[Item]:
    """`variants`: (variant name, model, price); "{model}" in `kc` is filled per variant."""
    rows = []
    for vname, model, price in variants:
        notice = {"model_name": model, "kc_certification": kc.format(model=model.replace("-", "")),
                  "rated_power": rated, "released_ym": released, "size": size, "weight": weight,
                  "specification": spec, "warranty": _WARRANTY,
                  "as_contact": f"{maker.split(' (')[0]} 서비스센터 {CS}"}
        rows.append(Item(
            category="small_electronics", name=f"{brand} {name} {vname}".strip(), brand=brand,
            maker=maker, origin=origin, price=price, net=None, allergens=[], cross=None,
            storage=None, use_by=None, certs=["KC"] if kc_cert else [], keywords=list(keywords),
            copy=copy, barcode=True, notice=notice))
    return rows


_SGE = "(주)소리결전자 (수입자)"


def small_electronics() -> list[Item]:
    rows: list[Item] = []
    rows += _elec("무선 블루투스 이어폰", [("블랙", "SG-BE300B", 39900), ("화이트", "SG-BE300W", 39900),
                                   ("네이비", "SG-BE300N", 39900)],
                  kc="예, 적합성평가 R-R-SGE-{model}", rated="충전케이스 입력 DC 5V 0.5A", released="2025.03",
                  size="케이스 가로 60 x 세로 48 x 두께 25mm", weight="45g (케이스 포함)", maker=_SGE,
                  spec="블루투스 5.3, 재생시간 이어폰 6시간(케이스 포함 24시간), IPX4 생활방수, USB-C 충전",
                  keywords=["블루투스이어폰", "무선이어폰", "이어폰"],
                  copy="가볍고 귀에 편한 커널형 무선 이어폰입니다.")
    rows += _elec("PD 고속 보조배터리", [("10000mAh", "SG-PB10", 25900), ("20000mAh", "SG-PB20", 35900)],
                  kc="예, 안전확인 HU071234-24001 / 전자파 적합성평가 R-C-SGE-{model}",
                  rated="입력 DC 5V 3A / 9V 2A, 출력 최대 20W", released="2024.11",
                  size="가로 68 x 세로 102 x 두께 25mm", weight="210g", maker=_SGE,
                  spec="리튬이온 배터리(3.7V), USB-C PD 20W 입출력 1포트, USB-A 1포트, 잔량 표시 LED",
                  keywords=["보조배터리", "고속충전", "PD충전"])
    rows += _elec("PD 20W USB-C 충전기", [("화이트", "SG-CH20W", 14900), ("블랙", "SG-CH20B", 14900)],
                  kc="예, 안전인증 HU07654-23002 / 전자파 적합성평가 R-R-SGE-{model}",
                  rated="입력 AC 100-240V 50/60Hz 0.6A, 출력 최대 20W", released="2023.09",
                  size="가로 40 x 세로 36 x 높이 28mm (플러그 제외)", weight="48g", maker=_SGE,
                  spec="USB-C 1포트, PD 3.0 / PPS 지원, 과전류·과열 보호", keywords=["충전기", "고속충전기", "PD"])
    rows += _elec("15W 무선충전패드", [("블랙", "SG-WC15B", 19900), ("화이트", "SG-WC15W", 19900)],
                  kc="예, 적합성평가 R-R-SGE-{model}", rated="입력 DC 9V 2A, 무선출력 최대 15W", released="2024.05",
                  size="지름 100 x 두께 9mm", weight="75g", maker=_SGE,
                  spec="Qi 무선충전 규격, 이물질 감지, USB-C 입력(케이블 포함, 어댑터 별도)",
                  keywords=["무선충전기", "무선충전패드", "Qi"])
    rows += _elec("핸디 미니선풍기", [("화이트", "SG-HF01W", 15900), ("핑크", "SG-HF01P", 15900),
                                   ("민트", "SG-HF01M", 15900)],
                  kc="예, 전자파 적합성평가 R-R-SGE-{model}", rated="DC 5V 2A, 소비전력 4W",
                  released="2025.04", size="가로 45 x 세로 30 x 높이 180mm", weight="160g", maker=_SGE,
                  spec="리튬이온 배터리 2000mAh, 풍량 3단계, 최대 8시간 사용(1단 기준), USB-C 충전",
                  keywords=["미니선풍기", "휴대용선풍기", "핸디선풍기"])
    rows += _elec("USB 미니 가습기", [("300mL", "SG-HM300", 22900)],
                  kc="예, 전자파 적합성평가 R-R-SGE-{model}", rated="DC 5V 1A, 소비전력 2W",
                  released="2024.10", size="지름 85 x 높이 160mm", weight="240g", maker=_SGE,
                  spec="초음파식, 물통 300mL, 연속 분무 6시간 / 간헐 분무 10시간, 물 부족 시 자동 꺼짐",
                  keywords=["가습기", "미니가습기", "탁상용"])
    rows += _elec("LED 클립 독서등", [("블랙", "SG-RL05B", 12900), ("화이트", "SG-RL05W", 12900)],
                  kc="예, 전자파 적합성평가 R-R-SGE-{model}", rated="DC 5V 1A, 소비전력 3W", released="2024.02",
                  size="집게 폭 50mm, 자바라 길이 300mm", weight="85g", maker=_SGE,
                  spec="밝기 3단계, 색온도 3단계(3000K/4500K/6000K), 내장 배터리 1200mAh",
                  keywords=["독서등", "LED스탠드", "클립조명"])
    rows += _elec("방수 블루투스 스피커", [("네이비", "SG-SP10N", 34900), ("샌드", "SG-SP10S", 34900)],
                  kc="예, 적합성평가 R-R-SGE-{model}", rated="DC 5V 2A, 출력 10W", released="2025.01",
                  size="지름 80 x 높이 95mm", weight="320g", maker=_SGE,
                  spec="블루투스 5.3, 출력 10W, IPX7 방수, 최대 12시간 재생, TWS 페어링 지원",
                  keywords=["블루투스스피커", "방수스피커", "캠핑"])
    rows += _elec("디지털 보이스 레코더", [("16GB", "SG-VR16", 45900), ("32GB", "SG-VR32", 52900)],
                  kc="예, 전자파 적합성평가 R-R-SGE-{model}", rated="DC 5V 0.5A (충전 입력)", released="2024.06",
                  size="가로 30 x 세로 95 x 두께 10mm", weight="38g", maker=_SGE,
                  spec="녹음 형식 MP3/WAV, 최대 30시간 연속 녹음, 음성 감지 녹음, USB-C",
                  keywords=["녹음기", "보이스레코더", "강의녹음"])
    rows += _elec("MP3 플레이어", [("32GB 블랙", "SG-MP32", 49900), ("64GB 실버", "SG-MP64", 59900)],
                  kc="예, 적합성평가 R-R-SGE-{model}", rated="DC 5V 0.5A (충전 입력)", released="2024.08",
                  size="가로 42 x 세로 90 x 두께 8mm", weight="55g", maker=_SGE,
                  spec="2.4인치 화면, MP3/FLAC/WAV 재생, 블루투스 5.0, FM 라디오, 최대 40시간 재생",
                  keywords=["MP3", "MP3플레이어", "어학"])
    rows += _elec("학습용 전자사전", [("화이트", "ED-700", 129000)],
                  kc="예, 전자파 적합성평가 R-R-HSD-{model}", rated="DC 5V 1A (충전 입력)", released="2023.12",
                  size="가로 150 x 세로 95 x 두께 18mm (접었을 때)", weight="260g", maker="(주)한샘디지털",
                  origin="대한민국", brand="한샘디지털",
                  spec="영한·한영·국어·옥스퍼드 영영사전 수록, 5인치 터치 화면, 발음 재생",
                  keywords=["전자사전", "영어사전", "학습기"])
    rows += _elec("저소음 무선 마우스", [("그레이", "SG-MS20G", 15900), ("화이트", "SG-MS20W", 15900)],
                  kc="예, 적합성평가 R-R-SGE-{model}", rated="DC 1.5V (AA 건전지 1개)", released="2024.03",
                  size="가로 62 x 세로 105 x 높이 38mm", weight="70g (건전지 제외)", maker=_SGE,
                  spec="2.4GHz 무선(USB 수신기), DPI 800/1200/1600, 저소음 클릭", keywords=["무선마우스", "저소음마우스"])
    rows += _elec("멀티페어링 블루투스 키보드", [("화이트", "SG-KB30W", 32900), ("그레이", "SG-KB30G", 32900)],
                  kc="예, 적합성평가 R-R-SGE-{model}", rated="DC 3V (AAA 건전지 2개)", released="2024.09",
                  size="가로 280 x 세로 120 x 높이 18mm", weight="380g (건전지 제외)", maker=_SGE,
                  spec="블루투스 3개 기기 전환, 한글 각인, 윈도우/맥/iOS/안드로이드 지원",
                  keywords=["블루투스키보드", "무선키보드", "태블릿키보드"])
    rows += _elec("디지털 주방 타이머", [("화이트", "SG-TM01", 8900), ("옐로우", "SG-TM01Y", 8900)],
                  kc="해당 없음 (건전지 사용, 인증 대상 아님)", kc_cert=False, rated="DC 1.5V (AAA 건전지 1개)",
                  released="2023.06", size="가로 65 x 세로 65 x 두께 20mm", weight="60g (건전지 제외)", maker=_SGE,
                  spec="최대 99분 59초, 카운트다운·카운트업, 자석 부착", keywords=["타이머", "주방타이머", "공부타이머"])
    rows += _elec("무선 우유 거품기", [("실버", "SG-MF01S", 12900), ("블랙", "SG-MF01B", 12900)],
                  kc="예, 전자파 적합성평가 R-R-SGE-{model}", rated="DC 5V 1A (충전 입력), 소비전력 3W",
                  released="2024.12", size="지름 30 x 길이 230mm", weight="110g", maker=_SGE,
                  spec="속도 3단계, 스테인리스 거품날, 내장 배터리 800mAh, USB-C 충전",
                  keywords=["우유거품기", "밀크포머", "홈카페"])
    rows += _elec("LED 무드등", [("원목 베이스", "SG-ML10W", 24900), ("화이트 베이스", "SG-ML10H", 22900)],
                  kc="예, 전자파 적합성평가 R-R-SGE-{model}", rated="DC 5V 1A, 소비전력 3W", released="2025.02",
                  size="지름 120 x 높이 150mm", weight="280g", maker=_SGE,
                  spec="터치식 밝기 무단 조절, 색온도 2700K, 내장 배터리 2000mAh, 최대 10시간 사용",
                  keywords=["무드등", "수유등", "LED조명"])
    rows += _elec("충전식 손난로", [("베이지", "SG-HW52", 19900)],
                  kc="예, 안전확인 XU071555-24003 / 전자파 적합성평가 R-R-SGE-{model}",
                  rated="입력 DC 5V 2A, 발열 3단계(최대 52℃)", released="2024.10",
                  size="가로 60 x 세로 90 x 두께 22mm", weight="150g", maker=_SGE,
                  spec="리튬이온 배터리 5000mAh, 양면 발열, 보조배터리 기능(USB-A 출력 5V 1A)",
                  keywords=["손난로", "충전식손난로", "겨울"])
    return rows

"""Advertising-rule checks: every rule fires on plain and inflected claims and stays quiet on
negated, cautionary and factual wording; spans point into the original text."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallretail_llm.core.record import ProductRecord
from smallretail_llm.grounding.compliance import (
    REQUIRED_STATEMENT,
    ComplianceViolation,
    _morphemes,
    check_compliance,
)

STATEMENT = "질병의 예방 및 치료를 위한 의약품이 아닙니다."


def rec(category: str, **fields: object) -> ProductRecord:
    return ProductRecord(shop_id="shop1", sku="A-1", name="테스트 상품", category=category, **fields)


def found(text: str, category: str, **fields: object) -> list[tuple[str, str]]:
    """(rule, flagged text) pairs; health_food copy here always carries the statement."""
    violations = check_compliance(text, rec(category, **fields))
    for v in violations:
        if v.rule != "required_statement":
            assert text[v.start:v.end] == v.text
    return [(v.rule, v.text) for v in violations if v.rule != "required_statement"]


POSITIVE = [
    # 식품표시광고법 제8조: disease claims, plain and inflected
    ("processed_food", "이 차는 당뇨를 치료해 줍니다.", "disease_claim", "치료해"),
    ("processed_food", "꾸준히 드시면 암을 예방합니다.", "disease_claim", "예방합니다"),
    ("agri_food", "감기를 낫게 해요.", "disease_claim", "낫게"),
    ("agri_food", "먹고 나서 병이 다 나았어요.", "disease_claim", "나았어요"),
    ("processed_food", "병을 고쳐 줍니다.", "disease_claim", "병을 고쳐"),
    ("processed_food", "혈압을 낮춰 줍니다.", "disease_claim", "혈압을 낮춰"),
    ("processed_food", "당뇨에 좋은 여주차예요.", "disease_claim", "당뇨에 좋은"),
    ("agri_food", "관절염에 효과가 탁월한 우슬.", "disease_claim", "관절염에 효과"),
    ("processed_food", "항암 효과가 있는 버섯 추출물.", "disease_claim", "항암"),
    ("processed_food", "위염이 완치되었다는 분도 있어요.", "disease_claim", "완치되었다는"),
    ("health_food", f"혈당을 떨어뜨려 줍니다. {STATEMENT}", "disease_claim", "혈당을 떨어뜨려"),
    ("processed_food", "치료뿐 아니라 맛까지 잡았어요.", "disease_claim", "치료"),
    # medicine-like presentation
    ("processed_food", "약효가 뛰어난 도라지청.", "medicine_like", "약효"),
    ("processed_food", "한의원 처방으로 만든 쌍화차.", "medicine_like", "처방"),
    ("agri_food", "약처럼 드시면 됩니다.", "medicine_like", "약처럼"),
    # ordinary food presented as 건강기능식품
    ("processed_food", "믿을 수 있는 건강기능식품입니다.", "fake_health_functional", "건강기능식품"),
    ("processed_food", "면역력 증진 음료.", "fake_health_functional", "면역력 증진"),
    ("processed_food", "기능성 원료를 담았어요.", "fake_health_functional", "기능성"),
    ("agri_food", "면역력을 높여 줘요.", "fake_health_functional", "면역력을 높여"),
    ("processed_food", "혈당 조절에 도움을 줍니다.", "fake_health_functional", "혈당 조절"),
    # testimonials and endorsements
    ("processed_food", "의사가 추천하는 발효 식초.", "testimonial", "의사가 추천하는"),
    ("health_food", f"약사 추천 제품. {STATEMENT}", "testimonial", "약사 추천"),
    ("agri_food", "실제 체험 사례가 많아요.", "testimonial", "체험 사례"),
    ("processed_food", "저도 효과를 봤어요.", "testimonial", "효과를 봤어요"),
    # 화장품법 제13조: medicine-like cosmetic claims
    ("cosmetics", "피부를 재생시켜 줘요.", "cosmetic_medical_claim", "피부를 재생시켜"),
    ("cosmetics", "세포가 재생돼요.", "cosmetic_medical_claim", "세포가 재생돼요"),
    ("cosmetics", "손상된 피부 재생 크림.", "cosmetic_medical_claim", "피부 재생"),
    ("cosmetics", "여드름을 치료해요.", "cosmetic_medical_claim", "치료해요"),
    ("cosmetics", "상처치료에 좋아요.", "cosmetic_medical_claim", "치료"),
    ("cosmetics", "염증을 가라앉혀요.", "cosmetic_medical_claim", "염증을 가라앉혀요"),
    ("cosmetics", "지방분해 마사지 크림.", "cosmetic_medical_claim", "지방분해"),
    ("cosmetics", "바르기만 해도 체중감량!", "cosmetic_medical_claim", "체중감량"),
    ("cosmetics", "발모 효과가 있는 샴푸.", "cosmetic_medical_claim", "발모"),
    ("cosmetics", "손을 소독해 줍니다.", "cosmetic_medical_claim", "소독해"),
    ("cosmetics", "아토피 치료에 좋아요.", "cosmetic_medical_claim", "치료"),
    ("cosmetics", "바르면 살이 빠져요.", "cosmetic_medical_claim", "살이 빠져요"),
    # 화장품법 제13조: functional claims without 기능성 심사
    ("cosmetics", "미백 크림입니다.", "cosmetic_functional_unapproved", "미백"),
    ("cosmetics", "주름개선 세럼.", "cosmetic_functional_unapproved", "주름개선"),
    ("cosmetics", "주름을 펴 줘요.", "cosmetic_functional_unapproved", "주름을 펴"),
    ("cosmetics", "자외선차단 선크림.", "cosmetic_functional_unapproved", "자외선차단"),
    ("cosmetics", "SPF50+ 선크림.", "cosmetic_functional_unapproved", "SPF"),
    # generic: invented certifications
    ("small_electronics", "KC 인증을 받은 안전한 제품.", "invented_certification", "KC 인증"),
    ("processed_food", "HACCP 인증 시설에서 만들었어요.", "invented_certification", "HACCP"),
    ("agri_food", "유기농 당근입니다.", "invented_certification", "유기농"),
    ("agri_food", "무농약 쌀입니다.", "invented_certification", "무농약"),
    ("kitchenware", "FDA 승인 소재를 썼어요.", "invented_certification", "FDA"),
    ("household_chemical", "친환경 인증 획득.", "invented_certification", "친환경 인증"),
    ("processed_food", "GMP 시설에서 생산.", "invented_certification", "GMP"),
    ("processed_food", "식약처 인증을 받은 제품.", "invented_certification", "식약처 인증"),
    # generic: rankings, awards, popularity
    ("wear", "판매 1위 티셔츠.", "ranking_or_award", "1위"),
    ("wear", "고객 만족도 1위!", "ranking_or_award", "1위"),
    ("wear", "넘버원 티셔츠.", "ranking_or_award", "넘버원"),
    ("kitchenware", "주문 폭주 중인 냄비.", "ranking_or_award", "주문 폭주"),
    ("processed_food", "박람회에서 금상을 수상했습니다.", "ranking_or_award", "금상을 수상했습니다"),
    ("cosmetics", "올해의 뷰티 어워드 선정.", "ranking_or_award", "어워드"),
    # generic: guarantees
    ("kitchenware", "100% 환불 보장.", "guarantee", "환불 보장"),
    ("kitchenware", "무조건 환불해 드립니다.", "guarantee", "무조건 환불해"),
    ("wear", "평생 보증합니다.", "guarantee", "평생 보증합니다"),
    ("cosmetics", "효과 보장!", "guarantee", "효과 보장"),
]


@pytest.mark.parametrize(("category", "text", "rule", "flagged"), POSITIVE,
                         ids=[p[1][:20] for p in POSITIVE])
def test_rule_fires(category: str, text: str, rule: str, flagged: str) -> None:
    assert found(text, category) == [(rule, flagged)]


NEGATIVE = [
    # negated or quoted rule text
    ("processed_food", "치료 효과를 주장하지 않습니다."),
    ("processed_food", "이 제품은 당뇨 치료제가 아닙니다."),
    ("processed_food", "질병의 예방 및 치료를 위한 의약품이 아님"),
    ("processed_food", "질병을 예방하지 못합니다. 일반 식품입니다."),
    ("processed_food", "건강기능식품이 아닙니다."),
    ("processed_food", "치료 목적으로 드시지 마세요."),
    ("cosmetics", "치료 효과는 없으며 보습에 도움을 줍니다."),
    ("cosmetics", "의약품이 아니므로 상처 치료용으로 쓰지 마세요."),
    ("agri_food", "유기농 인증을 받지 않았습니다."),
    ("kitchenware", "환불을 보장하지 않습니다."),
    # caution and safety wording
    ("processed_food", "식중독 예방을 위해 냉장 보관하세요."),
    ("agri_food", "질식 예방을 위해 잘게 잘라 드세요."),
    ("health_food", f"질병 치료 중인 분은 섭취 전 의사와 상담하세요. {STATEMENT}"),
    ("health_food", f"치료를 받고 계신 분은 전문가와 상담하세요. {STATEMENT}"),
    ("processed_food", "고혈압 환자는 섭취 전 의사와 상담하세요."),
    ("processed_food", "수상한 냄새가 나면 섭취를 중단하세요."),
    # look-alikes that are facts or ordinary words
    ("agri_food", "1등급 한우 등심 500g."),
    ("processed_food", "1+1 행사 중입니다. 1일 1회 섭취."),
    ("processed_food", "이전 제품보다 맛이 더 나아졌어요. 이게 더 나은 맛이에요."),
    ("processed_food", "약 3분간 끓여 주세요."),
    ("processed_food", "감기 걸렸을 때 따뜻하게 마시기 좋은 차입니다."),
    ("agri_food", "저지방 우유로 만든 요거트예요."),
    ("kitchenware", "품질보증기준: 관련 법 및 소비자분쟁해결기준에 따름."),
    ("cosmetics", "보습 크림입니다. 재생 플라스틱 용기를 사용했어요."),
    ("cosmetics", "자외선이 강한 날에는 덧발라 주세요."),
    ("cosmetics", "여드름성 피부에 사용하기 적합한 클렌저."),
    ("wear", "순면 100% 티셔츠, 건강한 착용감."),
    # health_food may carry recognised function claims and 식약처 recognition
    ("health_food", f"면역력 증진에 도움을 줄 수 있음. {STATEMENT}"),
    ("health_food", f"식약처 인정 건강기능식품입니다. {STATEMENT}"),
    # food rules do not apply to other categories, cosmetic rules not to foods
    ("wear", "발열 내의로 감기 걱정 없이 따뜻하게."),
    ("processed_food", "미백 쌀로 지은 밥처럼 하얀 떡."),
]


@pytest.mark.parametrize(("category", "text"), NEGATIVE, ids=[n[1][:20] for n in NEGATIVE])
def test_rule_stays_quiet(category: str, text: str) -> None:
    assert found(text, category) == []


def test_multiple_violations_with_offsets() -> None:
    text = "🍵 당뇨를 치료해 줍니다! 의사가 추천하는 건강기능식품, 판매 1위."
    violations = check_compliance(text, rec("processed_food"))
    assert [(v.rule, v.start, v.end, v.text) for v in violations] == [
        ("disease_claim", 6, 9, "치료해"),
        ("testimonial", 15, 23, "의사가 추천하는"),
        ("fake_health_functional", 24, 30, "건강기능식품"),
        ("ranking_or_award", 35, 37, "1위"),
    ]
    assert all(v.law for v in violations)
    assert violations[0].law == "식품 등의 표시·광고에 관한 법률 제8조"


def test_required_statement_missing_and_present() -> None:
    record = rec("health_food")
    text = "6년근 홍삼 농축액 스틱. 면역력 증진에 도움을 줄 수 있음."
    assert check_compliance(text, record) == [ComplianceViolation(
        start=len(text), end=len(text), text=REQUIRED_STATEMENT, rule="required_statement",
        law="식품 등의 표시·광고에 관한 법률 제4조 (건강기능식품 표시기준)")]
    for statement in (REQUIRED_STATEMENT, STATEMENT, "※ 질병의 예방 및 치료를 위한 의약품이 아님."):
        assert check_compliance(f"{text}\n{statement}", record) == []
    assert check_compliance(text, record, require_statement=False) == []
    assert check_compliance("6년근 홍삼 농축액 스틱.", rec("processed_food")) == []  # only 건강기능식품


def test_functional_cosmetics_approved_vs_not() -> None:
    text = "미백 기능과 주름개선 기능을 갖춘 크림, 자외선차단까지."

    def rules(**fields: object) -> list[str]:
        return [v.text for v in check_compliance(text, rec("cosmetics", **fields))]

    assert rules() == ["미백", "주름개선", "자외선차단"]
    assert rules(certifications=["기능성화장품"]) == []
    assert rules(notice={"functional_review": "예"}) == []
    assert rules(notice={"functional_review": "해당없음"}) == ["미백", "주름개선", "자외선차단"]
    # an approval that names its functions covers only those
    assert rules(certifications=["기능성화장품(미백)"]) == ["주름개선", "자외선차단"]
    assert rules(notice={"functional_review": "심사필 (미백, 주름개선)"}) == ["자외선차단"]


def test_certifications_backed_by_the_record_are_allowed() -> None:
    assert found("KC 인증 제품입니다.", "small_electronics",
                 notice={"kc_certification": "예 (XU100123-20001)"}) == []
    assert found("KC 인증 제품입니다.", "small_electronics",
                 notice={"kc_certification": "해당없음"}) == [("invented_certification", "KC 인증")]
    assert found("HACCP 인증 시설에서 생산한 유기농 두부.", "processed_food",
                 certifications=["HACCP", "유기가공식품 인증"]) == []
    assert found("유기농 설탕으로 맛을 냈어요.", "processed_food",
                 notice={"ingredients": "대두 90%, 유기농 설탕 5%"}) == []
    assert found("ISO 인증 공장.", "kitchenware", notice={"ingredients": "이소말토올리고당"}) == \
        [("invented_certification", "ISO")]


def test_korean_category_label_is_accepted() -> None:
    assert found("암을 예방합니다.", "가공식품") == [("disease_claim", "예방합니다")]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "😀🍎", "ㅋㅋㅋㅋ", "a" * 5000])
def test_odd_text_gives_no_violations(text: str) -> None:
    assert check_compliance(text, rec("processed_food")) == []


def test_non_text_never_raises() -> None:
    assert check_compliance(None, rec("cosmetics")) == []  # type: ignore[arg-type]


def test_lone_surrogate_keeps_offsets() -> None:
    text = "\ud800 당뇨를 치료해요"
    assert [(v.start, v.text) for v in check_compliance(text, rec("processed_food"))] == \
        [(6, "치료해요")]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("치료예방낫게아니않당뇨에좋은 .!1위KC인증미백%😀\n")),
               max_size=80))
def test_never_raises_and_spans_are_slices(text: str) -> None:
    for v in check_compliance(text, rec("cosmetics")) + check_compliance(text, rec("health_food")):
        if v.rule != "required_statement":
            assert text[v.start:v.end] == v.text and v.start < v.end


def test_kiwi_is_loaded_lazily() -> None:
    code = ("import sys, smallretail_llm.grounding.compliance as c; "
            "print('kiwipiepy' in sys.modules, c._kiwi.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]


DESCRIPTION = (
    "국내산 사과를 껍질째 갈아 만든 100% 착즙 주스입니다. 설탕과 물을 넣지 않아 사과 본연의 "
    "달콤함과 상큼함을 그대로 느낄 수 있어요. 한 병 500mL에 사과 약 3개가 들어가며, 아침 식사와 "
    "함께 드시거나 운동 후 가볍게 즐기기 좋습니다. 개봉 후에는 냉장 보관하시고 가급적 빨리 드세요. "
    "식중독 예방을 위해 개봉한 제품은 2일 안에 드시는 것을 권장합니다. 흔들어 드시면 과육이 골고루 "
    "섞여 더 맛있어요. 선물용 6병 세트도 준비되어 있습니다. 알레르기 유발 성분: 복숭아와 같은 "
    "제조시설에서 제조. 소비기한은 제조일로부터 30일이며 병 하단에 표시되어 있어요. 사과는 경북 "
    "청송 지역 농가에서 직접 수확한 것만 사용합니다. 착즙 후 바로 저온 살균하여 신선함을 지켰어요. "
    "주스 색이 조금씩 다른 것은 사과 품종과 수확 시기 때문이니 안심하고 드셔도 됩니다. 한 잔에 "
    "담긴 자연의 맛을 느껴 보세요. 아이부터 어르신까지 온 가족이 함께 즐길 수 있는 주스입니다. "
    "주문 후 바로 착즙해 보내 드리며, 아이스팩과 함께 안전하게 포장해 배송합니다. 받으신 뒤에는 "
    "상자를 열어 병에 금이 가거나 새는 곳이 없는지 먼저 확인해 주세요. 차갑게 드시면 더 맛있어요. "
    "남은 주스는 뚜껑을 꼭 닫아 보관하세요."
)


def test_checks_per_second_on_a_600_char_description() -> None:
    """Uncached analysis of a 600-char description must stay far above the 200 checks/s that
    grounding needs (measured on a shared core, so the bound here is loose)."""
    record = rec("processed_food")
    assert 600 <= len(DESCRIPTION) <= 650
    check_compliance(DESCRIPTION, record)  # load the model
    started, n = time.perf_counter(), 20
    for _ in range(n):
        _morphemes.cache_clear()
        assert check_compliance(DESCRIPTION, record) == []
    assert n / (time.perf_counter() - started) > 100


def test_verbatim_record_caution_is_not_an_advertising_claim():
    record = ProductRecord(shop_id="s", sku="h1", name="홍삼 스틱", category="health_food",
                           notice={"intake": "1일 1회 1포. 당뇨치료제, 혈액항응고제 복용 시 섭취에 주의하십시오."})
    quoted = ("섭취 방법: 1일 1회 1포. 당뇨치료제, 혈액항응고제 복용 시 섭취에 주의하십시오. "
              "본 제품은 질병의 예방 및 치료를 위한 의약품이 아닙니다.")
    assert check_compliance(quoted, record) == []
    invented = "당뇨 치료에 도움을 줍니다. 본 제품은 질병의 예방 및 치료를 위한 의약품이 아닙니다."
    assert [v.rule for v in check_compliance(invented, record)] == ["disease_claim"]

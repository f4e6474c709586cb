"""Grounding: the labelled corpus (micro precision and recall of findings must be 1.0), one
focused test per claim kind, check_answer, required-field coverage and bad input."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding import check as grounding
from smallretail_llm.grounding.check import (
    REQUIRED_COVERAGE,
    GroundingReport,
    check_answer,
    check_description,
    is_handoff,
)
from smallretail_llm.grounding.claims import KINDS

DATA = Path(__file__).parent / "data"
RECORDS = json.loads((DATA / "grounding_records.json").read_text(encoding="utf-8"))
CASES = [json.loads(line)
         for line in (DATA / "grounding_cases.jsonl").read_text(encoding="utf-8").splitlines()
         if line.strip()]
COMPLIANCE_RULES = {"disease_claim", "medicine_like", "fake_health_functional", "testimonial",
                    "cosmetic_medical_claim", "cosmetic_functional_unapproved",
                    "invented_certification", "ranking_or_award", "guarantee", "required_statement"}
STATEMENT = " 본 제품은 질병의 예방 및 치료를 위한 의약품이 아닙니다."


def record(name: str, **changes: object) -> ProductRecord:
    return ProductRecord.model_validate({**RECORDS["records"][name], **changes})


def policy(name: str = "basic") -> ShopPolicy:
    return ShopPolicy.model_validate(RECORDS["policies"][name])


def run_case(case: dict) -> GroundingReport:
    rec = ProductRecord.model_validate(case["record"] if "record" in case
                                       else RECORDS["records"][case["record_ref"]])
    pol = policy(case["policy_ref"]) if case.get("policy_ref") else None
    foreign = case.get("foreign_names", ())
    if case["style"] == "answer":
        return check_answer(case["text"], case.get("question", ""), rec, pol, strict=True,
                            foreign_names=foreign)
    return check_description(case["text"], rec, pol, case["style"], strict=True,
                             foreign_names=foreign)


def findings(report: GroundingReport) -> collections.Counter:
    return collections.Counter([("claim", c.kind, c.text) for c in report.unsupported_claims]
                               + [("rule", v.rule, v.text) for v in report.compliance_violations])


def unsupported(report: GroundingReport) -> list[list[str]]:
    return [[c.kind, c.text] for c in report.unsupported_claims]


# ------------------------------------------------------------------ the labelled corpus
def test_corpus_shape_covers_every_kind_and_rule():
    assert len(CASES) >= 200
    assert len({c["id"] for c in CASES}) == len(CASES)
    negatives = [c for c in CASES
                 if not c["expected"]["unsupported"] and not c["expected"]["compliance"]]
    assert len(negatives) >= len(CASES) / 4
    assert {k for c in CASES for k, _ in c["expected"]["unsupported"]} == set(KINDS)
    assert {r for c in CASES for r, _ in c["expected"]["compliance"]} == COMPLIANCE_RULES


def test_corpus_precision_and_recall_are_perfect():
    tp = fp = fn = 0
    wrong = []
    for case in CASES:
        got = findings(run_case(case))
        want = collections.Counter(
            [("claim", k, t) for k, t in case["expected"]["unsupported"]]
            + [("rule", r, t) for r, t in case["expected"]["compliance"]])
        tp += sum((got & want).values())
        fp += sum((got - want).values())
        fn += sum((want - got).values())
        if got != want:
            wrong.append((case["id"], sorted(got - want), sorted(want - got)))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"grounding corpus: {len(CASES)} cases, {tp + fn} labelled findings, "
          f"precision {precision:.3f}, recall {recall:.3f}")
    assert wrong == []
    assert (precision, recall) == (1.0, 1.0)


def test_bound_claims_name_their_field():
    """A value attached to the wrong field fails with that field in the report."""
    bound = [c for c in CASES if "fields" in c["expected"]]
    assert len(bound) >= 15
    for case in bound:
        report = run_case(case)
        assert [c.field for c in report.unsupported_claims] == case["expected"]["fields"], case["id"]


def test_spans_index_the_original_text():
    for case in CASES:
        report = run_case(case)
        for claim in report.unsupported_claims:
            assert case["text"][claim.start:claim.end] == claim.text


# ------------------------------------------------------------------ one test per claim kind
@pytest.mark.parametrize(("ref", "text", "expected"), [
    ("tofu", "1.5kg 대용량, 총 600g", [["quantity", "1.5kg"]]),
    ("detergent", "1.2L, 1,200mL, 천이백 밀리리터", []),
    ("tofu", "3,900원인데 지금은 2,900원", [["price", "2,900원"]]),
    ("tofu", "15% 할인", [["price", "15% 할인"]]),
    ("cookie", "버터 20%, 설탕 30%", [["percent", "30%"]]),
    ("tofu", "소비기한 2026년 3월 1일, 제조일 2026년 2월 20일", [["date", "2026년 2월 20일"]]),
    ("ricecake", "제조일로부터 1년, 18개월 보관", [["date", "18개월"]]),
    ("tofu", "국산 콩, 원산지: 미국", [["origin", "미국"]]),
    ("tofu", "제조사: (주)한빛식품, 브랜드: 풀무원", [["brand", "풀무원"]]),
    ("tofu", "대두와 호두가 들어 있어요", [["allergen_presence", "호두"]]),
    ("tofu", "우유를 사용하지 않았습니다", [["allergen_absence", "우유"]]),
    ("ricecake", "우유를 사용하지 않았습니다", []),
    ("tofu", "대두 무첨가", [["allergen_absence", "대두"]]),
    ("tofu", "HACCP 인증, 유기농 인증", [["certification", "유기농 인증"]]),
    ("tofu", "판매 1위", [["ranking", "판매 1위"]]),
    ("tofu", "100% 환불 보장", [["guarantee", "100% 환불 보장"]]),
])
def test_each_claim_kind(ref, text, expected):
    report = check_description(text, record(ref), None, "intro", strict=True)
    assert unsupported(report) == expected
    assert all(c.reason for c in report.unsupported_claims)


def test_reason_names_what_the_record_says():
    report = check_description("1kg 대용량", record("tofu"), strict=True)
    assert report.unsupported_claims[0].reason == "상품 기록에 없는 수치입니다 (기록의 용량: 300g x 2개)"
    report = check_description("계란 무첨가", record("cookie"), style="intro", strict=True)
    assert report.unsupported_claims[0].reason == "기록에는 알류가 알레르기 성분으로 표시되어 있습니다"


def test_allergen_synonyms_and_absence_stated_in_record():
    cookie = record("cookie")
    text = "계란, 달걀, 난류, 유제품, 소맥분"
    assert unsupported(check_description(text, cookie, style="intro", strict=True)) == []
    text, ricecake = "달걀과 콩을 넣지 않았어요", record("ricecake")
    assert unsupported(check_description(text, ricecake, style="intro", strict=True)) == []


def test_policy_facts_support_shipping_claims():
    text, tofu = "배송비 3,000원, 3만원 이상 무료배송, 당일 출고, 수령 후 7일 이내 교환", record("tofu")
    assert unsupported(check_description(text, tofu, policy(), "intro", strict=True)) == []
    assert unsupported(check_description(text, tofu, None, "intro", strict=True)) == [
        ["price", "3,000원"], ["price", "3만원"], ["price", "무료배송"], ["date", "당일 출고"],
        ["date", "7일"]]


def test_identifiers_are_not_claims():
    text, vitamin = "데일리 비타민C 1000, 고객센터 1588-1234, 080-123-4567" + STATEMENT, record("vitamin")
    assert unsupported(check_description(text, vitamin, policy(), "intro", strict=True)) == []
    text = "바람전자 미니 USB 선풍기 MF-200, 모델 MF-200"
    assert unsupported(check_description(text, record("fan"), style="seo", strict=True)) == []


# ------------------------------------------------------------------ answers
def test_answer_handoff_is_accepted():
    assert is_handoff("담당자가 확인 후 답변드리겠습니다.")
    assert not is_handoff("배송비는 3,000원입니다.")
    report = check_answer("영업일 기준 24시간 안에 담당자가 확인 후 연락드리겠습니다.", "재입고 언제?",
                          record("tofu"), policy(), strict=True)
    assert report.passed and report.missing_required == []
    report = check_answer("담당자가 확인 후 답변드리겠습니다.", None, record("tofu"), None, strict=True)
    assert report.passed


def test_answer_invented_fact_is_rejected():
    report = check_answer("네, 1kg 제품도 있고 가격은 5,900원입니다.", "큰 거 있어요?", record("tofu"),
                          policy(), strict=True)
    assert not report.passed
    assert unsupported(report) == [["quantity", "1kg"], ["price", "5,900원"]]


def test_answer_policy_fact_is_accepted():
    report = check_answer("배송비는 3,000원이며 30,000원 이상 주문하시면 무료배송입니다.", "배송비?",
                          record("tofu"), policy(), strict=True)
    assert report.passed and report.missing_required == []


def test_answer_needs_no_health_food_statement():
    report = check_answer("1일 1회 1정 드시면 됩니다.", "어떻게 먹어요?", record("vitamin"), policy(),
                          strict=True)
    assert report.passed


def test_answer_may_deny_a_number_the_customer_asked_about():
    tofu = record("tofu")
    report = check_answer("1kg 제품은 없고 300g 두 모 구성입니다.", "1kg짜리도 있나요?", tofu, strict=True)
    assert report.passed
    # ... but "no milk" is a claim of its own, whatever the question was
    report = check_answer("우유는 들어 있지 않습니다.", "우유 들어가나요?", tofu, strict=True)
    assert unsupported(report) == [["allergen_absence", "우유"]]


# ------------------------------------------------------------------ required fields per style
def test_style_table_is_complete():
    assert set(REQUIRED_COVERAGE) == {"detail", "intro", "bullets", "seo"}


def test_detail_reports_required_fields_the_text_omits():
    tofu = record("tofu")
    report = check_description("한빛 국산콩 부침두부, 3,900원.", tofu, policy(), "detail", strict=True)
    # food_type "두부" is stated by the name itself; the rest is left out
    assert report.missing_required == ["manufacturer", "producer_location", "use_by", "net_content",
                                       "ingredients", "safety_caution", "cs_phone"]
    assert not report.passed
    assert check_description("한빛 국산콩 부침두부, 3,900원.", tofu, policy(), "intro",
                             strict=True).missing_required == []


def test_bullets_need_only_the_key_facts():
    tofu = record("tofu")
    report = check_description("• 한빛 국산콩 부침두부", tofu, None, "bullets", strict=True)
    assert report.missing_required == ["use_by", "net_content"]
    covered = "• 한빛 국산콩 부침두부\n• 300g x 2개\n• 소비기한 2026.03.01"
    assert check_description(covered, tofu, None, "bullets", strict=True).missing_required == []


def test_fields_the_record_lacks_are_not_reported():
    # The bare record has only its name; the rest is the catalog's problem, not the copy's.
    report = check_description("수제 딸기잼입니다.", record("bare"), policy(), "detail", strict=True)
    assert report.missing_required == []
    report = check_description("딸기잼", record("bare"), None, "detail", strict=True)
    assert report.missing_required == ["product_name"]


def test_renderer_output_passes_its_own_grounding():
    """Every clean record's rendering passes; a record that breaks a rule itself ("유기농" in the
    name with no certification) fails only on what its warning names."""
    from smallretail_llm.baseline.renderer import render_description
    from smallretail_llm.grounding.record_rules import record_warnings

    for name in RECORDS["records"]:
        rec = record(name)
        warned = {w.rule for w in record_warnings(rec, policy())}
        for style in REQUIRED_COVERAGE:
            text = render_description(rec, style, "polite", policy(), seed=0)
            report = check_description(text, rec, policy(), style, strict=True)
            if "uncertified_claim" in warned:
                assert {v.rule for v in report.compliance_violations} <= {"invented_certification"}
                assert not report.unsupported_claims and not report.missing_required
            else:
                assert report.passed, (name, style, report.model_dump())


def test_record_breaking_rules_is_warned_and_its_policy_text_never_copied():
    from smallretail_llm.baseline.renderer import render_description
    from smallretail_llm.grounding.record_rules import record_warnings

    milk = record_warnings(record("organic_milk"), policy())
    assert [(w.field, w.rule) for w in milk] == [("name", "uncertified_claim")]
    assert "유기농" in milk[0].message and "certifications" in milk[0].message
    injected = record_warnings(record("injected"), policy())
    assert [(w.field, w.rule) for w in injected] == [("storage", "policy_in_field")]
    assert "0원" in injected[0].message and "010-1111-2222" in injected[0].message
    assert record_warnings(record("nurungji"), policy()) == []
    for style in REQUIRED_COVERAGE:
        text = render_description(record("injected"), style, "polite", policy(), seed=0)
        assert not re.search(r"(?<![\d,])0원", text) and "010-1111-2222" not in text


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("text", ["", "   ", None, "🍓🍓🍓", "豆腐 두부 tofu ＴＯＦＵ", "가" * 50_000,
                                  "1" * 5_000, "\x00\ufeff원%kg~~~", "1.5L" * 2_000,
                                  "a" * 50_000, "." * 50_000, "1만" * 20_000, "우유" * 20_000])
def test_bad_text_gives_a_report(text):
    report = check_description(text, record("tofu"), policy(), "detail", strict=True)
    assert isinstance(report, GroundingReport)
    assert all(c.kind in KINDS for c in report.unsupported_claims)


def test_record_with_none_fields_and_unknown_category():
    bare = ProductRecord(shop_id="s", sku="1", name="들기름", category="processed_food")
    report = check_description("국산 들기름 350mL", bare, None, "detail", strict=True)
    assert unsupported(report) == [["origin", "국산"], ["quantity", "350mL"]]
    odd = ProductRecord(shop_id="s", sku="2", name="도마", category="no_such_category")
    report = check_description("원목 도마", odd, None, "detail", strict=True)
    assert report.passed and report.missing_required == []


def test_unknown_style_is_checked_like_detail():
    report = check_description("한빛 두부", record("tofu"), None, "poem", strict=True)
    assert report.missing_required == check_description("한빛 두부", record("tofu"), None, "detail",
                                                         strict=True).missing_required


def test_internal_error_fails_closed_unless_strict(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(grounding, "extract_claims", boom)
    report = check_description("두부", record("tofu"))
    assert not report.passed and report.unsupported_claims[0].kind == "error"
    with pytest.raises(RuntimeError):
        check_description("두부", record("tofu"), strict=True)


_ALPHABET = st.sampled_from(list("0123456789.,~%+-원g㎖kgLmL개입매정포 국산미중대두우유계란밀")
                            + ["없", "않", "무첨가", "1위", "최고", "HACCP", "유기농", "보장", "환불",
                               "년", "월", "일", "(", ")", "㈜", "１２", "ｋｇ"])


@settings(max_examples=150, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_random_text_never_raises_and_spans_match(text):
    report = check_description(text, record("tofu"), policy(), "intro", strict=True)
    for claim in report.unsupported_claims:
        assert text[claim.start:claim.end] == claim.text
        assert claim.kind in KINDS


def test_corporate_prefix_belongs_to_the_following_name():
    from smallretail_llm.grounding.claims import extract_claims

    def brands(text):
        return [text[m.start:m.end] for m in extract_claims(text) if m.kind == "brand"]

    assert brands("화장품책임판매업자는 (주)소담랩입니다.") == ["(주)소담랩"]
    assert brands("소담랩(주)에서 만들었습니다.") == ["소담랩(주)"]
    assert brands("한빛(주) 제품입니다") == ["한빛(주)"]
    # with the name protected (it is the record's own value), nothing is left to claim
    assert brands_of_protected("화장품책임판매업자는 (주)소담랩입니다.", "(주)소담랩") == []


def brands_of_protected(text, value):
    from smallretail_llm.grounding.claims import extract_claims

    return [text[m.start:m.end] for m in extract_claims(text, protect=[value]) if m.kind == "brand"]


@pytest.mark.parametrize(("stock", "text", "passes"), [
    (12, "지금은 재고가 없어요.", False), (12, "품절이에요.", False),
    (12, "지금 주문 가능한 재고가 있어요.", True),
    (0, "지금 주문 가능한 재고가 있어요.", False), (0, "현재 재고가 없습니다.", True),
    (None, "재고 있음.", False), (None, "품절입니다.", False),
])
def test_a_stock_state_is_a_claim(stock, text, passes):
    """"재고가 없어요" for a product in stock sent a customer away; nothing checked it."""
    from fake_engine import shop_policy, tofu

    report = check_answer(text, "재고 있어요?", tofu(stock=stock), shop_policy())
    assert report.passed is passes
    assert passes or report.unsupported_claims[0].kind == "stock"

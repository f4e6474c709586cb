"""Q&A that answers what was asked (issue 16): amounts of the asked kind, facts in the product
name, yes/no with the record's value, several questions in one message, follow-ups in a
product chat, and a model draft about another field never replacing the rule answer."""

import asyncio
import json
from pathlib import Path

import pytest

from fake_engine import ApiHarness, FakeEngine, shop_policy, tofu
from smallretail_llm.baseline.followup import resolve_followup
from smallretail_llm.baseline.prompt_facts import HANDOFF_MARKER
from smallretail_llm.baseline.question import amount_kind, is_yes_no, quantities, split_parts
from smallretail_llm.baseline.rule_answer import answer_question
from smallretail_llm.core.record import NetContent, ProductRecord
from smallretail_llm.grounding.check import check_answer
from smallretail_llm.serving.assistant import answer

POLICY = shop_policy()
POT = ProductRecord(shop_id="s1", sku="POT-20", name="스테인리스 양수 냄비 20cm",
                    category="kitchenware", price_krw=32000)
HALLABONG = ProductRecord(shop_id="s1", sku="HL-3", name="제주 한라봉 3kg", category="agri_food",
                          price_krw=39000, net_content=NetContent(value=3000, unit="g"),
                          origin="국내산(제주)")
MILK = tofu(sku="MILK-900", name="목장 우유", net_content=NetContent(value=900, unit="mL"))


def ask(question, record=None):
    record = record or tofu()
    got = answer_question(question, record, POLICY)
    assert check_answer(got.answer, question, record, POLICY).passed, got.answer
    assert got.needs_human == (HANDOFF_MARKER in got.answer)
    return got


# ------------------------------------------------------------------ the three examples
def test_a_count_the_record_lacks_is_handed_off_not_answered_with_the_weight():
    got = ask("몇 개 들어있어요?", HALLABONG)
    assert got.needs_human and "3kg" not in got.answer and "개수" in got.answer


def test_a_size_in_the_name_is_answered_from_the_name():
    got = ask("냄비 지름이 몇 센치에요?", POT)
    assert not got.needs_human and "상품명에 표시된" in got.answer and "20cm" in got.answer
    assert got.evidence == ["name"]


def test_a_material_in_the_name_confirms_a_yes_no_question():
    got = ask("재질이 스테인리스 맞죠?", POT)
    assert not got.needs_human
    assert got.answer.startswith("네,") and "상품명에 표시된" in got.answer and "스테인리스" in got.answer


def test_a_count_in_the_name_answers_the_count():
    record = HALLABONG.model_copy(update={"name": "제주 한라봉 3kg 12과"})
    got = ask("몇 개 들어있어요?", record)
    assert not got.needs_human and "12과" in got.answer and "상품명에 표시된" in got.answer


def test_a_weight_question_of_an_unweighed_product_is_handed_off():
    assert ask("냄비 무게는 몇 키로에요?", POT).needs_human


# ------------------------------------------------------------------ yes/no
@pytest.mark.parametrize(("question", "lead", "value"), [
    ("1리터에요?", "아니요", "900mL"),
    ("900미리 맞죠?", "네", "900mL"),
    ("0.9 리터 맞아요?", "네", "900mL"),
])
def test_a_yes_no_amount_is_compared_with_the_record(question, lead, value):
    got = ask(question, MILK)
    assert got.answer.startswith(lead) and value in got.answer and not got.needs_human


@pytest.mark.parametrize(("origin", "lead"), [("국내산", "네"), ("미국산", "아니요")])
def test_a_yes_no_origin_is_answered_with_the_record_value(origin, lead):
    got = ask("국산 콩 맞아요?", tofu(origin=origin))
    assert got.answer.startswith(lead) and origin in got.answer


def test_a_yes_no_about_something_a_list_does_not_name_is_handed_off():
    got = ask("황색4호 들어있나요?", tofu())  # ingredients name no colouring: unknown, not "no"
    assert got.needs_human


def test_options_the_record_does_not_list_go_to_a_person():
    record = tofu(notice={**tofu().notice, "food_type": "두부"})
    assert ask("다른 용량도 있나요?", record).needs_human
    assert ask("600g짜리도 있나요?", record).needs_human


def test_a_free_text_line_answers_a_word_it_names():
    got = ask("응고제 들어가요?", tofu())
    assert not got.needs_human and "응고제" in got.answer and got.evidence == ["notice.ingredients"]


# ------------------------------------------------------------------ several questions
# ------------------------------------------------------------------ nothing the question did not ask
def test_a_customer_leaving_their_number_is_not_asked_the_shops():
    got = ask("오늘 주문하면 언제 와요? 연락처 010 1234 5678 남겨요")
    assert got.evidence == ["policy.shipping_days"], got.answer
    assert POLICY.cs_phone not in got.answer
    assert "policy.cs_phone" in ask("고객센터 연락처 알려주세요").evidence


def test_two_keywords_of_one_question_answered_by_one_fact_say_it_once():
    """"상담 전화 몇 시까지" names the phone and the hours; each one's answer states both, so
    the answer said every sentence twice."""
    got = ask("상담 전화 몇 시까지 받아요?")
    sentences = [s for s in got.answer.split(". ") if s]
    assert len(sentences) == len(set(sentences)) == 2, got.answer
    assert POLICY.cs_phone in got.answer and got.evidence == ["policy.cs_phone", "policy.cs_hours"]


def test_an_after_opening_question_gets_the_line_about_opening_not_the_use_by_date():
    sauce = tofu(sku="SAUCE-400", name="바질 토마토 소스 400g",
                 storage="개봉 전 실온, 개봉 후 냉장 보관하고 5일 이내에 드세요")
    for question in ("개봉하고 얼마나 보관 가능해요?", "뜯고 나서 냉장고에 넣어야 돼요?"):
        got = ask(question, sauce)
        assert got.evidence == ["storage"] and "2026-03-01" not in got.answer, got.answer
        assert not got.answer.startswith("아니요")
    # no line speaks of opening: the use-by date and storage, as before
    assert ask("개봉하고 얼마나 보관 가능해요?").evidence == ["use_by", "storage"]


def test_an_amount_question_gets_the_line_with_the_amount():
    cardigan = ProductRecord(shop_id="s1", sku="CD-1", name="라운드 니트 가디건", category="clothing",
                             price_krw=39000, notice={
                                 "material": "아크릴 60%, 울 20%, 나일론 20%",
                                 "caution": "손세탁 시 30℃ 이하 물에 울 전용 세제 사용"})
    got = ask("울 함량이 어떻게 돼요", cardigan)
    assert got.evidence == ["notice.material"] and "20%" in got.answer, got.answer
    # not an amount question: every line that names the word
    assert ask("울 들어간 거예요?", cardigan).evidence == ["notice.material", "notice.caution"]


def test_units_to_buy_are_not_a_question_about_the_pack():
    pepper = tofu(sku="PEP-500", name="고춧가루 500g", notice={"components": "고춧가루 500g 1봉"})
    got = ask("3만원 넘으면 무료배송이죠? 두 봉 사면 되나?", pepper)
    assert "notice.components" not in got.evidence and "30,000원" in got.answer, got.answer


def test_an_extra_fee_question_gets_the_shipping_line_that_states_it():
    policy = shop_policy(shipping_days="출고 후 2일 이내 도착. 제주·도서산간 지역은 추가 배송비 5,000원")
    for question in ("제주도는 배송비 더 붙나요?", "도서산간 추가 배송비 있어요?"):
        got = answer_question(question, tofu(), policy)
        assert got.evidence[0] == "policy.shipping_days" and "5,000원" in got.answer, got.answer
        assert "policy.shipping_fee_krw" not in got.evidence
    # no surcharge in the shipping line: the fee itself answers
    assert "policy.shipping_fee_krw" in ask("제주도는 배송비 더 붙나요?").evidence


def test_an_allergen_word_that_names_the_product_is_not_an_allergen_question():
    milk = tofu(sku="MILK-1", name="목장 저지방 우유", allergens=["우유"], stock=0)
    for question, field in (("우유 재고 남아 있어요?", "stock"),
                            ("우유 유통기한이 언제까지로 되어 있어요?", "use_by")):
        got = ask(question, milk)
        assert got.evidence == [field], got.answer
    assert ask("우유 들어있어요?", milk).evidence[0] == "allergens"


def test_where_an_ingredient_comes_from_is_its_ingredient_line():
    milk = tofu(sku="MILK-2", name="목장 저지방 우유", brand="푸른목장",
                notice={"ingredients": "원유(국산) 99%, 탈지분유"})
    got = ask("원유 어디꺼에요", milk)
    assert got.evidence == ["notice.ingredients"] and "원유(국산)" in got.answer, got.answer
    assert ask("어디꺼에요?", milk).evidence == ["brand"]


def test_the_as_phone_is_not_also_the_shops_phone():
    pot = POT.model_copy(update={"notice": {"as_contact": "(주)한솔키친 1588-6120"}})
    got = ask("as 전화번호 알려줘", pot)
    assert got.evidence == ["notice.as_contact"] and POLICY.cs_phone not in got.answer, got.answer


def test_several_questions_are_each_answered_or_handed_off_plainly():
    got = ask("가격 얼마예요? 그리고 할인 쿠폰 있나요?")
    assert "3,500원" in got.answer and got.needs_human
    assert got.evidence == ["price_krw"]
    both = ask("소비기한 언제까지예요? 원산지는요?")
    assert "2026-03-01" in both.answer and "국내산" in both.answer and not both.needs_human


def test_a_remark_after_a_question_is_no_unanswered_question():
    got = ask("원산지 어디예요? 답변은 빨리 부탁드려요.")
    assert not got.needs_human and "국내산" in got.answer


def test_message_parts():
    assert split_parts("가격 얼마예요? 배송은 언제 와요?") == ["가격 얼마예요?", "배송은 언제 와요?"]
    assert split_parts("안녕하세요. 가격 얼마예요?") == ["안녕하세요. 가격 얼마예요?"]
    assert is_yes_no("우유 들어갔나요?") and not is_yes_no("원산지가 어디예요?")
    assert not is_yes_no("거위털이에요 오리털이에요?")
    assert amount_kind("몇 센치예요?") == "length" and amount_kind("몇 개 들었어요") == "count"
    assert quantities("1.5리터") == [(1500.0, "mL")] and quantities("20cm") == [(200.0, "mm")]


# ------------------------------------------------------------------ follow-ups
def test_follow_ups_are_made_whole_from_the_earlier_turn():
    assert resolve_followup("그럼 밀은요?", ["우유 들어있어요?"], "processed_food") == "밀 들어있어요?"
    assert resolve_followup("그거 가격은?", ["원산지 어디예요?"]) == "그거 가격은?"
    assert resolve_followup("그럼 냉동은요?", ["냉장 보관해야 돼요?"]) == "그럼 냉동은요?"


def test_a_product_chat_answers_a_follow_up_that_refers_back(tmp_path):
    engine = FakeEngine(["모르겠어요."])  # a draft that answers nothing: the rules answer
    with ApiHarness(tmp_path, engine) as api:
        def chat(*turns):
            messages = []
            for i, turn in enumerate(turns):
                messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": turn})
            body = {"model": engine.name, "product_id": "TOFU-300", "messages": messages}
            r = api.client.post("/v1/chat/completions", headers=api.auth(), json=body)
            assert r.status_code == 200, r.text
            return r.json()["choices"][0]["message"]["content"], r.json()["smallretail"]

        text, meta = chat("우유 들어있어요?", "알레르기 표시에 없습니다.", "그럼 대두는요?")
        assert text.startswith("네") and "대두" in text and not meta["needs_human"]
        text, meta = chat("원산지 어디예요?", "원산지는 국내산입니다.", "그거 가격은?")
        assert "3,500원" in text and meta["evidence"] == ["price_krw"]
        text, meta = chat("냉장 보관이에요?", "네.", "그럼 냉동은요?")
        assert "냉장 보관" in text and meta["evidence"] == ["storage"]


# ------------------------------------------------------------------ relevance for the model
def test_a_grounded_draft_about_another_amount_is_not_served():
    engine = FakeEngine(["중량은 ⟦net_content⟧입니다."])  # grounded, but a weight for a count
    got = asyncio.run(answer(engine, HALLABONG, "몇 개 들어있어요?", POLICY))
    assert got.needs_human and got.source == "handoff" and "3kg" not in got.answer


def test_a_draft_answering_one_of_several_questions_is_not_served():
    engine = FakeEngine(["가격은 ⟦price_krw⟧입니다."])
    got = asyncio.run(answer(engine, tofu(), "가격 얼마예요? 원산지는요?", POLICY))
    assert got.source == "fallback" and "3,500원" in got.answer and "국내산" in got.answer
    partial = asyncio.run(answer(engine, tofu(), "가격 얼마예요? 쿠폰 있어요?", POLICY))
    assert partial.needs_human and "3,500원" in partial.answer and partial.source == "handoff"


def _hard_sets():
    from smallretail_llm.evaluation.cases import HARD2_EXPORTS, load_catalog, load_exports

    catalog = {**load_catalog(), **load_exports(HARD2_EXPORTS)}
    sets = {}
    for path in ("eval/data/hard_questions.jsonl", "eval/data/hard_questions_2.jsonl"):
        sets[path] = [json.loads(line) for line in
                      Path(path).read_text(encoding="utf-8").splitlines() if line]
    return catalog, sets


def test_hard_set_questions_never_appear_in_the_training_data():
    """Both hard sets measure questions the model never saw: no generated training question
    of any catalog product (the generator `data build` uses, several seeds) is one of them."""
    from smallretail_llm.baseline.intent import normalize
    from smallretail_llm.data.qa_examples import generate_qa

    catalog, sets = _hard_sets()
    items = [i for found in sets.values() for i in found]
    hard = {normalize(i["question"]) for i in items}
    assert {f"{i['shop_id']}/{i['sku']}" for i in items} <= set(catalog)
    leaked = [qa.question for key in sorted(catalog) for seed in (0, 1, 2)
              for qa in generate_qa(*catalog[key], seed) if normalize(qa.question) in hard]
    assert leaked == []


def test_the_second_hard_set_is_apart_from_the_first_and_checkable():
    from smallretail_llm.baseline.prompt_facts import ANSWER_FIELDS, policy_facts, record_facts
    from smallretail_llm.evaluation.metrics import states

    catalog, sets = _hard_sets()
    first, second = sets.values()
    assert len(second) >= 150 and len({i["id"] for i in second}) == len(second)
    assert not {(i["shop_id"], i["sku"]) for i in first} & {(i["shop_id"], i["sku"]) for i in second}
    assert len({i["shop_id"] for i in second}) >= 3  # another shop's export among them
    assert sum(i["expected"]["needs_human"] for i in second) >= 30
    for item in second:
        record, policy = catalog[f"{item['shop_id']}/{item['sku']}"]
        facts = record_facts(record, ANSWER_FIELDS) + "\n" + policy_facts(policy)
        for value in item["expected"]["answer_contains"]:
            if "재고" not in value:  # stock is said as in/out of stock, never a count
                assert states(facts, value), (item["id"], value)


def test_fields_named_together_are_all_answered():
    """"모델명이랑 무게 알려주세요" is one sentence asking two fields: a draft with the model
    name alone does not answer it (the rules' answer, with both, is served instead)."""
    from smallretail_llm.baseline.relevance import answers_what_was_asked

    values = {"notice.model_name": "SG-CH20B", "notice.weight": "48g"}
    asked = ["notice.model_name", "notice.weight"]
    question = "충전기 모델명이랑 무게 알려주세요"
    alone = "모델명: SG-CH20B"
    both = "모델명은 SG-CH20B, 무게는 48g이에요."
    assert not answers_what_was_asked(alone, asked, values, question, several=True)
    assert answers_what_was_asked(both, asked, values, question, several=True)


def test_a_unit_from_the_name_is_no_paraphrase_of_the_value():
    """"중량은 … 28cm 프라이팬 정보 없음." shares only "cm" with "지름 28cm x 높이 8cm, 무게
    1.1kg": it does not answer the weight."""
    from smallretail_llm.baseline.relevance import answers_what_was_asked, shares_words

    value = "지름 28cm x 높이 8cm, 무게 1.1kg"
    draft = "중량은 쿡앤홈 프라이팬 28cm 정보 없음."
    assert not shares_words(draft, value)
    assert not answers_what_was_asked(draft, ["notice.size"], {"notice.size": value},
                                      "프라이팬 무게 얼마나 나가요")
    assert shares_words("개봉 후에는 냉장 보관해 주세요", "개봉 후 냉장 보관")
    pot = "지름 24cm x 높이 12cm, 용량 5.0L"  # the field's name alone is no paraphrase
    assert not answers_what_was_asked("용량 정보 있음. 상품 관련 문의를 남겨 주세요.",
                                      ["notice.size"], {"notice.size": pot}, "냄비 용량 몇 리터예요?")


def test_a_generic_word_that_is_the_fields_own_label_is_asked_by_it():
    """"종류" is too generic to name a field as an alias, but a bag's 종류 is its own label."""
    backpack = ProductRecord(shop_id="s1", sku="BP-1", name="데일리 백팩 20L 블랙", category="bag",
                             price_krw=49000, notice={"kind": "백팩", "color": "블랙"})
    got = ask("종류 좀 알려줄래요", backpack)
    assert got.evidence == ["notice.kind"] and "백팩" in got.answer, got.answer


def test_the_product_name_is_no_paraphrase_of_the_asked_value():
    """"문의하신 국산 대두 두부이에요." shares 국산 and 대두 with the ingredients "대두(국산) 98%,
    응고제" only through the product's name: it states no ingredient."""
    from smallretail_llm.baseline.relevance import answers_what_was_asked

    values = {"name": "국산 대두 두부", "notice.ingredients": "대두(국산) 98%, 응고제"}
    asked = ["notice.ingredients"]
    assert not answers_what_was_asked("문의하신 국산 대두 두부이에요.", asked, values, "원재료 뭐예요?")
    assert answers_what_was_asked("원재료는 국산 대두와 응고제예요.", asked, values, "원재료 뭐예요?")

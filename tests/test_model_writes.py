"""The model writes the copy: slot drafts are filled from the record and served as the model's,
junk that makes no claim is still refused (copy check), a chat that names a product is answered
like /v1/answers, a failing draft stops at its first false sentence (fail fast), and the
constrained engine never writes a number the record lacks."""

import asyncio
import json
import re

import pytest

from fake_engine import ApiHarness, FakeEngine, shop_policy, tofu
from smallretail_llm.serving import assistant, draft_requests
from smallretail_llm.serving.decoding.value_constraint import ValueConstraint
from smallretail_llm.serving.engines.engine import GenerationRequest

tiny_models = pytest.importorskip("tiny_models")


def _describe(reply: str, style: str):
    engine = FakeEngine([reply])
    return asyncio.run(assistant.describe(engine, tofu(), style, "friendly", shop_policy(),
                                          max_regenerations=0))


def test_a_slot_draft_is_filled_from_the_record_and_served_as_the_models():
    d = _describe("⟦name⟧은 ⟦net_content⟧에 ⟦price_krw⟧예요.", "intro")
    assert d.source == "model", d.drafts
    assert d.text == "국산콩 두부는 300g에 3,500원이에요."  # particles fitted to the values
    assert d.slots == [("name", "국산콩 두부"), ("net_content", "300g"), ("price_krw", "3,500원")]


def test_a_slot_the_record_cannot_fill_fails_the_draft():
    d = _describe("⟦name⟧은 ⟦stock⟧ 남았어요.", "intro")  # tofu() has no stock
    assert d.source == "fallback"
    assert [c.kind for c in d.drafts[0].unsupported_claims] == ["slot", "copy"]


@pytest.mark.parametrize("style, junk", [
    ("seo", "상품명::::: 공정거래위원회),반품: 출고하지 사용 교환·냉동식품은 무료배송"),
    ("intro", "[상품 정보]\n상품명: 국산콩 두부\n가격: 3,500원"),
    ("bullets", "국산콩 두부를 소개해요\n• 가격은 3,500원이에요"),
    ("intro", "맛있는 두부예요."),  # names no product
    ("intro", "국산콩 두부는 배송비가 3,000원이에요."),  # policy text an intro does not ask for
    ("intro", "국산콩 두부 3,500원에 3,500원에 3,500원"),  # the same value over and over
    ("bullets", "• 국산콩 두부\n• 3,500원이에요\n• 3,500원이에요"),  # a repeated line
])
def test_junk_that_states_nothing_false_is_not_served(style, junk):
    d = _describe(junk, style)
    assert d.source == "fallback"
    assert "copy" in [c.kind for c in d.drafts[0].unsupported_claims]


def test_chat_with_a_product_is_answered_like_answers(tmp_path):
    engine = FakeEngine(["원산지는 ⟦origin⟧이에요. 연락처는 문의 글에 안 남기셔도 돼요."])
    with ApiHarness(tmp_path, engine) as api:
        body = {"model": engine.name, "product_id": "TOFU-300",
                "messages": [{"role": "user", "content": "원산지 어디예요? 010-1234-5678"}]}
        r = api.client.post("/v1/chat/completions", headers=api.auth(), json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["choices"][0]["message"]["content"] == \
            "원산지는 국내산이에요. 연락처는 문의 글에 안 남기셔도 돼요."
        assert out["smallretail"]["source"] == "model" and out["smallretail"]["grounding"]["passed"]
        prompt = engine.calls[-1].messages[-1]["content"]
        assert "국산콩 두부" in prompt and "010-1234-5678" not in prompt  # redacted, grounded
        streamed = api.client.post("/v1/chat/completions", headers=api.auth(),
                                   json=body | {"stream": True}).text.split("\n\n")[:-1]
        chunks = [json.loads(e.removeprefix("data: ")) for e in streamed[:-1]]
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == \
            "원산지는 국내산이에요. 연락처는 문의 글에 안 남기셔도 돼요."
        assert chunks[-1]["smallretail"]["product_id"] == "TOFU-300"
        missing = api.client.post("/v1/chat/completions", headers=api.auth(),
                                  json=body | {"product_id": "NOPE"})
        assert missing.status_code == 404
        other = api.client.post("/v1/chat/completions", headers=api.auth("s2"),
                                json=body | {"model": engine.name})
        assert other.json()["smallretail"]["product_id"] == "TOFU-300"  # s2's own TOFU-300


def test_the_description_response_lists_the_filled_values(tmp_path):
    engine = FakeEngine(["⟦name⟧은 ⟦price_krw⟧이에요."])
    with ApiHarness(tmp_path, engine) as api:
        r = api.client.post("/v1/descriptions", headers=api.auth(),
                            json={"product_id": "TOFU-300", "style": "intro"})
        body = r.json()
        assert body["source"] == "model" and body["text"].startswith("국산콩 두부 s1은")
        assert {"field": "price_krw", "value": "3,500원"} in body["slots"]


# ---------------------------------------------------------------- the real engine
REPLY = "사과는 맛있어요. 가격은 24,900원이에요. 사과는 빨개요. 사과는 커요. 사과는 달아요."


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    return tiny_models.build_tiny_model(tmp_path_factory.mktemp("fit"), seed=1, reply=REPLY,
                                        steps=300)


def _run(engine, request):
    async def go():
        try:
            return await engine.generate(request)
        finally:
            await engine.aclose()
    return asyncio.run(go())


def test_fail_fast_stops_at_the_first_false_sentence(fitted):
    from smallretail_llm.serving.engines.hf_engine import TransformersEngine

    messages = tiny_models.REPLY_PROMPT
    full = _run(TransformersEngine(fitted), GenerationRequest(messages=messages, max_new_tokens=80))
    assert full.text.startswith("사과는 맛있어요. 가격은 24,900원이에요. 사과는 빨개요.")
    seen: list[str] = []

    def check(text: str) -> str | None:
        seen.append(text)
        return "가격이 기록과 다릅니다" if "24,900원" in text else None

    stopped = _run(TransformersEngine(fitted),
                   GenerationRequest(messages=messages, max_new_tokens=80, check=check))
    assert stopped.finish_reason == "rejected"
    assert stopped.text.rstrip().endswith("24,900원이에요.")
    assert stopped.completion_tokens < full.completion_tokens
    assert seen[0].rstrip() == "사과는 맛있어요."  # checked at each sentence end


def test_constrained_engine_writes_only_record_numbers(fitted):
    from smallretail_llm.serving.engines.hf_engine import TransformersEngine

    def numbers(allowed):
        out = _run(TransformersEngine(fitted), GenerationRequest(
            messages=tiny_models.REPLY_PROMPT, max_new_tokens=60, constraint=allowed))
        return re.findall(r"[0-9](?:[0-9,.]*[0-9])?", out.text)

    assert "24,900" in numbers(ValueConstraint(frozenset({"24,900"})))  # the record's: unchanged
    other = ValueConstraint(frozenset({"9,900", "3"}))
    assert all(n in other.numbers for n in numbers(other))  # 24,900 is not this record's


@pytest.mark.parametrize("reply, source", [
    ("가격은 ⟦price_krw⟧이에요.", "model"),
    ("원산지는 ⟦origin⟧이에요.", "fallback"),  # true, grounded, but not what was asked
    ("네, 맞아요.", "fallback"),  # states no value although the price is on record
    ("담당자가 확인 후 답변드리겠습니다.", "fallback"),  # the record knows the price
])
def test_an_answer_must_answer_what_was_asked(reply, source):
    a = asyncio.run(assistant.answer(FakeEngine([reply]), tofu(), "가격 얼마예요?", shop_policy()))
    assert a.source == source
    assert "3,500원" in a.answer and not a.needs_human


def test_an_answer_must_hand_off_the_part_the_record_lacks():
    question = "가격이랑 택배사 알려주세요"  # the record has the price, the policy no courier
    policy = shop_policy().model_copy(update={"courier": None})
    for draft in ("가격은 ⟦price_krw⟧이에요.",  # drops the courier part
                  "가격은 ⟦price_krw⟧이에요. 택배사는 담당자가 확인 후 답변드리겠습니다."):
        a = asyncio.run(assistant.answer(FakeEngine([draft]), tofu(), question, policy))
        # a partly handed-off message is the rules' answer: both parts, said plainly
        assert a.source != "model" and a.needs_human and "3,500원" in a.answer


@pytest.mark.parametrize("reply, source", [
    ("가격은 ⟦price_krw⟧이에요. 지금 주문 가능해요.", "model"),
    ("가격은 ⟦price_krw⟧이에요. 재고가 있어요.", "model"),
    ("가격은 ⟦price_krw⟧이에요.", "fallback"),  # the stock question left unanswered
    ("재고가 있어요.", "fallback"),  # the price question left unanswered
])
def test_a_stock_question_beside_another_is_answered_too(reply, source):
    a = asyncio.run(assistant.answer(FakeEngine([reply]), tofu(stock=12), "가격이랑 재고 알려주세요",
                                     shop_policy()))
    assert a.source == source and "3,500원" in a.answer


@pytest.mark.parametrize("reply, source", [
    ("가격은 ⟦price_krw⟧이에요.", "model"),
    ("소비기한은 ⟦price_krw⟧이에요.", "fallback"),  # the right value under another field's name
])
def test_a_slot_must_sit_under_its_own_label(reply, source):
    a = asyncio.run(assistant.answer(FakeEngine([reply]), tofu(), "가격 얼마예요?", shop_policy()))
    assert a.source == source and "3,500원" in a.answer


def test_an_answer_written_with_question_fact_slots_is_filled_by_line():
    """"⟦ask.1⟧" is the first [질문 관련 정보] line's value, "⟦ask.1.label⟧" its label: a
    small model that learned this pattern answers about fields it never saw in training."""
    a = asyncio.run(assistant.answer(FakeEngine(["⟦ask.1.label⟧은 ⟦ask.1⟧이에요."]), tofu(),
                                     "가격 얼마예요?", shop_policy()))
    assert (a.source, a.answer) == ("model", "가격은 3,500원이에요.")  # particle fitted to "가격"
    assert a.slots == [("price_krw", "3,500원")]  # named by the field, the label slot left out
    for wrong in ("⟦ask.2⟧이에요.", "원산지는 ⟦ask.1⟧이에요."):  # no second line; another label
        a = asyncio.run(assistant.answer(FakeEngine([wrong]), tofu(), "가격 얼마예요?",
                                         shop_policy()))
        assert a.source == "fallback" and "3,500원" in a.answer


def test_an_answer_that_says_a_sentence_twice_is_not_served():
    note = "개인정보 보호를 위해 연락처나 주소는 문의 글에 남기지 않으셔도 됩니다."
    question = "가격 얼마예요? 제 번호 010-1234-5678"
    once = asyncio.run(assistant.answer(FakeEngine([f"가격은 ⟦price_krw⟧이에요. {note}"]), tofu(),
                                        question, shop_policy()))
    twice = asyncio.run(assistant.answer(FakeEngine([f"가격은 ⟦price_krw⟧이에요. {note} {note}"]),
                                         tofu(), question, shop_policy()))
    assert once.source == "model"
    assert twice.source == "fallback" and twice.answer.count("개인정보") == 1


def test_a_message_with_personal_data_gets_the_privacy_note():
    question = "원산지 어디예요? 010-1234-5678"
    bare = asyncio.run(assistant.answer(FakeEngine(["원산지는 ⟦origin⟧이에요."]), tofu(), question,
                                        shop_policy()))
    assert bare.source != "model" and "연락처" in bare.answer  # the rules add the note
    noted = asyncio.run(assistant.answer(FakeEngine(
        ["원산지는 ⟦origin⟧이에요. 연락처는 문의 글에 안 남기셔도 돼요."]), tofu(), question, shop_policy()))
    assert noted.source == "model"


def test_a_description_line_that_names_a_field_without_its_value_fails():
    from smallretail_llm.baseline.copy_check import orphan_labels

    draft = "• ⟦name⟧의 상품 정보를 안내합니다\n• 인증 정보는 이 원산지예요\n• 가격은 ⟦price_krw⟧입니다"
    assert orphan_labels(draft, {"name": "국산콩 두부", "price_krw": "3,500원"}) == [
        "• 인증 정보는 이 원산지예요"]
    d = asyncio.run(assistant.describe(FakeEngine([draft] * 3), tofu(), "bullets",
                                       policy=shop_policy()))
    assert d.source != "model"


@pytest.mark.parametrize("style", ["bullets", "detail"])
def test_an_empty_bullet_or_an_unfinished_sentence_is_not_served(style):
    """The renderer's own copy as a slot draft is served as the model's; with an empty bullet
    or a cut-off sentence ("받으신 뒤에는" and a blank line) added, it is not."""
    from smallretail_llm.baseline.renderer import render_description
    from smallretail_llm.baseline.slots import delexicalize, slot_values

    good = delexicalize(render_description(tofu(), style, "friendly", shop_policy()),
                        slot_values(tofu(), shop_policy()))
    bad = (good.replace("\n", "\n• \n", 1) if style == "bullets"
           else good.replace("\n\n", "\n\n받으신 뒤에는\n\n", 1))
    dots = good.replace("\n", ". .\n", 1)  # a sentence with no words
    assert _describe(good, style).source == "model"
    assert _describe(bad, style).source == "fallback"
    assert _describe(dots, style).source == "fallback"


@pytest.mark.parametrize("reply, source", [
    ("소비기한은 ⟦use_by⟧까지예요. 원산지는 ⟦origin⟧이에요.", "model"),
    ("소비기한은 ⟦use_by⟧까지예요.", "fallback"),  # the second question of the sentence dropped
])
def test_two_questions_in_one_sentence_are_both_answered(reply, source):
    question = "소비기한 언제까지고 어느 지역에서 나온 거예요?"  # one sentence, two question words
    a = asyncio.run(assistant.answer(FakeEngine([reply]), tofu(), question, shop_policy()))
    assert a.source == source and "국내산" in a.answer


def test_detail_drafts_carry_the_paragraphs_of_the_renderers_copy():
    """The paragraph plan the decoder holds a detail draft to (`ValueConstraint.paragraphs`)
    is the renderer's own copy of the record, delexicalised; other styles carry none."""
    from smallretail_llm.baseline.slots import slot_values

    record, policy = tofu(), shop_policy()
    values = slot_values(record, policy)
    plan = draft_requests.describe_plan(record, "detail", "polite", policy, values)["paragraphs"]
    assert {"origin", "manufacturer", "price_krw"} <= plan[0]
    assert {"storage", "use_by"} in [set(p) for p in plan]
    assert all(set(p) <= set(values) for p in plan)
    assert "paragraphs" not in draft_requests.describe_plan(record, "intro", "polite", policy, values)
    engine = FakeEngine(["국산콩 두부를 소개합니다."])
    asyncio.run(assistant.describe(engine, record, "detail", "polite", policy,
                                   max_regenerations=0))
    assert engine.calls[0].constraint.paragraphs == plan


def test_bullets_have_the_lines_the_prompt_asks_for():
    """The prompt asks for 3~6 bullet lines (the renderer writes 4-6); a 7-line draft is not
    served."""
    from smallretail_llm.baseline.copy_check import copy_problems

    record = tofu()
    lines = ["• 국산콩 두부", "• 300g, 3,500원", "• 원산지: 국내산", "• 제조사: 맑은식품",
             "• 냉장 보관 (0~10℃)", "• HACCP 인증", "• 브랜드: 맑은콩"]
    assert not copy_problems("\n".join(lines[:6]), record, "bullets")
    assert any("3~6줄" in reason for reason, _ in copy_problems("\n".join(lines), record, "bullets"))


def test_a_keyword_line_belongs_to_seo_only():
    """"• 키워드: 19,800원" was served as a bullet (the seo line's label on the price); the
    keyword line is seo's shape, and in seo it may list any field's value."""
    from fake_engine import tofu
    from smallretail_llm.baseline.copy_check import copy_problems

    record = tofu()
    bullets = f"• {record.name}\n• 키워드: 3,500원\n• 원산지는 국내산\n• 제조사는 맑은식품"
    assert any("SEO" in reason for reason, _ in copy_problems(bullets, record, "bullets"))
    seo = f"{record.name} 300g\n키워드: 두부, 국산콩, 3,500원"
    assert not any("SEO 키워드" in reason for reason, _ in copy_problems(seo, record, "seo"))


def test_the_price_word_of_the_copy_does_not_label_another_value():
    """"판매가 200mL" (a concise detail draft) states the amount under the price's name."""
    from smallretail_llm.baseline.copy_check import mislabeled_slots

    labels = {"price_krw": "가격", "net_content": "용량"}
    values = {"price_krw": "15,000원", "net_content": "200mL"}
    assert mislabeled_slots("판매가 ⟦net_content⟧, 가격 ⟦price_krw⟧.", labels, values)
    assert not mislabeled_slots("⟦net_content⟧, 판매가 ⟦price_krw⟧.", labels, values)


def test_a_draft_requests_controls_survive_pickling_with_the_same_verdicts():
    """The fail-fast check is a plain object (``DraftCheck``), not a closure: a draft request
    can be handed to an engine in another process and judges exactly as here."""
    import pickle

    record, policy = tofu(), shop_policy()
    options = assistant.GenerationOptions(fail_fast=True)
    values = draft_requests.slot_values(record, policy)
    controls = draft_requests.draft_controls(options, values, record, policy)
    copied = pickle.loads(pickle.dumps(controls))
    for draft in ("국산콩 두부예요.", "수입산 콩으로 만든 두부예요.", "⟦nothing⟧ 이에요."):
        assert copied["check"](draft) == controls["check"](draft)
    assert controls["check"]("수입산 콩으로 만든 두부예요.") is not None
    assert controls["check"]("⟦nothing⟧ 이에요.") == "기록에 없는 항목: nothing"
    assert copied["constraint"] == controls["constraint"]

"""A draft's plan at decode time (`draft_plan.py`): bullets and seo keep to their lines and end
with the closing line their category requires; detail copy opens the notice table only after
its required facts, writes headings only where a line begins, opens the closing paragraph after
the one before it, and writes nothing after its last paragraph; no draft says a word twice in a
row; the other styles never write policy slots or brackets."""

import asyncio

from fake_engine import FakeEngine, shop_policy, tofu
from smallretail_llm.baseline.prompt_facts import HEALTH_FOOD_STATEMENT
from smallretail_llm.serving import assistant, draft_requests
from smallretail_llm.serving.decoding.number_runs import numbers_in
from smallretail_llm.serving.decoding.value_constraint import (
    TokenTable,
    ValueConstraint,
    step_ban,
)

STATEMENT = "본 제품은 의약품이 아닙니다."
PIECES = ["<|im_end|>", "\n", "\n\n", "•", "▁", "가", "나", ".", ":", "▁인증", "인증", "▁판매",
          "[", "상품", "]", "본", "▁제품은", "▁의약품이", "▁아닙니다",
          "⟦name⟧", "⟦origin⟧", "⟦storage⟧", "⟦notice_block⟧", "⟦policy.cs⟧", "⟦statement⟧"]
TABLE = TokenTable(PIECES, special_ids=[0], eos_ids=[0])
EOS, NL, BLANK = 0, PIECES.index("\n"), PIECES.index("\n\n")
VALUES = {"name": "맑은 두부", "origin": "국내산", "storage": "냉장 보관",
          "notice_block": "- 식품의 유형: 두부", "policy.cs": "02-123-4567", "statement": STATEMENT}


def _ids(*pieces: str) -> list[int]:
    return [PIECES.index(p) for p in pieces]


def _lines(n: int) -> list[str]:
    return [p for _ in range(n) for p in ("•", "▁", "⟦origin⟧", "가", "\n")]


def _constraint(**plan) -> ValueConstraint:
    return ValueConstraint(numbers_in(VALUES.values()), frozenset(VALUES), VALUES, **plan)


def test_the_last_line_opens_no_other():
    """Bullets have at most six lines: on the sixth a line break is banned (a small model wrote
    a seventh); before it, it is not. Intro (one line) never breaks."""
    bullets = _constraint(line_limit=6)
    assert NL not in step_ban(_ids(*_lines(4), "•", "▁", "⟦name⟧"), bullets, TABLE).ids
    assert NL in step_ban(_ids(*_lines(5), "•", "▁", "⟦name⟧"), bullets, TABLE).ids
    assert EOS not in step_ban(_ids(*_lines(5), "•", "▁", "⟦name⟧"), bullets, TABLE).ids
    intro = _constraint(line_limit=1)
    assert NL in step_ban(_ids("가"), intro, TABLE).ids


def test_a_line_ends_only_once_it_states_a_fact():
    """Every line of the training copy writes a slot; a small model that could not write the
    one it had in mind wrote "• " lines with nothing after them. A line without a slot may not
    end while the request has a slot left to write."""
    bullets = _constraint(line_limit=6)
    factless = step_ban(_ids(*_lines(2), "•", "▁", "가"), bullets, TABLE).ids
    assert NL in factless and EOS in factless
    stated = step_ban(_ids(*_lines(2), "•", "▁", "⟦name⟧"), bullets, TABLE).ids
    assert NL not in stated and EOS not in stated
    one_slot = ValueConstraint(numbers_in(VALUES.values()), frozenset({"origin"}), VALUES,
                               line_limit=6)
    nothing_left = step_ban(_ids(*_lines(2), "•", "▁", "가"), one_slot, TABLE).ids
    assert NL not in nothing_left and EOS not in nothing_left  # ⟦origin⟧ is written already


def test_a_required_closing_line_is_the_last_line_and_ends_the_draft():
    """Seo for 건강기능식품: title, keywords, then the statement. The draft does not end before
    it, its third line can only be it, and once it is written only the end is left."""
    seo = _constraint(line_limit=3, closing=STATEMENT)
    assert EOS in step_ban(_ids("가", "\n", "나"), seo, TABLE).ids  # not before the statement
    assert step_ban(_ids("가", "\n", "나"), seo, TABLE).only is None  # line 2: the model writes
    third = step_ban(_ids("가", "\n", "나", "\n"), seo, TABLE).only
    assert third == _ids("본")
    assert step_ban(_ids("가", "\n", "나", "\n", "본"), seo, TABLE).only == _ids("▁", "▁제품은")
    written = _ids("가", "\n", "나", "\n", "본", "▁제품은", "▁의약품이", "▁아닙니다", ".")
    assert step_ban(written, seo, TABLE).only == [EOS]
    bullets = _constraint(line_limit=6, closing="• " + STATEMENT)
    assert step_ban(_ids(*_lines(5)), bullets, TABLE).only == _ids("•")
    as_slot = _ids(*_lines(2), "•", "▁", "⟦statement⟧")  # the statement's slot, early
    assert step_ban(as_slot, bullets, TABLE).only == [EOS]


def test_a_vocabulary_that_cannot_spell_the_closing_line_is_only_kept_to_the_limit():
    """Byte-level vocabularies have no Korean tokens: no allow-list, and the draft may end."""
    table = TokenTable([p for p in PIECES if p not in ("본", "▁제품은")], special_ids=[0],
                       eos_ids=[0])
    seo = _constraint(line_limit=3, closing=STATEMENT)
    ids = [table.pieces.index(p) for p in ("⟦name⟧", "\n", "나", "⟦origin⟧", "\n", "⟦storage⟧")]
    ban = step_ban(ids, seo, table)
    assert ban.only is None and EOS not in ban.ids
    assert table.pieces.index("\n") in ban.ids


PLAN = (frozenset({"name", "origin"}), frozenset({"storage"}), frozenset({"notice_block"}),
        frozenset({"policy.cs"}), frozenset({"statement"}))


def test_the_table_header_waits_for_a_required_paragraph():
    """From the first paragraph straight to "[상품 정보]" leaves storage unsaid: while a paragraph
    with a required fact before the table is unwritten, a line cannot open with "["; an
    optional one does not hold it back."""
    first = ("⟦name⟧", ".", "▁", "⟦origin⟧", ".", "\n\n")
    required = _constraint(paragraphs=PLAN, required=frozenset({"storage"}))
    assert PIECES.index("[") in step_ban(_ids(*first), required, TABLE).ids
    after_storage = _ids(*first, "⟦storage⟧", ".", "\n\n")
    assert PIECES.index("[") not in step_ban(after_storage, required, TABLE).ids
    optional = _constraint(paragraphs=PLAN)
    assert PIECES.index("[") not in step_ban(_ids(*first), optional, TABLE).ids
    # nor the table, under its heading or not
    block = PIECES.index("⟦notice_block⟧")
    assert block in step_ban(_ids(*first), required, TABLE).ids
    assert block in step_ban(_ids(*first, "[", "상품", "]", "\n"), required, TABLE).ids
    assert block not in step_ban(_ids(*first, "⟦storage⟧", ".", "\n\n", "[", "상품", "]", "\n"),
                                 required, TABLE).ids


def test_the_table_goes_only_right_below_a_heading():
    """The notice table's "- 식품의 유형: …" lines run on from a sentence ("…제품이에요. - 식품의
    유형: …") or open a paragraph with no heading: the copy writes them nowhere but below one."""
    plan = _constraint(paragraphs=PLAN)
    block = PIECES.index("⟦notice_block⟧")
    first = ("⟦name⟧", ".", "▁", "⟦origin⟧", ".")
    assert block in step_ban(_ids(*first, "▁"), plan, TABLE).ids
    assert block in step_ban(_ids(*first, "\n\n"), plan, TABLE).ids
    assert block in step_ban(_ids(*first, "\n\n", "[", "상품", "]"), plan, TABLE).ids
    assert block not in step_ban(_ids(*first, "\n\n", "[", "상품", "]", "\n"), plan, TABLE).ids


def test_a_header_written_is_followed_by_its_table():
    """A draft that skips an optional paragraph and writes the table's header goes on with the
    table ("[상품]\n⟦notice_block⟧"), not a blank line and a second heading without it."""
    plan = _constraint(paragraphs=PLAN, headers=("[상품]",))
    first = ("⟦name⟧", "⟦origin⟧", ".", "\n\n")  # storage (optional here) skipped
    assert step_ban(_ids(*first, "[", "상품", "]"), plan, TABLE).only == [NL]
    assert step_ban(_ids(*first, "[", "상품", "]", "\n"), plan, TABLE).only == _ids(
        "⟦notice_block⟧")
    table = _ids(*first, "[", "상품", "]", "\n", "⟦notice_block⟧")
    assert step_ban(table, plan, TABLE).only is None  # once written, the plan goes on


def test_brackets_only_make_headings():
    """"[" only where a line begins, "]" only on a line a "[" opened ("인증: [상품 정보]." was a
    small model's sentence)."""
    plan = _constraint(paragraphs=PLAN)
    assert PIECES.index("[") in step_ban(_ids("⟦name⟧", "▁인증", ":", "▁"), plan, TABLE).ids
    assert PIECES.index("]") in step_ban(_ids("⟦name⟧", "▁인증", ":", "▁"), plan, TABLE).ids
    heading = step_ban(_ids("⟦name⟧", ".", "\n\n", "[", "상품"), plan, TABLE).ids
    assert PIECES.index("]") not in heading and PIECES.index("[") in heading


def test_the_closing_paragraph_follows_the_one_before_it_and_nothing_follows_it():
    """With the shipping paragraph written, a new line opens the statement's paragraph (its
    slot, or the blank line before it), not the table's header again; once every paragraph is
    written, no line break is left."""
    plan = _constraint(paragraphs=PLAN, closing="⟦statement⟧")
    body = ("⟦name⟧", "⟦origin⟧", ".", "\n\n", "⟦storage⟧", ".", "\n\n", "⟦notice_block⟧",
            "\n\n", "⟦policy.cs⟧", ".")
    assert set(step_ban(_ids(*body, "\n"), plan, TABLE).only) == set(_ids("⟦statement⟧", "\n"))
    assert step_ban(_ids(*body, "\n", "\n"), plan, TABLE).only == _ids("⟦statement⟧")
    assert step_ban(_ids(*body), plan, TABLE).only is None  # mid-paragraph: the model writes
    done = step_ban(_ids(*body, "\n\n", "⟦statement⟧"), plan, TABLE)
    assert {NL, BLANK} <= set(done.ids) and EOS not in done.ids


def test_no_word_twice_in_a_row():
    """"판매 판매 판매 …" and "인증: 인증: …" were a small model's loops; a space, ":" or ","
    between does not make the second one new, and either spelling of the word is banned."""
    plain = _constraint()
    assert PIECES.index("▁판매") in step_ban(_ids("가", "▁판매"), plain, TABLE).ids
    twice = step_ban(_ids("▁인증", ":", "▁"), plain, TABLE).ids
    assert {PIECES.index("▁인증"), PIECES.index("인증")} <= set(twice)
    assert PIECES.index("▁인증") not in step_ban(_ids("▁인증", "가"), plain, TABLE).ids
    past_vocabulary = len(PIECES) + 5  # a model whose vocabulary is padded past the tokenizer's
    after = step_ban([*_ids("▁판매"), past_vocabulary], plain, TABLE)  # no IndexError
    assert PIECES.index("▁판매") not in after.ids  # the last token is not that word


def test_describe_plans_each_style_from_the_renderers_copy():
    """The plan a description request carries: detail its paragraphs, the required facts in
    them (건강기능식품: the use-by date) and the statement's paragraph; bullets and seo their line limit and
    closing line; the styles other than detail no policy slots and no brackets."""
    from smallretail_llm.baseline.slots import slot_values

    policy = shop_policy()
    health = tofu(category="health_food", notice={"not_medicine_notice": HEALTH_FOOD_STATEMENT})
    values = slot_values(health, policy)
    detail = draft_requests.describe_plan(health, "detail", "polite", policy, values)
    assert detail["closing"] == "⟦notice.not_medicine_notice⟧"
    assert "use_by" in detail["required"] <= set().union(*detail["paragraphs"])
    bullets = draft_requests.describe_plan(health, "bullets", "polite", policy, values)
    assert (bullets["line_limit"], bullets["closing"]) == (6, "• " + HEALTH_FOOD_STATEMENT)
    seo = draft_requests.describe_plan(health, "seo", "polite", policy, values)
    assert (seo["line_limit"], seo["closing"]) == (3, HEALTH_FOOD_STATEMENT)
    plain_seo = draft_requests.describe_plan(tofu(), "seo", "polite", policy, values)
    assert (plain_seo["line_limit"], plain_seo["closing"]) == (2, "")
    assert draft_requests.describe_plan(tofu(), "intro", "polite", policy, values)["line_limit"] == 1
    # bullets: no more lines than the record has facts for (the renderer's copy)
    from smallretail_llm.core.record import ProductRecord

    chair = ProductRecord(shop_id="s1", sku="CH-1", name="경량 캠핑의자", category="sports",
                          price_krw=39900, origin="중국", manufacturer="(주)솔숲레저")
    few = draft_requests.describe_plan(chair, "bullets", "polite", policy, slot_values(chair, policy))
    assert few["line_limit"] == 4
    assert draft_requests.describe_plan(tofu(), "detail", "polite", policy, values)["closing"] == ""

    engine = FakeEngine(["⟦name⟧"])
    asyncio.run(assistant.describe(engine, tofu(), "bullets", "polite", policy,
                                   max_regenerations=0))
    constraint = engine.calls[0].constraint
    assert constraint.slots and not any(s.startswith("policy.") for s in constraint.slots)
    assert "30,000" not in constraint.numbers and {"[", "]"} <= set(constraint.banned_words)
    engine = FakeEngine(["⟦name⟧"])
    asyncio.run(assistant.describe(engine, tofu(), "detail", "polite", policy,
                                   max_regenerations=0))
    assert "policy.cs" in engine.calls[0].constraint.slots
    assert "policy.return_policy" not in engine.calls[0].constraint.slots  # not in its prompt
    # the words the copy check fails a description for: answers' privacy note and hand-off
    # words in any style, return and courier terms in detail, all shop policy in the others
    detail_words = set(engine.calls[0].constraint.banned_words)
    assert {"개인정보", "담당자", "교환", "택배"} <= detail_words and "배송비" not in detail_words
    assert {"개인정보", "배송비", "고객센터", "교환"} <= set(constraint.banned_words)  # bullets


def test_a_draft_writes_only_the_slots_its_prompt_shows():
    """A seo prompt shows no price: a seo draft had written "키워드: 1g x 60개 /
    ⟦price_krw⟧이에요". Each request's constraint holds the slots whose values its prompt shows,
    the 건강기능식품 statement included where the prompt carries it."""
    from smallretail_llm.baseline.slots import slot_values
    from smallretail_llm.data.prompts import render_describe

    policy = shop_policy()
    record = tofu(keywords=["두부", "국산콩"])
    values = slot_values(record, policy)

    def shown(style: str, rec=record) -> set[str]:
        return set(draft_requests.shown_values(slot_values(rec, policy),
                                          render_describe(rec, style, "polite", policy)))

    assert "price_krw" not in shown("seo") and {"keywords", "name"} <= shown("seo")
    assert "origin" not in shown("intro") and "price_krw" in shown("intro")
    assert {"policy.shipping_fee", "policy.cs", "notice_block", "storage"} <= shown("detail")
    assert not {"policy.shipping_days", "policy.return_policy"} & shown("detail")
    assert not any(n.startswith("policy.") for n in shown("bullets"))
    health = tofu(category="health_food", notice={"not_medicine_notice": HEALTH_FOOD_STATEMENT})
    assert "notice.not_medicine_notice" in shown("intro", health)
    assert set(values) >= shown("detail")
    engine = FakeEngine(["⟦name⟧"])
    asyncio.run(assistant.describe(engine, record, "seo", "polite", policy, max_regenerations=0))
    constraint = engine.calls[0].constraint
    assert "price_krw" not in constraint.slots and "3,500" not in constraint.numbers


def test_a_header_opening_any_line_is_followed_by_its_table():
    """A header written after a single line break (not at a paragraph's start) goes on with the
    table too: "…까지.\n[상품]\n\n[상품]\n⟦notice_block⟧" wrote the header twice."""
    plan = _constraint(paragraphs=PLAN, headers=("[상품]",))
    first = ("⟦name⟧", ".", "▁", "⟦origin⟧", ".", "\n")
    assert step_ban(_ids(*first, "[", "상품", "]"), plan, TABLE).only == [NL]
    assert step_ban(_ids(*first, "[", "상품", "]", "\n"), plan, TABLE).only == _ids(
        "⟦notice_block⟧")

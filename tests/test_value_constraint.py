"""Record-constrained decoding: numbers only from the record, on a single-digit vocabulary and
on a byte-level BPE that merges digits; slot tokens only for fields the record has; and a real
`generate` under the processor never writes a number the record lacks."""

import random
import re

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from smallretail_llm.serving.decoding.number_runs import numbers_in
from smallretail_llm.serving.decoding.value_constraint import (
    TokenTable,
    ValueConstraint,
    banned,
    step_ban,
)

ALLOWED = ValueConstraint(numbers_in(["24,900원", "배송비 3,000원 (30,000원 이상 무료배송)",
                                      "2027-01-19", "4kg"]), frozenset({"price_krw", "name"}))


def _allowed(prefix: str, piece: str, table: TokenTable, raw: list[str] | None = None) -> bool:
    ban = banned(prefix, ALLOWED, table)
    token = (raw or table.pieces).index(piece)
    if token in ban.ids:
        return False
    return not (ban.only_numeric and token not in table.numeric_start_ids)


def test_numbers_in_reads_runs():
    assert numbers_in(["24,900원 (30,000원 이상)", "2027-01-19", "1.5L."]) == \
        {"24,900", "30,000", "2027", "01", "19", "1.5"}


# ---------------------------------------------------------------- single-digit vocabulary
RAW = [*"0123456789", ",", ".", "원", "▁", "가", "⟦price_krw⟧", "⟦origin⟧", "<0x35>", "<|im_end|>", "\n"]
DIGITS = TokenTable(RAW, special_ids=[RAW.index("<|im_end|>")])


@pytest.mark.parametrize("prefix, piece, ok", [
    ("가격은 ", "2", True), ("가격은 ", "5", False), ("가격은 2", "4", True),
    ("가격은 24", ",", True), ("가격은 24,", "9", True), ("가격은 24,9", "1", False),
    ("가격은 24,900", "원", True), ("가격은 24,900", "0", False),  # "24,9000" is no value
    ("가격은 24,90", "원", False),  # "24,90": unfinished, must go on
    ("가격은 3,000", "0", False), ("가격은 30,000", "원", True),
    ("가격은 3,000", "원", True), ("가격은 3,00", "0", True),
    ("배송비는 3,000원", ".", True), ("가격은 24,900", ".", True),  # a period ends the sentence
    ("", "<0x35>", False),  # the byte for "5" is a digit too
    ("", "⟦origin⟧", False), ("", "⟦price_krw⟧", True),
])
def test_single_digit_steps(prefix, piece, ok):
    assert _allowed(prefix, piece, DIGITS, RAW) is ok


def test_an_unfinished_number_bans_the_end_marker():
    ban = banned("가격은 24,9", ALLOWED, DIGITS)
    assert ban.only_numeric and RAW.index("<|im_end|>") not in DIGITS.numeric_start_ids


# ---------------------------------------------------------------- digit-merging BPE
@pytest.fixture(scope="module")
def bpe():
    """A byte-level BPE trained on numbers, so digits merge ("24", "900", "000")."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [f"가격은 {n:,}원이에요" for n in range(1000, 90000, 137)] * 2
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>")
    table = TokenTable.for_tokenizer(fast)
    assert any(sum(c.isdigit() for c in p) >= 2 for p in table.pieces)  # digits do merge
    return fast, table


def test_merged_digit_tokens_are_checked_whole(bpe):
    _fast, table = bpe
    for piece in table.pieces:
        if piece.isdigit() and len(piece) >= 2:
            ok = _allowed("가격은 ", piece, table)
            assert ok == any(n.startswith(piece) for n in ALLOWED.numbers), piece


def test_generate_never_writes_a_number_the_record_lacks(bpe):
    """Random sampling under the constraint: every finished number is a record number."""
    fast, table = bpe
    rng = random.Random(0)
    for _ in range(40):
        text, ids = "", []
        for _step in range(12):
            ban = banned("".join(table.pieces[i] for i in ids), ALLOWED, table)
            banned_set = set(ban.ids)
            choices = [i for i in range(table.size) if i not in banned_set
                       and (not ban.only_numeric or i in table.numeric_start_ids)]
            digit_first = [i for i in choices if i in table.digit_ids]
            pick = rng.choice(digit_first if digit_first and rng.random() < 0.7 else choices)
            ids.append(pick)
            text = fast.decode(ids)
        finished = re.findall(r"[0-9][0-9,.]*[0-9]|[0-9]", text[: len(text) - 1])
        # the last run may be unfinished; all the others must be record numbers
        for number in finished[:-1]:
            assert number.rstrip(",.") in ALLOWED.numbers, (text, number)


def test_processor_masks_rows_independently():
    from smallretail_llm.serving.decoding.constrained_logits import mask_scores
    from smallretail_llm.serving.decoding.row_masks import RowMasks

    other = ValueConstraint(frozenset({"5"}))
    history = {0: [DIGITS.pieces.index("2")], 1: []}
    masks = RowMasks([ALLOWED, other], DIGITS, lambda row: history[row])
    scores = mask_scores(masks, torch.zeros(2, DIGITS.size))
    assert scores[0, DIGITS.pieces.index("4")] == 0  # "24" goes on
    assert scores[0, DIGITS.pieces.index("5")] == -float("inf")
    assert scores[0, DIGITS.pieces.index("가")] == -float("inf")  # "2" alone is no value
    assert scores[1, DIGITS.pieces.index("5")] == 0
    assert scores[1, DIGITS.pieces.index("2")] == -float("inf")


def test_a_slot_is_read_as_its_value_and_separators_never_repeat():
    with_values = ValueConstraint(ALLOWED.numbers, frozenset({"price_krw"}),
                                  {"price_krw": "24,900원"})
    slot_id = RAW.index("⟦price_krw⟧")
    assert slot_id not in banned("가격은 ", with_values, DIGITS).ids
    assert slot_id in banned("가격은 1", with_values, DIGITS).ids  # would read "124,900원"
    comma = RAW.index(",")
    assert comma in banned("가격은 24,", ALLOWED, DIGITS).ids  # "24,," is no number


def test_a_slot_already_written_is_not_written_again():
    with_values = ValueConstraint(ALLOWED.numbers, frozenset({"price_krw"}),
                                  {"price_krw": "24,900원"})
    slot_id = RAW.index("⟦price_krw⟧")
    assert slot_id not in step_ban([RAW.index("가")], with_values, DIGITS).ids
    again = step_ban([slot_id, RAW.index("가")], with_values, DIGITS)
    assert slot_id in again.ids


def test_no_more_than_one_blank_line():
    newline = RAW.index("\n")
    assert newline not in step_ban([RAW.index("가"), newline], ALLOWED, DIGITS).ids
    assert newline in step_ban([RAW.index("가"), newline, newline], ALLOWED, DIGITS).ids


# Word pieces for the label tests: a field name, a particle, and two slots.
LABELLED = [*RAW, "원산지", "는", "소비기한", "⟦use_by⟧"]
LABEL_TABLE = TokenTable(LABELLED, special_ids=[LABELLED.index("<|im_end|>")])
LABEL_VALUES = {"price_krw": "24,900원", "origin": "국내산", "use_by": "2027-01-19"}


def _ids(*pieces: str) -> list[int]:
    return [LABELLED.index(p) for p in pieces]


def test_a_slot_is_never_written_under_another_fields_name():
    labelled = ValueConstraint(numbers_in(LABEL_VALUES.values()), frozenset(LABEL_VALUES),
                               LABEL_VALUES, {"origin": "원산지", "use_by": "소비기한",
                                              "price_krw": "가격"})
    after_origin = step_ban(_ids("원산지", "는", "▁"), labelled, LABEL_TABLE).ids
    assert LABELLED.index("⟦use_by⟧") in after_origin  # "원산지는 ⟦use_by⟧" would mislabel
    assert LABELLED.index("⟦price_krw⟧") in after_origin
    assert LABELLED.index("⟦origin⟧") not in after_origin
    after_use_by = step_ban(_ids("소비기한", "는", "▁"), labelled, LABEL_TABLE).ids
    assert LABELLED.index("⟦use_by⟧") not in after_use_by
    assert LABELLED.index("⟦origin⟧") in after_use_by
    unnamed = step_ban(_ids("가", "▁"), labelled, LABEL_TABLE).ids  # no field named: any slot
    assert not {LABELLED.index(s) for s in ("⟦use_by⟧", "⟦origin⟧", "⟦price_krw⟧")} & set(unnamed)
    without_labels = ValueConstraint(labelled.numbers, labelled.slots, LABEL_VALUES)
    assert LABELLED.index("⟦use_by⟧") not in step_ban(_ids("원산지", "는", "▁"), without_labels,
                                                       LABEL_TABLE).ids


def test_a_field_already_stated_is_not_named_again():
    """After ⟦origin⟧ and the end of its sentence, "원산지" cannot start another sentence (with
    the slot banned it could only end as "원산지는 ."); right after the value, in the same
    sentence, its label may still follow it ("⟦origin⟧이 원산지예요")."""
    labelled = ValueConstraint(numbers_in(LABEL_VALUES.values()), frozenset(LABEL_VALUES),
                               LABEL_VALUES, {"origin": "원산지", "use_by": "소비기한"})
    origin_word = LABELLED.index("원산지")
    same_sentence = step_ban(_ids("⟦origin⟧", "가"), labelled, LABEL_TABLE).ids
    assert origin_word not in same_sentence
    next_sentence = step_ban(_ids("⟦origin⟧", "가", ".", "▁"), labelled, LABEL_TABLE).ids
    assert origin_word in next_sentence
    assert LABELLED.index("소비기한") not in next_sentence  # not stated yet
    unlabelled = ValueConstraint(labelled.numbers, labelled.slots, LABEL_VALUES)
    assert origin_word not in step_ban(_ids("⟦origin⟧", "가", ".", "▁"), unlabelled,
                                       LABEL_TABLE).ids


def test_a_fields_own_words_are_those_no_other_field_of_the_request_has():
    """"중량" names net content; a kitchen product's notice "용량 또는 중량" has it too, but a
    request without that field may ban it once ⟦net_content⟧ is stated ("중량은 …" with
    nothing to fill it was a small model's way on). Where another field of the request has
    the word, it is not the field's own."""
    from smallretail_llm.baseline.copy_check import own_label_words, squashed_labels

    alone = {"net_content": "중량", "price_krw": "가격"}
    assert "중량" in own_label_words("net_content", squashed_labels(alone))
    shared = {**alone, "notice.weight_or_volume": "용량 또는 중량"}
    assert "중량" not in own_label_words("net_content", squashed_labels(shared))
    shipping = {"policy.shipping_days": "배송", "policy.shipping_fee": "배송비"}
    assert own_label_words("policy.shipping_days", squashed_labels(shipping)) == ()


def test_no_sentence_without_words():
    period = RAW.index(".")
    assert period not in step_ban([RAW.index("가")], ALLOWED, DIGITS).ids
    assert period in step_ban([RAW.index("가"), period], ALLOWED, DIGITS).ids
    assert period in step_ban([RAW.index("가"), period, RAW.index("▁")], ALLOWED, DIGITS).ids
    decimal = step_ban([RAW.index("1"), period], ValueConstraint(frozenset({"1.5"})), DIGITS)
    assert RAW.index("5") not in decimal.ids  # "1." goes on as a number: "1.5"


# ---------------------------------------------------------------- paragraphs of the renderer's copy
PARA = [*RAW, "⟦manufacturer⟧", "⟦brand⟧", "⟦statement⟧", "\n\n", "가격"]
PARA_TABLE = TokenTable(PARA, special_ids=[PARA.index("<|im_end|>")],
                        eos_ids=[PARA.index("<|im_end|>")])
PARA_VALUES = {"price_krw": "24,900원", "origin": "국내산", "manufacturer": "맑은식품",
               "brand": "맑은식품", "statement": "본 제품은 의약품이 아닙니다."}


def _para(*pieces: str) -> list[int]:
    return [PARA.index(p) for p in pieces]


def test_a_begun_paragraph_does_not_end_before_its_facts():
    """The renderer's first paragraph states origin, maker and price: a draft's paragraph that
    has begun it may not break or end until all three are written; one sentence without a slot
    and it is let go (holding it longer only makes a small model ramble)."""
    allowed = ValueConstraint(numbers_in(PARA_VALUES.values()), frozenset(PARA_VALUES), PARA_VALUES,
                              paragraphs=(frozenset({"origin", "manufacturer", "price_krw"}),
                                          frozenset({"statement"})))
    breaks = {PARA.index("\n"), PARA.index("\n\n"), PARA.index("<|im_end|>")}
    half = step_ban(_para("⟦origin⟧", "가", ".", "▁", "⟦price_krw⟧", "."), allowed, PARA_TABLE)
    assert breaks <= set(half.ids)
    tried = step_ban(_para("⟦origin⟧", "가", ".", "▁", "⟦price_krw⟧", ".", "가", "."), allowed,
                     PARA_TABLE)
    assert PARA.index("\n\n") not in tried.ids  # a slot-less sentence: let go
    # the brand has the maker's value: written, it states the maker too
    whole = step_ban(_para("⟦origin⟧", ".", "⟦brand⟧", ".", "⟦price_krw⟧", "."), allowed,
                     PARA_TABLE)
    assert PARA.index("\n\n") not in whole.ids
    assert PARA.index("<|im_end|>") in whole.ids  # the closing statement is not written yet
    done = step_ban(_para("⟦origin⟧", ".", "⟦brand⟧", ".", "⟦price_krw⟧", ".", "\n\n",
                          "⟦statement⟧"), allowed, PARA_TABLE)
    assert PARA.index("<|im_end|>") not in done.ids
    # a paragraph that began nothing of the plan (a header line) ends freely
    assert PARA.index("\n") not in step_ban(_para("가격"), allowed, PARA_TABLE).ids


def _header_rows(*banned_words: str, extra: tuple[str, ...] = ()):
    """A vocabulary with the notice header's tokens, a detail plan whose table is next, and
    two rows: one in its first paragraph, one writing the header ("[상품")."""
    pieces = [*PARA, "[", "상품", "▁정보", "]", "⟦notice_block⟧", *extra]
    table = TokenTable(pieces, special_ids=[pieces.index("<|im_end|>")],
                       eos_ids=[pieces.index("<|im_end|>")])
    values = {**PARA_VALUES, "notice_block": "- 색상: 차콜"}
    allowed = ValueConstraint(numbers_in(values.values()), frozenset(values), values,
                              paragraphs=(frozenset({"origin", "price_krw"}),
                                          frozenset({"notice_block"})),
                              headers=("[상품 정보]",), banned_words=banned_words)
    history = {0: [pieces.index("⟦origin⟧")],
               1: [pieces.index(p) for p in ("⟦origin⟧", ".", "⟦price_krw⟧", ".", "\n\n", "[",
                                             "상품")]}
    return pieces, table, allowed, history


def test_when_the_notice_table_is_next_a_new_paragraph_is_its_header():
    """On goods it has not seen, a small model writes the food copy's storage paragraph where
    the plan has the notice table: once the first paragraph is begun and the table is next, a
    new paragraph can only be the header, its line break and ⟦notice_block⟧."""
    pieces, table, allowed, _ = _header_rows(extra=("받으신",))

    def only(*written: str):
        return step_ban([pieces.index(p) for p in written], allowed, table).only

    first = ("⟦origin⟧", ".", "⟦price_krw⟧", ".", "\n\n")
    assert only(*first) == [pieces.index("[")]
    assert set(only(*first, "[", "상품")) == {pieces.index("▁정보"), pieces.index("▁")}
    assert only(*first, "[", "상품", "▁정보", "]") == [pieces.index("\n")]
    assert only(*first, "[", "상품", "▁정보", "]", "\n") == [pieces.index("⟦notice_block⟧")]
    assert only(*first, "[", "상품", "▁정보", "]", "\n", "⟦notice_block⟧") is None
    assert only("⟦origin⟧", ".") is None  # within the first paragraph: the model writes
    from smallretail_llm.serving.decoding.constrained_logits import mask_scores
    from smallretail_llm.serving.decoding.row_masks import RowMasks

    ids = [pieces.index(p) for p in first]
    scores = mask_scores(RowMasks([allowed], table, lambda row: ids), torch.zeros(1, len(pieces)))
    assert torch.isfinite(scores[0]).nonzero().flatten().tolist() == [pieces.index("[")]


def test_banned_words_hold_at_every_step_but_never_block_the_header():
    """The processor writes a row's banned words once per step for the whole batch; a step
    that allows only the header's tokens is not narrowed by them ("[상품 정보]" holds "정보")."""
    from smallretail_llm.serving.decoding.constrained_logits import mask_scores
    from smallretail_llm.serving.decoding.row_masks import RowMasks

    pieces, table, allowed, history = _header_rows("정보")
    word = pieces.index("▁정보")
    scores = mask_scores(RowMasks([allowed, allowed], table, lambda row: history[row]),
                         torch.zeros(2, len(pieces)))
    assert scores[0, word] == -float("inf")  # an ordinary step: the word is banned
    assert word in step_ban(history[0], allowed, table).ids  # (as the llama.cpp engine asks)
    assert torch.isfinite(scores[1]).nonzero().flatten().tolist() == sorted(
        [word, pieces.index("▁")])  # the header goes on, "정보" and all


def test_requests_showing_the_same_labels_share_their_label_tables():
    """The label checks' tables depend on the labels and on which slots share a value, not on
    the values: a category's requests build them once."""
    labels = {"origin": "원산지", "use_by": "소비기한", "price_krw": "가격"}
    other_values = {**LABEL_VALUES, "origin": "칠레산", "price_krw": "9,900원"}
    one = ValueConstraint(numbers_in(LABEL_VALUES.values()), frozenset(LABEL_VALUES),
                          LABEL_VALUES, labels)
    same = ValueConstraint(numbers_in(other_values.values()), frozenset(other_values),
                           other_values, labels)
    assert one.cache.labels is same.cache.labels
    assert one.cache is not same.cache  # each request keeps its own draft and number runs
    shared_value = {**LABEL_VALUES, "origin": "2027-01-19"}  # origin and use-by now one value
    grouped = ValueConstraint(numbers_in(shared_value.values()), frozenset(shared_value),
                              shared_value, labels)
    assert grouped.cache.labels is not one.cache.labels
    relabelled = ValueConstraint(one.numbers, one.slots, LABEL_VALUES, {**labels, "origin": "산지"})
    assert relabelled.cache.labels is not one.cache.labels
    after_origin = step_ban(_ids("원산지", "는", "▁"), same, LABEL_TABLE).ids
    assert LABELLED.index("⟦use_by⟧") in after_origin  # shared tables give the same answers
    assert LABELLED.index("⟦origin⟧") not in after_origin


def test_processor_masks_scores_numpy_cannot_view_and_a_narrower_vocabulary():
    """bfloat16 scores (and GPU ones) are masked on a float copy and written back; a model
    whose logits are narrower than the tokenizer's vocabulary has the ids past it left out."""
    from smallretail_llm.serving.decoding.constrained_logits import mask_scores
    from smallretail_llm.serving.decoding.row_masks import RowMasks

    history = [DIGITS.pieces.index("2")]
    def masks() -> RowMasks:
        return RowMasks([ALLOWED], DIGITS, lambda row: history)

    full = mask_scores(masks(), torch.zeros(1, DIGITS.size))
    half = mask_scores(masks(), torch.zeros(1, DIGITS.size, dtype=torch.bfloat16))
    assert half.dtype == torch.bfloat16
    assert torch.equal(torch.isinf(half), torch.isinf(full))
    narrow = mask_scores(masks(), torch.zeros(1, DIGITS.size - 1))
    assert torch.equal(torch.isinf(narrow), torch.isinf(full[:, :-1]))


def test_processor_writes_through_strided_scores():
    """Scores that are a strided view (the last position of a batch's logits) are masked in
    place, as contiguous ones are."""
    from smallretail_llm.serving.decoding.constrained_logits import mask_scores
    from smallretail_llm.serving.decoding.row_masks import RowMasks

    history = {0: [DIGITS.pieces.index("2")], 1: []}
    logits = torch.zeros(2, 2, DIGITS.size)
    strided = logits[:, -1, :]
    assert not strided.is_contiguous()
    out = mask_scores(RowMasks([ALLOWED, ValueConstraint(frozenset({"5"}))], DIGITS,
                               lambda row: history[row]), strided)
    assert out.data_ptr() == strided.data_ptr()
    assert logits[0, -1, DIGITS.pieces.index("5")] == -float("inf")
    assert logits[0, -1, DIGITS.pieces.index("4")] == 0
    assert logits[1, -1, DIGITS.pieces.index("5")] == 0
    assert logits[1, -1, DIGITS.pieces.index("2")] == -float("inf")
    assert not torch.isinf(logits[:, 0, :]).any()  # the other position is untouched


def test_greedy_rows_whose_choice_stands_are_left_unmasked_with_the_same_choice():
    """Greedy decoding takes the best token; where the constraint allows it, masking would
    not change it, so the processor leaves the row alone. Its choice is always the fully
    masked row's, over many random scores, rows with and without a header to write, and
    banned words."""
    from smallretail_llm.serving.decoding.constrained_logits import mask_scores
    from smallretail_llm.serving.decoding.row_masks import RowMasks

    pieces, table, allowed, history = _header_rows("정보", "가격")
    history = {**history, 2: [pieces.index("2")], 3: []}
    rng = torch.Generator().manual_seed(0)
    left_alone = 0
    for _ in range(300):
        scores = torch.randn(4, len(pieces), generator=rng)
        masked = mask_scores(RowMasks([allowed] * 4, table, lambda row: history[row]),
                             scores.clone())
        greedy = mask_scores(RowMasks([allowed] * 4, table, lambda row: history[row],
                                      greedy=True), scores.clone())
        assert torch.equal(greedy.argmax(-1), masked.argmax(-1))
        left_alone += int((greedy != masked).any(-1).sum())  # row bans not written
    assert 0 < left_alone < 1200, left_alone  # both paths were taken


def test_greedy_rows_check_the_label_rule_when_their_choice_is_a_slot():
    """Greedy rows ask the label check (`misfit_ban`) only when their choice is a slot; the
    choice is still always the fully masked row's."""
    from smallretail_llm.serving.decoding.constrained_logits import mask_scores
    from smallretail_llm.serving.decoding.row_masks import RowMasks

    labelled = ValueConstraint(numbers_in(LABEL_VALUES.values()), frozenset(LABEL_VALUES),
                               LABEL_VALUES, {"origin": "원산지", "use_by": "소비기한",
                                              "price_krw": "가격"})
    history = {0: _ids("원산지", "는", "▁"), 1: _ids("소비기한", "는", "▁"),
               2: _ids("⟦origin⟧", "가", ".", "▁"), 3: _ids("가", "▁")}
    slots = [LABELLED.index(s) for s in ("⟦use_by⟧", "⟦origin⟧", "⟦price_krw⟧")]
    rng = torch.Generator().manual_seed(1)
    for _ in range(300):
        scores = torch.randn(4, len(LABELLED), generator=rng)
        scores[:, slots] += 2.0  # the slots are often the best token
        masked = mask_scores(RowMasks([labelled] * 4, LABEL_TABLE, lambda row: history[row]),
                             scores.clone())
        greedy = mask_scores(RowMasks([labelled] * 4, LABEL_TABLE, lambda row: history[row],
                                      greedy=True), scores.clone())
        assert torch.equal(greedy.argmax(-1), masked.argmax(-1))
    mislabel = torch.zeros(1, len(LABELLED))
    mislabel[0, LABELLED.index("⟦use_by⟧")] = 5.0  # "원산지는 ⟦use_by⟧" is the best token
    out = mask_scores(RowMasks([labelled], LABEL_TABLE, lambda row: history[0], greedy=True),
                      mislabel)
    assert out.argmax().item() != LABELLED.index("⟦use_by⟧")

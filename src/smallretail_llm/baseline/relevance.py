"""Relevance: does an answer answer the question asked? It sits next to grounding (is every
fact true?) and is applied to model drafts and rule answers alike.

An answer names the fields it states (its evidence); they must be the fields the question asks
about. A grounded answer about another field ("중량은 3kg입니다" to "몇 개 들어있어요?") is a
failed draft, and when no field answers the question the only right answer is a hand-off.

Decisions:
- The asked fields come from the rule reading of the question (`rule_answer.answer_question`'s
  evidence: the fields it could answer), so model and rules are judged by one reading.
- A draft may hand off only when the record cannot answer (nothing asked is known).
- A draft must state the value of the first asked field (the rules list the main one first:
  "연락처" -> the phone, not only the hours) and no field that was not asked (the product name
  may always be said), whether a slot wrote it or the model did; for a field whose answer
  states no value (stock) it must say no value at all, but the words that answer it
  ("재고", "품절"), even next to the answer to another question.
- Several questions in one message: the draft must state a value for every asked field that
  has one (a draft answering the first question alone would drop the rest).
- A question for an amount of one kind (count, weight, volume, length) is not answered by an
  amount of another: "몇 개" is not answered with "3kg".
"""

from __future__ import annotations

import re

from smallretail_llm.baseline.question import (
    KIND_OF_UNIT,
    amount_kind,
    quantities,
    question_word_count,
    split_parts,
)
from smallretail_llm.baseline.slots import delexicalize, field_of, slot_names_in
from smallretail_llm.grounding.check import is_handoff

VALUELESS_ANSWERS = {"stock": re.compile(r"재고|품절|(?:주문|구매)\s?(?:가능|하실 수)")}
"""Fields whose answers state no value ("재고가 있어요"), with the words that answer them: a
slot-free draft may answer them, but it must say those words."""


def off_kind(text: str, question: str) -> bool:
    """True when the question asks for an amount of one kind and the text states amounts,
    none of that kind ("몇 개 들어있어요?" -> "중량은 3kg입니다")."""
    kind = amount_kind(question, explicit=True)
    kinds = {KIND_OF_UNIT.get(unit) for _, unit in quantities(text)}
    return bool(kind and kinds and kind not in kinds)


def answers_what_was_asked(text: str, asked: tuple[str, ...] | list[str],
                           values: dict[str, str], question: str = "",
                           several: bool = False) -> bool:
    """Whether a grounded `text` answers the question (`asked`: the fields the rules find it
    asks about and the record holds; `values`: the record's slot values; `question`: for the
    amount kind and the questions of one message, each of which must be answered; `several`:
    the question names several fields in one breath, "모델명이랑 무게"). See the module doc."""
    if is_handoff(text):
        return not asked
    if not asked or (question and off_kind(text, question)):
        return False
    fields = {field_of(n) for n in slot_names_in([delexicalize(text, values)])} - {"name"}
    if not all(words.search(text) for a, words in VALUELESS_ANSWERS.items() if a in asked):
        return False  # "재고 있어요?" left unanswered next to another answer
    if several or (question and (len(split_parts(question)) > 1
                                or question_word_count(question) > 1)):
        # several questions, in several sentences or one ("언제까지고 어느 지역"): every one
        # answered
        wanted = {a for a in asked if a in values and a not in VALUELESS_ANSWERS}
        return bool(wanted) and wanted <= fields and fields <= set(asked)
    primary = next((a for a in asked if a not in VALUELESS_ANSWERS), None)
    if primary is None:  # nothing asked has a value to state ("재고가 있어요")
        return not fields
    if primary not in values:  # stated under a field no slot names (a notice field the record
        return False           # covers, "notice.manufacturer"): not checkable, the rules say it
    if not fields and len(re.findall(r"[가-힣]{2,}", values[primary])) >= 2:
        # free text said in other words; the product's name shares words with its ingredients
        # ("문의하신 바다에서온 rTG 오메가3 …이에요" said no ingredient)
        return shares_words(text.replace(values.get("name") or "\0", " "), values[primary])
    return primary in fields and fields <= set(asked)


def shares_words(text: str, value: str) -> bool:
    """A paraphrase of a free-text value ("개봉 후에는 냉장 보관해 주세요" for "개봉 후 냉장
    보관") keeps at least two of its Korean words of two or more syllables. One is not enough:
    it is often the field's own name ("용량 정보 있음." shares only "용량" with "지름 24cm x
    높이 12cm, 용량 5.0L"), and a unit such as "cm" is no paraphrase (the name says it too)."""
    words = set(re.findall(r"[가-힣]{2,}", value))
    return sum(w in text for w in words) >= 2

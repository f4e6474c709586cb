"""What a draft request carries besides its prompt: the record-constrained decoding controls
(`ValueConstraint`: the numbers and slots the prompt shows, the draft's plan from the renderer's
copy, words it may not write) and the fail-fast check. Built off the event loop, once per
request; serving and the constrained-decoding bench build them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smallretail_llm.baseline.copy_check import (
    BULLET_LINES,
    SEO_KEYWORD_LINE,
    field_labels,
    policy_words,
    unshown_field_words,
)
from smallretail_llm.baseline.prompt_facts import HEALTH_FOOD_STATEMENT
from smallretail_llm.baseline.question_facts import asked_slots
from smallretail_llm.baseline.renderer import notice_headers, render_description
from smallretail_llm.baseline.slots import (
    SLOT_RE,
    delexicalize,
    field_of,
    fill,
    slot_names_in,
    slot_values,
)
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.data.prompts import render_describe
from smallretail_llm.grounding.check import unsupported_in
from smallretail_llm.grounding.facts import category_fields
from smallretail_llm.serving.decoding.number_runs import numbers_in
from smallretail_llm.serving.decoding.value_constraint import ValueConstraint
from smallretail_llm.serving.offload import Offload

if TYPE_CHECKING:
    from smallretail_llm.baseline.qa import QAExample


@dataclass(frozen=True)
class GenerationOptions:
    """How the engine is asked. The first draft is greedy; re-drafts sample at
    ``retry_temperature`` (a greedy retry would repeat the same draft), seeded from ``seed``
    when one is given so eval runs are reproducible."""

    adapter: str | None = None
    max_new_tokens: int = 512
    timeout_s: float | None = None
    retry_temperature: float = 0.7
    retry_top_p: float = 0.95
    seed: int | None = None
    foreign_names: tuple[str, ...] = ()  # other shops' names grounding flags (store.foreign_names)
    constrain: bool = True
    """Record-constrained decoding (local engines): numbers and slots only from the record."""
    fail_fast: bool = True
    """Stop a draft at the first sentence that states an unsupported claim."""
    offload: Offload | None = field(default=None, compare=False, repr=False)
    """Where the grounding and copy checks run: the API's thread pool, off the event loop
    (``offload.py``); None runs them inline (eval, bench)."""


def draft_controls(options: GenerationOptions, values: dict[str, str], record: ProductRecord,
                   policy: ShopPolicy | None, extra_numbers: tuple[str, ...] = (),
                   **plan) -> dict:
    """The constraint and fail-fast check a draft request carries (see GenerationOptions);
    `plan`: the draft's plan (`describe_plan`) or banned words, as ValueConstraint fields.
    Public so the constrained-decoding bench builds requests exactly as serving does."""
    extras: dict = {}
    if options.constrain:
        extras["constraint"] = ValueConstraint(
            numbers_in([*values.values(), *extra_numbers]), frozenset(values), values,
            field_labels(record, policy), **plan)
    if options.fail_fast:
        extras["check"] = DraftCheck(values, record, policy, options.foreign_names)
    return extras


@dataclass(frozen=True)
class DraftCheck:
    """The fail-fast check of a draft so far: a reason when it already states something the
    record does not (its first unsupported claim, or a slot the record lacks), else None.
    A plain object, not a closure, so a request can be sent to an engine in another process."""

    values: dict[str, str]
    record: ProductRecord
    policy: ShopPolicy | None
    foreign_names: tuple[str, ...]

    def __call__(self, raw: str) -> str | None:
        filled = fill(raw, self.values)
        if filled.unknown:
            return f"기록에 없는 항목: {filled.unknown[0]}"
        found = unsupported_in(filled.text, self.record, self.policy, self.foreign_names)
        return found[0].reason if found else None


def shown_values(values: dict[str, str], messages: list[dict[str, str]]) -> dict[str, str]:
    """The slot values the prompt shows (each line of one: the notice list is the prompt's
    "label: value" lines as a "- " list): the constraint lets a draft write no other slot. A
    seo prompt shows no price, and a seo draft had written "키워드: 1g x 60개 /
    ⟦price_krw⟧이에요" where the keywords go."""
    prompt = "\n".join(m["content"] for m in messages)
    return {name: value for name, value in values.items()
            if all(line.removeprefix("- ") in prompt for line in value.splitlines())}


def describe_request(options: GenerationOptions, record: ProductRecord, style: str, tone: str,
                     policy: ShopPolicy | None
                     ) -> tuple[list[dict[str, str]], dict[str, str], dict[str, str], dict]:
    """A description draft's prompt, slot values, field labels and decoding controls (the plan
    renders the copy: CPU work, run off the event loop). The constraint holds only what the
    prompt shows: its slots, and no word naming another field. Public so the constrained-
    decoding bench builds requests exactly as serving does."""
    values = slot_values(record, policy)
    messages = render_describe(record, style, tone, policy)
    shown = shown_values(values, messages)
    labels = field_labels(record, policy)
    plan = describe_plan(record, style, tone, policy, shown)
    plan["banned_words"] = (*plan.get("banned_words", ()), *ANSWER_WORDS, *policy_words(style),
                            *sorted(unshown_field_words({field_of(name) for name in shown}, labels)))
    return messages, values, labels, draft_controls(options, shown, record, policy, **plan)


def describe_plan(record: ProductRecord, style: str, tone: str, policy: ShopPolicy | None,
                  values: dict[str, str]) -> dict:
    """A description draft's plan (`draft_plan.py`) from the renderer's copy of the same record:
    detail, the slots of each paragraph and the notice table's headers; the other styles, their
    line limit (bullets: the copy's line count, at most six) and the closing line the category
    requires (the 건강기능식품 statement), and no brackets (they have no headings: "인증: [상품
    정보" is the prompt leaking in)."""
    copy = render_description(record, style, tone, policy)
    if style == "detail":
        text = delexicalize(copy, values)
        last = text.rsplit("\n\n", 1)[-1]
        closing = last if HEALTH_FOOD_STATEMENT in copy and SLOT_RE.fullmatch(last) else ""
        paragraphs = tuple(g for p in text.split("\n\n") if (g := frozenset(slot_names_in([p]))))
        required = {spec.record_attr for spec in category_fields(record) if spec.required}
        return {"paragraphs": paragraphs, "headers": notice_headers(), "closing": closing,
                "required": frozenset(required & set().union(*paragraphs))}
    lines = copy.splitlines()
    closing = lines[-1] if style != "intro" and HEALTH_FOOD_STATEMENT in lines[-1] else ""
    # bullets: as many lines as the record has facts for (the renderer's), so a draft for a
    # record with four runs out of lines, not facts ("• ", "• 예요" after the fourth)
    limit = {"intro": 1, "bullets": min(len(lines), BULLET_LINES[1]),
             "seo": 2 + bool(closing)}.get(style, 0)
    starts = ("", SEO_KEYWORD_LINE) if style == "seo" else ()
    return {"line_limit": limit, "line_starts": starts, "closing": closing,
            "banned_words": ("[", "]")}


def answer_values(record: ProductRecord, policy: ShopPolicy, redacted: str
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """An answer draft's slot values: the question-fact slots by prompt line ("ask.1",
    `question_facts.asked_slots`), then the record's and policy's field slots; and the field
    each "ask.N" slot stands for. Public so the constrained-decoding bench builds requests
    exactly as serving does."""
    asked, fields = asked_slots(redacted.strip(), record, policy)
    return asked | slot_values(record, policy), fields


def answer_controls(options: GenerationOptions, values: dict[str, str], record: ProductRecord,
                    policy: ShopPolicy, redacted: str, rule: QAExample) -> dict:
    """An answer draft's decoding controls: numbers also from the (redacted) question, and for
    a question the record answers (the rules' reading) no words that open a hand-off. Public
    so the constrained-decoding bench builds requests exactly as serving does."""
    known = not rule.needs_human and any(e in values for e in rule.evidence)
    return draft_controls(options, values, record, policy, (redacted,),
                          banned_words=HANDOFF_WORDS if known else ())


HANDOFF_WORDS = ("정보에", "정보만으로", "정보로는", "담당자", "없음")
"""The words that open a hand-off ("… 상품 정보에 나와 있지 않아요", "담당자가 확인 후 …"): a
draft for a question the record answers may not write them."""

ANSWER_WORDS = ("개인정보", *(w for w in HANDOFF_WORDS if w != "없음"))
"""Words of the answers' privacy note and hand-offs, never in product copy ("없음" is, in "해당
없음"): a description may not write them (a detail draft wrote "개인정보 보호를 위해 연락처나
주소는 문의:" into a paragraph, and "담당자가 확인 후 …")."""

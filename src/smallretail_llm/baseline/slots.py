"""Value slots: the model writes the words, the record writes the values.

A small model learns the shape of product copy quickly but copies exact values from its prompt
badly ("가격은 2,0000원이에요" for 24,900원). Data-to-text systems solve this by delexicalising
targets (TGen on E2E): every value in a training target is replaced by a slot naming its field
("가격은 ⟦price_krw⟧이에요."), the model learns to choose words, order and which facts to state,
and at serving time the record fills each slot back in. Every filled value is then the record's
own text, by construction.

Slot values come from the same "label: value" lines the prompt shows (`prompts.fact_lines`,
`prompts.policy_facts`), so a slot can only stand for a fact the prompt carried. Particles after a
filled slot follow the filled value's final sound (korean.particle): the training target's
particle belonged to another product's value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from smallretail_llm.baseline.prompt_facts import (
    ANSWER_FIELDS,
    STYLE_FIELDS,
    cs_text,
    fact_lines,
    shipping_fee_text,
)
from smallretail_llm.baseline.renderer import notice_block
from smallretail_llm.core.categories import CATEGORIES
from smallretail_llm.core.korean import format_krw, particle
from smallretail_llm.core.record import ProductRecord, ShopPolicy

OPEN, CLOSE = "⟦", "⟧"
SLOT_RE = re.compile(rf"{OPEN}([a-z_][a-z0-9_.]*){CLOSE}")

POLICY_SLOTS: tuple[str, ...] = (
    "policy.shop_name", "policy.shipping_fee", "policy.shipping_fee_krw",
    "policy.free_shipping_threshold_krw", "policy.shipping_days", "policy.courier",
    "policy.return_policy", "policy.return_shipping_fee_krw", "policy.cs", "policy.cs_phone",
    "policy.cs_hours",
)
RECORD_SLOTS: tuple[str, ...] = (
    "name", "brand", "manufacturer", "origin", "net_content", "price_krw", "stock", "category",
    "keywords", "storage", "use_by", "allergens", "cross_contact", "certifications",
)
"""Record attributes that become slots; notice fields add `notice.<key>` slots."""

# Particle pairs fitted after a filled slot: (form after a consonant, form after a vowel).
# Strict pairs are wrong in the other form ("30개이에요", "사과을"); a single-syllable particle
# counts only when no other syllable follows it ("⟦name⟧이 들어", not "⟦name⟧이고").
_STRICT: tuple[tuple[str, str], ...] = (
    ("이에요", "예요"), ("으로", "로"), ("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"),
)
# Copula forms: after a vowel both are right ("사과이며", "사과며"); after a consonant only the
# 이-form is ("수박이며"), so only the vowel form after a consonant is fixed.
_COPULA: tuple[tuple[str, str], ...] = (
    ("이며", "며"), ("이고", "고"), ("이라", "라"), ("이나", "나"), ("이었", "였"), ("이랑", "랑"),
)
_PAIR_OF = {form: (pair, True) for pair in _STRICT for form in pair}
_PAIR_OF.update({pair[1]: (pair, False) for pair in _COPULA})
_PARTICLE_RE = re.compile(
    "(?:" + "|".join(sorted(_PAIR_OF, key=len, reverse=True)) + ")"
    + r"(?=[^가-힣]|$|(?<=로)[도서부만])")


LINE = ".line"
"""A notice field's line slot ("⟦notice.food_type.line⟧" -> "식품의 유형: 두부"): the record gives
the legal label as well as the value, so the detail copy's 상품정보제공고시 list is picked field
by field and can never pair a label with another field's value."""


BLOCK = "notice_block"
"""The whole 상품정보제공고시 list of the detail copy as one slot (renderer.notice_block): its
lines are the record's labels and values in a fixed order, so nothing in them is the model's to
choose, and a small model writing eight line slots in a row drops or repeats some."""


ASK = "ask"
ASK_LINES = 6
"""Answer slots by "[질문 관련 정보]" line (question_facts.asked_slots): "⟦ask.1⟧" is the first
line's value, "⟦ask.1.label⟧" its label. The question facts rarely run past a few lines; a
line past the sixth keeps its field slots only."""


ASK_LABEL = ".label"


def ask_slot(line: int, label: bool = False) -> str:
    """The slot name of a question-fact line's value (or label): ask_slot(2) -> "ask.2"."""
    return f"{ASK}.{line}" + (ASK_LABEL if label else "")


def is_ask_slot(name: str) -> bool:
    return name.startswith(ASK + ".")


def is_label_slot(name: str) -> bool:
    """A slot that writes a field's name, not its value: no label check applies to it."""
    return is_ask_slot(name) and name.endswith(ASK_LABEL)


def field_of(name: str) -> str:
    """The field a slot states: "notice.food_type.line" -> "notice.food_type"."""
    return name.removesuffix(LINE)


def slot(name: str) -> str:
    """The slot token for a field: slot("price_krw") -> "⟦price_krw⟧"."""
    return f"{OPEN}{name}{CLOSE}"


@functools.cache
def all_slot_names() -> tuple[str, ...]:
    """Every slot any record or policy can have: record attributes, each category's notice
    fields, the policy. The nano tokenizer makes each of these one piece."""
    notice = sorted({f"notice.{f.key}" for spec in CATEGORIES.values() for f in spec.fields})
    asked = [ask_slot(i, label) for i in range(1, ASK_LINES + 1) for label in (False, True)]
    return (*RECORD_SLOTS, *notice, *(n + LINE for n in notice), BLOCK, *POLICY_SLOTS, *asked)


def slot_values(record: ProductRecord, policy: ShopPolicy | None) -> dict[str, str]:
    """Slot name -> the exact text the prompt shows for it (only fields that have a value).
    Ordered from the longest value to the shortest: delexicalising replaces longer values first,
    so "국산 찰현미 4kg" becomes the name slot rather than losing its "4kg" to net_content."""
    values: dict[str, str] = {}
    fields = tuple(dict.fromkeys((*ANSWER_FIELDS, *STYLE_FIELDS["seo"])))
    for field, label, value in fact_lines(record, fields):
        if value:
            values[field] = value
            if field.startswith("notice."):
                values[field + LINE] = f"{label}: {value}"
    if block := notice_block(record):
        values[BLOCK] = block
    if policy is not None:
        found = {
            "policy.shop_name": policy.shop_name,
            "policy.shipping_fee": shipping_fee_text(policy),
            "policy.shipping_fee_krw": (format_krw(policy.shipping_fee_krw)
                                        if policy.shipping_fee_krw else ""),
            "policy.free_shipping_threshold_krw": (
                format_krw(policy.free_shipping_threshold_krw)
                if policy.free_shipping_threshold_krw is not None else ""),
            "policy.shipping_days": policy.shipping_days,
            "policy.courier": policy.courier or "",
            "policy.return_policy": policy.return_policy,
            "policy.return_shipping_fee_krw": (
                format_krw(policy.return_shipping_fee_krw)
                if policy.return_shipping_fee_krw is not None else ""),
            "policy.cs": cs_text(policy),
            "policy.cs_phone": policy.cs_phone,
            "policy.cs_hours": policy.cs_hours,
        }
        values.update({k: v.strip() for k, v in found.items() if v and v.strip()})
    return dict(sorted(values.items(), key=lambda kv: -len(kv[1])))


@functools.lru_cache(maxsize=8192)
def _value_pattern(value: str) -> re.Pattern[str]:
    """A value as it occurs in text: not glued to a longer number or word on its left, and a
    number not continued by another digit on its right ("4kg" is not inside "14kg"). Cached:
    re's own cache (512 patterns) thrashes over a catalog's values, one compile per request."""
    head = r"(?<![0-9A-Za-z가-힣.,])" if value[0].isalnum() else ""
    tail = r"(?![0-9])" if value[-1].isdigit() else (r"(?![A-Za-z])" if value[-1].isascii()
                                                     and value[-1].isalpha() else "")
    return re.compile(head + re.escape(value) + tail)


def delexicalize(text: str, values: Mapping[str, str]) -> str:
    """`text` with every occurrence of a slot value replaced by its slot, longest value first.
    Values shorter than 2 characters are left in place (too ambiguous to be a field's value)."""
    taken = [False] * len(text)
    hits: list[tuple[int, int, str]] = []
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[1])):
        if len(value) < 2:
            continue
        for m in _value_pattern(value).finditer(text):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                hits.append((m.start(), m.end(), name))
    out, cursor = [], 0
    for start, end, name in sorted(hits):
        out.append(text[cursor:start])
        out.append(slot(name))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


@dataclass(frozen=True)
class Filled:
    """A filled draft: the text, the slots the record filled (in order, with their values) and
    the slots the record could not fill (a failed draft: the model named a field it lacks)."""

    text: str
    filled: tuple[tuple[str, str], ...]
    unknown: tuple[str, ...]


def _fix_particle(value: str, rest: str) -> str:
    """`rest` (the text after a filled slot) with its leading particle fitted to `value`."""
    m = _PARTICLE_RE.match(rest)
    if m is None:
        return rest
    (after_consonant, after_vowel), strict = _PAIR_OF[m.group()]
    fitted = particle(value, f"{after_consonant}/{after_vowel}")
    if not strict and fitted == after_vowel:
        return rest  # a copula after a vowel: either form is right, keep the model's
    return fitted + rest[m.end():]


_SENTENCE_VALUE = re.compile(r"(?:니다|[세어아해에예지]요)\.?$")
_ENDING = re.compile(r"해\s?주(?:세요|시기\s?바랍니다)|하시기\s?바랍니다|하세요|합니다|이에요|예요|입니다")


def _fix_ending(value: str, rest: str) -> str:
    """`rest` without a verb or copula ending when `value` is a whole sentence already: the
    target's "⟦storage⟧해 주세요" was written for "냉장 보관", and "…오래 갑니다해 주세요" is
    no Korean. The sentence's own ending stands, with a period."""
    m = _ENDING.match(rest) if _SENTENCE_VALUE.search(value) else None
    if m is None:
        return rest
    rest = rest[m.end():]
    if value.endswith("."):
        return rest.removeprefix(".")
    return rest if rest.startswith((".", "!", "?")) else "." + rest


def fill(text: str, values: Mapping[str, str]) -> Filled:
    """Replace each slot by its value and fit the particle (or, after a whole-sentence value,
    the ending) after it. An unknown slot (a field the record lacks) is left as written and
    reported in `unknown`."""
    out: list[str] = []
    filled: list[tuple[str, str]] = []
    unknown: list[str] = []
    cursor = 0
    matches = list(SLOT_RE.finditer(text))
    for i, m in enumerate(matches):
        out.append(text[cursor:m.start()])
        name = m.group(1)
        nxt = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        rest = text[m.end():nxt]
        if name in values:
            out.append(values[name])
            fitted = _fix_ending(values[name], rest)
            rest = fitted if fitted != rest else _fix_particle(values[name], rest)
            filled.append((name, values[name]))
        else:
            out.append(m.group())
            unknown.append(name)
        out.append(rest)
        cursor = nxt
    out.append(text[cursor:])
    return Filled("".join(out), tuple(filled), tuple(unknown))


def slot_names_in(texts: Iterable[str]) -> set[str]:
    return {m.group(1) for t in texts for m in SLOT_RE.finditer(t)}

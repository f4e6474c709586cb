"""A detail draft's plan at decode time: the renderer's copy of the record says which facts
each paragraph states; a draft's paragraph that has begun one does not end before its facts are
written, the draft does not end before its closing paragraph, and where the plan's next
paragraph is the notice table the draft writes its header there. A small model otherwise skips
a fact it was shown, or writes the food copy's storage paragraph for goods that have none.
Called from `value_constraint.step_ban`, one step at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smallretail_llm.slots import BLOCK

if TYPE_CHECKING:
    from smallretail_llm.value_constraint import TokenTable, ValueConstraint


def spaced(piece: str) -> str:
    """A token's text with SentencePiece's and byte-level BPE's spacing marks as spaces."""
    return piece.replace("▁", " ").replace("Ġ", " ")


def unwritten_ids(ids: Sequence[int], said: set[str], allowed: ValueConstraint,
                  table: TokenTable) -> list[int]:
    """Line breaks and end-of-draft while the paragraph being written has begun a paragraph of
    the renderer's copy and left one of its slots unwritten; end-of-draft alone while the last
    paragraph's slots are all unwritten (`ValueConstraint.paragraphs`). The model gets one
    sentence to state a missing fact: a paragraph whose last sentence wrote no slot is let go,
    since holding it longer only makes it ramble. A fact counts as written by its value: a
    slot with the same value (a brand that is also the maker) or the words themselves (a
    storage line the model spelled out: `said`, from `written_values`)."""
    state = _advance(ids, allowed, table)
    current = state.slots
    begun = set().union(*(g for g in allowed.paragraphs if g & current))
    if state.since_slot < 2 and any(allowed.values.get(n, n) not in said for n in begun):
        return [*table.newline_start_ids, *table.eos_ids]
    last = allowed.paragraphs[-1]
    return [] if any(allowed.values.get(n, n) in said for n in last) else list(table.eos_ids)


@dataclass
class DraftState:
    """What the plan reads of the draft so far, kept per request and advanced by the new tokens
    only (a step costs microseconds): its text, the paragraph being written (since the last
    blank line), the slots written in it and the sentence breaks since the last of them."""

    ids: list[int] = field(default_factory=list)
    text: str = ""
    paragraph: str | None = None  # None until the draft's first blank line
    slots: frozenset[str] = frozenset()
    since_slot: int = 0
    stated: set[str] = field(default_factory=set)  # plan values the draft has stated so far


def _advance(ids: Sequence[int], allowed: ValueConstraint, table: TokenTable) -> DraftState:
    state = allowed.cache.plan
    seen = len(state.ids) if state else 0
    if state is None or seen and (len(ids) < seen or ids[seen - 1] != state.ids[-1]
                                  or ids[0] != state.ids[0]):  # a new draft of the request
        state = allowed.cache.plan = DraftState()
    for token in ids[len(state.ids):]:
        piece = spaced(table.pieces[token]) if 0 <= token < table.size else ""
        blank = "\n\n" in state.text[-1:] + piece
        if blank:
            state.slots, state.since_slot = frozenset(), 0
        elif token in table.slot_id_set:
            state.slots, state.since_slot = state.slots | {piece[1:-1]}, 0
        else:
            state.since_slot += token in table.sentence_break_ids
        state.text += piece
        said = allowed.values.get(piece[1:-1], "") if token in table.slot_id_set else ""
        for value in allowed.plan_values - state.stated:  # as a slot, in one, or in words
            if value == said or value in said or value in state.text[-len(value) - len(piece):]:
                state.stated.add(value)
        if blank:
            state.paragraph = state.text.rsplit("\n\n", 1)[1]
        elif state.paragraph is not None:
            state.paragraph += piece
        state.ids.append(token)
    return state


def written_values(ids: Sequence[int], written: set[int], allowed: ValueConstraint,
                   table: TokenTable) -> set[str]:
    """The values of the plan's slots the draft has stated: as slots (a slot with the same
    value counts, and so does a line or combined slot that holds it: "모델명: SHM-1") or in
    its own words."""
    said = {allowed.values.get(n, n) for n in (table.pieces[i][1:-1] for i in written)}
    return said | _advance(ids, allowed, table).stated


def table_header_ids(ids: Sequence[int], written: set[int], said: set[str],
                     allowed: ValueConstraint, table: TokenTable) -> list[int] | None:
    """When the plan's next unwritten paragraph is the notice table's and the paragraph begun
    is still on the way to "<header>\n⟦notice_block⟧": the tokens that go on with it. None
    elsewhere, and for vocabularies that spell Korean as bytes (no token matches)."""
    if not allowed.headers or BLOCK not in table.slot_ids or table.slot_ids[BLOCK] in written:
        return None
    upcoming = next((g for g in allowed.paragraphs  # the first the draft has not begun
                     if all(allowed.values.get(n, n) not in said for n in g)), frozenset())
    if BLOCK not in upcoming:
        return None
    text = _advance(ids, allowed, table).paragraph
    if text is None:
        return None
    block = table.pieces[table.slot_ids[BLOCK]]
    rests = [t[len(text):] for h in allowed.headers if (t := f"{h}\n{block}").startswith(text)
             and len(t) > len(text)]
    only = {i for rest in rests for k in range(1, len(rest) + 1)
            for i in table.by_text.get(rest[:k], ())}
    return sorted(only) or None

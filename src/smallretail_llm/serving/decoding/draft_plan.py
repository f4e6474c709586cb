"""A draft's plan at decode time, from the renderer's copy of the same record.

Detail: the copy says which facts each paragraph states; a draft's paragraph that has begun one
does not end before its facts are written, the draft does not end before its closing paragraph,
and where the plan's next paragraph is the notice table the draft writes its header there. A
small model otherwise skips a fact it was shown, or writes the food copy's storage paragraph for
goods that have none.

Bullets and seo: the draft has at most the style's lines, and where the category requires a
closing line (the 건강기능식품 statement) the last line is that one. A small model otherwise
writes a seventh bullet, or bullet lines under a seo title, and leaves the statement out.

Called from `value_constraint.step_ban`, one step at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smallretail_llm.baseline.slots import BLOCK, CLOSE, OPEN

if TYPE_CHECKING:
    from smallretail_llm.serving.decoding.value_constraint import TokenTable, ValueConstraint


def spaced(piece: str) -> str:
    """A token's text with SentencePiece's and byte-level BPE's spacing marks as spaces."""
    return piece.replace("▁", " ").replace("Ġ", " ")


def paragraph_ban(state: DraftState, allowed: ValueConstraint,
                  table: TokenTable) -> tuple[list[int], list[int] | None]:
    """(banned, only) for a detail draft at this step (`ValueConstraint.paragraphs`):

    - line breaks and end-of-draft while the paragraph being written has begun one of the
      plan's and left one of its slots unwritten. The model gets one sentence to state a
      missing fact: a paragraph whose last sentence wrote no slot is let go, since holding it
      longer only makes it ramble;
    - end-of-draft while the last paragraph is unwritten, and any line break once every
      paragraph is written (nothing stray after the closing one);
    - ⟦notice_block⟧ anywhere but right below a heading (`_heading_above`);
    - "[" at a line's start, and ⟦notice_block⟧ anywhere, while a paragraph before the table
      holding a required fact (`ValueConstraint.required`) is unwritten: a small model
      otherwise goes from the first paragraph straight to the table (with its header or
      without), storage and use-by never said. Only required facts hold it back: holding for
      an optional paragraph sent the model to the closing one instead;
    - brackets only as headings (`_bracket_ids`);
    - only the table's header, its line break and ⟦notice_block⟧ where the table is next
      (`_header_ids`), and only the closing paragraph once the one before it is written
      (`_closing_ids`).

    A fact counts as written by its value: a slot with the same value (a brand that is also
    the maker), a slot that holds it, or the words themselves (a storage line spelled out)."""
    begun = state.begun
    only = _header_ids(state, allowed, table) or _closing_ids(state, allowed, table)
    banned = list(_bracket_ids(state.line, table))
    if BLOCK in table.slot_ids and _heading_above(state) is None:
        banned.append(table.slot_ids[BLOCK])
    if state.since_slot < 2 and state.lacking:
        return [*banned, *table.newline_start_ids, *table.eos_ids], only
    if all(begun):
        return [*banned, *table.newline_start_ids], only
    if not begun[-1]:
        banned += table.eos_ids
    if not all(begun[i] for i in allowed.required_before_table):
        if BLOCK in table.slot_ids:  # nor the table itself
            banned.append(table.slot_ids[BLOCK])
        if state.text.endswith("\n"):
            banned += table.containing("[")
    return banned, only


def _heading_above(state: DraftState) -> str | None:
    """The heading ("[상품 정보 안내]") when the draft stands at the start of the line right below
    one, the one place the notice table goes (the copy writes it nowhere else; a small model
    otherwise runs the table's "- 식품의 유형: …" lines on from a sentence); else None."""
    if state.line or not state.text.endswith("\n"):
        return None
    above = state.text[:-1].rsplit("\n", 1)[-1].strip()
    return above if above.startswith("[") and above.endswith("]") else None


def _header_ids(state: DraftState, allowed: ValueConstraint, table: TokenTable) -> list[int] | None:
    """When the plan's next unwritten paragraph is the notice table's and the paragraph begun
    is still on the way to "<header>\n⟦notice_block⟧": the tokens that go on with it. None
    elsewhere, and for vocabularies that spell Korean as bytes (no token matches)."""
    if (not allowed.headers or BLOCK not in table.slot_ids
            or table.slot_ids[BLOCK] in state.written_ids):
        return None
    if any(state.line.startswith(h) for h in allowed.headers):
        # a header opening any line, not only a paragraph, goes on to its table: after one
        # line break, a blank line and the header again was a draft's way to write it twice
        return continuing_ids(state.line, allowed.header_lines, table)
    if _heading_above(state) in allowed.headers:
        return [table.slot_ids[BLOCK]]
    text = state.paragraph
    if text and any(text.startswith(h) for h in allowed.headers):
        # a header written is the table's, wherever the plan stood: "[상품 정보 안내]" and then
        # a second heading, no table, was a draft's way to leave every notice field out
        return continuing_ids(text, allowed.header_lines, table)
    upcoming = state.begun.index(False) if False in state.begun else len(state.begun)
    if (upcoming == len(state.begun) or BLOCK not in allowed.paragraphs[upcoming] or text is None
            or (text and not any(h.startswith(text[0]) for h in allowed.headers))):  # (prose)
        return None
    return continuing_ids(text, allowed.header_lines, table)


def _closing_ids(state: DraftState, allowed: ValueConstraint,
                 table: TokenTable) -> list[int] | None:
    """Detail with a closing paragraph (`ValueConstraint.closing`, the 건강기능식품 statement's
    slot): once the paragraph before it is written, a new line is the closing one (or the blank
    line before it). None elsewhere. A small model otherwise writes the table's header again."""
    if not allowed.closing or len(state.begun) < 2 or not state.text.endswith("\n"):
        return None
    *_, before, last = state.begun
    if last or not before:
        return None
    only = continuing_ids("", (allowed.closing,), table)
    if only and not state.text.endswith("\n\n"):
        return [*only, *table.by_text.get("\n", [])]
    return only


@dataclass
class DraftState:
    """What the decoder reads of the draft so far, kept per request and advanced by the new
    tokens only (a step costs microseconds): its text and lines, the slots written; for the
    plan, the paragraph being written (since the last blank line), the slots written in it and
    the sentence breaks since the last of them, the plan's values stated and which of its
    paragraphs are begun."""

    ids: list[int] = field(default_factory=list)
    text: str = ""
    paragraph: str | None = None  # None until the draft's first blank line
    slots: frozenset[str] = frozenset()
    since_slot: int = 0
    written_ids: set[int] = field(default_factory=set)  # every slot token written
    line: str = ""  # the line being written
    lines: int = 0  # the lines before it that hold anything
    stated: set[str] = field(default_factory=set)  # plan values the draft has stated so far
    pending: set[str] = field(default_factory=set)  # and those it has not
    begun: tuple[bool, ...] = ()  # per paragraph of the plan: one of its values stated
    lacking: bool = False  # a paragraph of the plan this one has begun lacks a fact
    said_ids: frozenset[int] = frozenset()
    """The slots written, less the last one while its sentence goes on: a label may follow
    its own value ("⟦origin⟧이 원산지예요")."""


def advance(ids: Sequence[int], allowed: ValueConstraint, table: TokenTable) -> DraftState:
    """The request's `DraftState` brought up to `ids` (a new one when `ids` is another draft)."""
    state = allowed.cache.plan
    seen = len(state.ids) if state else 0
    if state is None or (seen and (len(ids) < seen or ids[seen - 1] != state.ids[-1]
                                  or ids[0] != state.ids[0])):  # a new draft of the request
        state = allowed.cache.plan = DraftState(begun=(False,) * len(allowed.paragraphs),
                                                pending=set(allowed.plan_values))
    for token in ids[len(state.ids):]:
        piece = table.texts[token] if 0 <= token < table.size else ""
        blank = "\n\n" in state.text[-1:] + piece
        slot = piece[1:-1] if token in table.slot_id_set else ""
        if blank:
            state.slots, state.since_slot = frozenset(), 0
        elif slot:
            state.slots, state.since_slot = state.slots | {slot}, 0
        if slot:
            state.said_ids = frozenset(state.written_ids)
            state.written_ids.add(token)
        elif token in table.sentence_break_ids:
            state.since_slot += not blank
            state.said_ids = frozenset(state.written_ids)
        state.text += piece
        if "\n" in piece:
            *ended, state.line = (state.line + piece).split("\n")
            state.lines += sum(1 for line in ended if line.strip())
        else:
            state.line += piece
        said = allowed.values.get(slot, "") if slot else ""
        found = [value for value in state.pending  # as a slot, in one, or in words
                 if value in said or (value[-1] in piece
                 and state.text.find(value, -len(value) - len(piece)) >= 0)
                 ] if said or not allowed.plan_ends.isdisjoint(piece) else []
        if found:
            state.pending.difference_update(found)
            state.stated.update(found)
            state.begun = tuple(not values.isdisjoint(state.stated)
                                for values in allowed.paragraph_values)
        if (found or slot or blank) and allowed.paragraphs:
            state.lacking = any(g & state.slots and not values <= state.stated
                                for g, values in zip(allowed.paragraphs, allowed.paragraph_values,
                                                    strict=False))
        if blank:
            state.paragraph = state.text.rsplit("\n\n", 1)[1]
        elif state.paragraph is not None:
            state.paragraph += piece
        state.ids.append(token)
    return state


def _bracket_ids(line: str, table: TokenTable) -> list[int]:
    """Detail: "[" only where a line begins (a heading: "[상품 정보 안내]"), "]" only on a line
    that a "[" opened. A small model otherwise drops a heading into a sentence ("인증: [상품
    정보].")."""
    line = line.lstrip()
    if not line:
        return []
    opening = table.containing("[")
    return opening if line.startswith("[") and "]" not in line else opening + table.containing("]")


def continuing_ids(text: str, targets: tuple[str, ...], table: TokenTable) -> list[int] | None:
    """The tokens that go on from `text` towards one of `targets` (texts it is a prefix of),
    or None when there are none (no target left, or a vocabulary that spells Korean as
    bytes, where no token matches). Cached per vocabulary: the same few texts come back."""
    key = (text, targets)
    if key not in table.continuations:
        if len(table.continuations) > 4096:  # texts the model wrote itself: keep it bounded
            table.continuations.clear()
        rests = [t[len(text):] for t in targets if t.startswith(text) and len(t) > len(text)]
        only = {i for rest in rests for k in range(1, len(rest) + 1)
                for i in table.by_text.get(rest[:k], ())}
        table.continuations[key] = sorted(only) or None
    return table.continuations[key]


def _ends_with(text: str, closing: str, allowed: ValueConstraint) -> bool:
    """Whether `text` ends with `closing`, in words or as a slot holding it ("• ⟦notice.
    not_medicine_notice⟧")."""
    text = text.rstrip()
    if text.endswith(CLOSE) and (start := text.rfind(OPEN)) >= 0:
        text = text[:start] + allowed.values.get(text[start + 1:-1], text[start:])
    return text.endswith(closing)


def line_ids(state: DraftState, allowed: ValueConstraint,
             table: TokenTable) -> tuple[list[int], list[int] | None]:
    """(banned, only) for a bullets or seo draft (`ValueConstraint.line_limit`). A line whose
    opening the style fixes is opened so (`line_starts`). With a closing line: no end before
    it, on the last line only its tokens, and once it is written only the end of the draft.
    Without one: no line break on the last line. A vocabulary that cannot spell the closing
    line (Korean as bytes) is only kept to the line limit.

    A line ends (line break or end of draft) only once it has written a slot, while the request
    has one left: every line of these styles' training copy states a fact, and a small model
    that could not write the fact it had in mind (a record without ⟦net_content⟧) wrote "• "
    lines with nothing after them instead."""
    closing, line, written = allowed.closing, state.line, state.lines
    if closing and _ends_with(state.text, closing, allowed):
        return [], list(table.eos_ids)
    start = allowed.line_starts[written] if written < len(allowed.line_starts) else ""
    if start and len(line) < len(start) and start.startswith(line):
        return [], continuing_ids(line, (start,), table)
    factless = OPEN not in line and any(
        n in table.slot_ids and table.slot_ids[n] not in state.written_ids
        for n in allowed.slots or ())
    last = written >= allowed.line_limit - 1
    if closing and continuing_ids("", (closing,), table):
        if not last:
            return [*table.eos_ids, *(table.newline_start_ids if factless else ())], None
        return [], continuing_ids(line if line.strip() else "", (closing,), table) or list(
            table.eos_ids)
    if factless:
        return [*table.newline_start_ids, *table.eos_ids], None
    return (list(table.newline_start_ids), None) if last else ([], None)

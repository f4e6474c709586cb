"""The draft's plan at decode time: the renderer's copy of the record says which facts each
paragraph states (detail) or each line (bullets); a draft's paragraph that has begun one does
not end before its facts are written, the draft does not end before the plan is covered, and
where the plan's next paragraph is the notice table the draft writes its header there. A
small model otherwise skips a fact it was shown, or writes the food copy's storage paragraph for
goods that have none. Called from `value_constraint.step_ban`, one step at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from smallretail_llm.slots import BLOCK, SLOT_RE

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
    current, since_slot, tail = set(), 0, ""
    for token in reversed(ids):  # back to the last blank line (a list: the last line break)
        piece = table.pieces[token] if 0 <= token < table.size else ""
        if "\n" in piece and (allowed.list_plan or "\n\n" in piece + tail[:1]):
            break
        tail = piece + tail[:1]
        if token in table.slot_id_set:
            current.add(piece[1:-1])
        elif not current:
            since_slot += token in table.sentence_break_ids
    if allowed.list_plan:
        unbegun = any(all(allowed.values.get(n, n) not in said for n in g)
                      for g in allowed.paragraphs)
        return list(table.eos_ids) if unbegun and current else []
    begun = set().union(*(g for g in allowed.paragraphs if g & current))
    if since_slot < 2 and any(allowed.values.get(n, n) not in said for n in begun):
        return [*table.newline_start_ids, *table.eos_ids]
    last = allowed.paragraphs[-1]
    return [] if any(allowed.values.get(n, n) in said for n in last) else list(table.eos_ids)


def written_values(ids: Sequence[int], written: set[int], allowed: ValueConstraint,
                   table: TokenTable) -> set[str]:
    """The values of the plan's slots the draft has stated: in the draft with its slots read as
    their values, so a slot with the same value, a line or combined slot that holds it ("모델명:
    SHM-1") and the words themselves all count."""
    said = {allowed.values.get(n, n) for n in (table.pieces[i][1:-1] for i in written)}
    planned = {allowed.values[n] for g in allowed.paragraphs for n in g if n in allowed.values}
    if planned - said:
        text = SLOT_RE.sub(lambda m: allowed.values.get(m.group(1), m.group()), spaced(
            "".join(table.pieces[i] for i in ids if 0 <= i < table.size)))
        said |= {v for v in planned - said if v in text}
    return said


def _paragraph_text(ids: Sequence[int], table: TokenTable, window: int = 48) -> str | None:
    """The text since the last blank line, spacing marks as spaces; None when the last
    `window` tokens hold no blank line (a long paragraph, no header being written)."""
    text = spaced("".join(table.pieces[i] for i in ids[-window:] if 0 <= i < table.size))
    return text.rsplit("\n\n", 1)[1] if "\n\n" in text else None


def table_header_ids(ids: Sequence[int], written: set[int], said: set[str],
                     allowed: ValueConstraint, table: TokenTable) -> list[int] | None:
    """When the plan's next unwritten paragraph is the notice table's and the paragraph begun
    is still on the way to "<header>\n⟦notice_block⟧": the tokens that go on with it. None
    elsewhere, and for vocabularies that spell Korean as bytes (no token matches)."""
    if not allowed.headers or BLOCK not in table.slot_ids or table.slot_ids[BLOCK] in written:
        return None
    upcoming = next((g for g in allowed.paragraphs  # the first the draft has not begun
                     if all(allowed.values.get(n, n) not in said for n in g)), frozenset())
    text = _paragraph_text(ids, table)
    if BLOCK not in upcoming or text is None:
        return None
    block = table.pieces[table.slot_ids[BLOCK]]
    rests = [t[len(text):] for h in allowed.headers if (t := f"{h}\n{block}").startswith(text)
             and len(t) > len(text)]
    only = {i for rest in rests for k in range(1, len(rest) + 1)
            for i in table.by_text.get(rest[:k], ())}
    return sorted(only) or None

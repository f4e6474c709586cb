"""The decoder's label checks: a slot is not written under another field's name ("원산지는
⟦use_by⟧"), and a field already stated is not named again ("원산지는" after ⟦origin⟧). Both
are bans on a few tokens, built from per-request tables (`ValueConstraint.cache`) so a step
costs microseconds; `value_constraint.step_ban` asks them at every step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smallretail_llm.claim_text import squash
from smallretail_llm.copy_check import clause_before, fields_named, own_label_words
from smallretail_llm.slots import BLOCK, field_of

if TYPE_CHECKING:
    from smallretail_llm.value_constraint import TokenTable, ValueConstraint


def misfit_slot_ids(text: str, allowed: ValueConstraint, table: TokenTable) -> list[int]:
    """Slot ids that would be mislabeled after the clause `text` ends in (`copy_check.misfit`,
    asked of every slot at once): the slots some field the clause names does not fit, less
    those whose own words the clause holds. Cached by what the clause names, which stays the
    same for many tokens, and built from per-field sets (a step costs microseconds)."""
    clause = squash(clause_before(text))
    named = fields_named(clause) if clause else ()
    if not named or "키워드" in clause:  # a keyword list may hold any field's value
        return []
    present = tuple(dict.fromkeys([w for _, w in named]
                                  + [w for w in allowed.cache.label_words if w in clause]))
    key = (id(table), named, present)
    if key not in allowed.cache.misfit_bans:
        misfits = set().union(*(_named_misfits(allowed, f, w) for f, w in named))
        misfits -= set().union(*(_fitting(allowed, w) for w in present))
        allowed.cache.misfit_bans[key] = sorted(table.slot_ids[n] for n in misfits
                                                if n in table.slot_ids)
    return allowed.cache.misfit_bans[key]


def _named_misfits(allowed: ValueConstraint, field_name: str, word: str) -> frozenset[str]:
    """The slots that `word`, naming `field_name`, would mislabel: those the field is not one
    of and whose own words do not hold the word (`copy_check.misfit`)."""
    key = ("named", field_name, word)
    if key not in allowed.cache.misfit_parts:
        owners, own_text = allowed.cache.owners, allowed.cache.own_text
        allowed.cache.misfit_parts[key] = frozenset(
            name for name in allowed.cache.labelled_slots
            if field_name not in owners[name][0] and word not in own_text[name])
    return allowed.cache.misfit_parts[key]


def _fitting(allowed: ValueConstraint, word: str) -> frozenset[str]:
    """The slots one of whose own words is `word` (in the clause, it names them)."""
    key = ("fits", word)
    if key not in allowed.cache.misfit_parts:
        allowed.cache.misfit_parts[key] = frozenset(
            name for name in allowed.values if word in allowed.cache.owners[name][1])
    return allowed.cache.misfit_parts[key]


def said_label_ids(written: frozenset[int], allowed: ValueConstraint,
                    table: TokenTable) -> list[int]:
    """Tokens that name a field the draft has already stated ("원산지는" after ⟦origin⟧): with
    the slot banned, a second "원산지는" can only end in an empty clause ("원산지는 ."), the
    most common way a small model's detail copy failed. After the notice block every notice
    field is stated. Vocabularies that spell Korean as bytes (byte-level BPE) have no such
    tokens; the ban is then empty."""
    key = (id(table), written)
    if key not in allowed.cache.said_bans:
        names = {table.pieces[i][1:-1] for i in written}
        fields = {field_of(n) for n in names}
        if BLOCK in names:
            fields |= {field_of(n) for n in allowed.values if n.startswith("notice.")}
        words = frozenset(w for f in fields for w in own_label_words(f, allowed.cache.labels))
        allowed.cache.said_bans[key] = table.containing_any(words)
    return allowed.cache.said_bans[key]

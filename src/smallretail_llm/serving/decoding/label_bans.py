"""The decoder's label checks: a slot is not written under another field's name ("원산지는
⟦use_by⟧"), and a field already stated is not named again ("원산지는" after ⟦origin⟧). Both
are bans on a few tokens, built from `LabelTables` so a step costs microseconds;
`value_constraint.step_ban` asks them at every step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smallretail_llm.baseline.copy_check import (
    clause_before,
    fields_named,
    never_mislabeled,
    own_label_words,
    own_words_all,
    squashed_labels,
)
from smallretail_llm.baseline.slots import BLOCK, field_of
from smallretail_llm.grounding.claim_text import squash

if TYPE_CHECKING:
    from smallretail_llm.serving.decoding.value_constraint import TokenTable, ValueConstraint


@dataclass
class LabelTables:
    """The label checks' tables for one set of prompt labels and slots, filled as the decoder
    asks. They depend on the labels the prompt shows and on which slots share a value, not on
    the values themselves, so the requests of one category share them (`label_tables`): a
    request's first steps would otherwise spend a third of their time building them."""

    labels: tuple[tuple[str, str], ...]  # (field, squashed label): `own_label_words`'s
    labelled_slots: tuple[str, ...]  # the slots a field's name can mislabel
    names: tuple[str, ...]  # every slot of the request
    owners: dict
    """Slot name -> `copy_check.own_words` for it: the label check's per-slot part, built
    for every slot at once (`copy_check.own_words_all`)."""
    misfit_bans: dict = field(default_factory=dict)
    """(token table id, the field names a clause holds) -> the slots those names ban."""
    misfit_parts: dict = field(default_factory=dict)
    """("named", field, word) -> the slots that word mislabels; ("fits", word) -> the slots
    it names: what `misfit_bans` entries are built from."""
    said_bans: dict = field(default_factory=dict)
    """(token table id, slots written) -> the tokens naming the fields they stated."""
    label_words: tuple[str, ...] = field(init=False)
    """The prompt's labels, squashed, each once: part of a clause's key."""
    own_text: dict = field(init=False)
    """Slot name -> its own words joined by NUL: "is the word inside one of them" as one
    substring test."""

    def __post_init__(self) -> None:
        self.label_words = tuple(dict.fromkeys(label for _, label in self.labels))
        self.own_text = {name: "\0".join(words) for name, (_, words) in self.owners.items()}


_SHARED: dict[tuple, LabelTables] = {}
_SHARED_MAX = 512  # distinct label sets a long-running server keeps (a few per category)


def label_tables(labels: Mapping[str, str], values: Mapping[str, str]) -> LabelTables:
    """The `LabelTables` of a request whose prompt shows `labels` and whose slots fill in
    `values`, shared with every earlier request with the same labels and the same slots
    sharing a value."""
    squashed = squashed_labels(labels)
    groups: dict[str, list[str]] = {}
    for name, value in values.items():
        groups.setdefault(value, []).append(name)
    grouping = tuple(sorted(tuple(sorted(g)) for g in groups.values()))
    tables = _SHARED.get((squashed, grouping))
    if tables is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        tables = _SHARED[squashed, grouping] = LabelTables(
            squashed, tuple(n for n in values if not never_mislabeled(n)), tuple(values),
            own_words_all(dict(squashed), grouping) if labels else {})
    return tables


def misfit_slot_ids(text: str, allowed: ValueConstraint, table: TokenTable) -> list[int]:
    """Slot ids that would be mislabeled after the clause `text` ends in (`copy_check.misfit`,
    asked of every slot at once): the slots some field the clause names does not fit, less
    those whose own words the clause holds. Cached by what the clause names, which stays the
    same for many tokens, and built from per-field sets (a step costs microseconds)."""
    clause = squash(clause_before(text))
    named = fields_named(clause) if clause else ()
    if not named or "키워드" in clause:  # a keyword list may hold any field's value
        return []
    tables = allowed.cache.labels
    present = tuple(dict.fromkeys([w for _, w in named]
                                  + [w for w in tables.label_words if w in clause]))
    key = (id(table), named, present)
    if key not in tables.misfit_bans:
        misfits = set().union(*(_named_misfits(tables, f, w) for f, w in named))
        misfits -= set().union(*(_fitting(tables, w) for w in present))
        tables.misfit_bans[key] = sorted(table.slot_ids[n] for n in misfits
                                         if n in table.slot_ids)
    return tables.misfit_bans[key]


def _named_misfits(tables: LabelTables, field_name: str, word: str) -> frozenset[str]:
    """The slots that `word`, naming `field_name`, would mislabel: those the field is not one
    of and whose own words do not hold the word (`copy_check.misfit`)."""
    key = ("named", field_name, word)
    if key not in tables.misfit_parts:
        owners, own_text = tables.owners, tables.own_text
        tables.misfit_parts[key] = frozenset(
            name for name in tables.labelled_slots
            if field_name not in owners[name][0] and word not in own_text[name])
    return tables.misfit_parts[key]


def _fitting(tables: LabelTables, word: str) -> frozenset[str]:
    """The slots one of whose own words is `word` (in the clause, it names them)."""
    key = ("fits", word)
    if key not in tables.misfit_parts:
        tables.misfit_parts[key] = frozenset(
            name for name in tables.names if word in tables.owners[name][1])
    return tables.misfit_parts[key]


def said_label_ids(written: frozenset[int], allowed: ValueConstraint,
                    table: TokenTable) -> list[int]:
    """Tokens that name a field the draft has already stated ("원산지는" after ⟦origin⟧): with
    the slot banned, a second "원산지는" can only end in an empty clause ("원산지는 ."), the
    most common way a small model's detail copy failed. After the notice block every notice
    field is stated. Vocabularies that spell Korean as bytes (byte-level BPE) have no such
    tokens; the ban is then empty."""
    tables, key = allowed.cache.labels, (id(table), written)
    if key not in tables.said_bans:
        names = {table.pieces[i][1:-1] for i in written}
        fields = {field_of(n) for n in names}
        if BLOCK in names:
            fields |= {field_of(n) for n in tables.names if n.startswith("notice.")}
        words = frozenset(w for f in fields for w in own_label_words(f, tables.labels))
        tables.said_bans[key] = table.containing_any(words)
    return tables.said_bans[key]

"""Record-constrained decoding per batch row, on numpy scores: each row's own
``ValueConstraint`` (rows of one batch belong to different products) masks the tokens it bans.
No torch: the llama.cpp engine uses it as it is, the transformers engine through
``constrained_logits.mask_scores``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from smallretail_llm.serving.decoding.value_constraint import (
    Ban,
    TokenTable,
    ValueConstraint,
    misfit_ban,
    step_ban,
    word_ids,
)


class RowMasks:
    """Masks, per row, the tokens its constraint bans. `tokens_of(row)` gives the tokens that
    row has generated so far (the engine's bookkeeping, so left padding and cached prefixes do
    not matter), or None once the row has finished: a batch decodes until its longest row
    ends, and a finished row's tokens are thrown away, so it is not masked.

    The bans are written into a numpy array of scores [rows, vocabulary], in place: a step is
    a few microseconds of mask writing on a CPU (a torch index per row cost more than the rest
    of the step). With `greedy` (every first draft), a row whose best token the constraint allows is left
    as it is: masking only lowers other tokens, so it cannot change that choice."""

    def __init__(self, constraints: Sequence[ValueConstraint | None], table: TokenTable,
                 tokens_of: Callable[[int], list[int] | None], greedy: bool = False) -> None:
        self.constraints = constraints
        self.greedy = greedy
        self.table = table
        self.tokens_of = tokens_of
        self._not_numeric: np.ndarray | None = None
        self._standing: tuple[np.ndarray, np.ndarray] | None = None
        self._words: list[frozenset[int]] = []

    def _standing_index(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Every row's banned words as (rows, tokens): the same at every step, so built once
        and written with one assignment (finished rows too: harmless, their tokens are
        thrown away). Greedy rows are checked against the same words as sets (`_words`)."""
        if self._standing is None:
            self._words = [frozenset(i for i in word_ids(c, self.table) if i < size)
                           if c is not None
                           else frozenset() for c in self.constraints]
            tokens = [np.array(sorted(words), dtype=np.int64) for words in self._words]
            rows = [np.full(len(ids), row, dtype=np.int64) for row, ids in enumerate(tokens)]
            self._standing = np.concatenate(rows), np.concatenate(tokens)
        return self._standing

    def _not_numeric_mask(self, size: int) -> np.ndarray:
        if self._not_numeric is None or self._not_numeric.shape[0] != size:
            mask = np.ones(size, dtype=bool)
            mask[[i for i in self.table.numeric_start_ids if i < size]] = False
            self._not_numeric = mask
        return self._not_numeric

    def apply(self, view: np.ndarray) -> None:
        """Mask ``view`` [rows, vocabulary] in place (strided or not: writes go through)."""
        size = view.shape[1]
        fits = self.table.size <= size  # else: ids past the model's vocabulary are left out
        tops = view.argmax(axis=1).tolist() if self.greedy else None
        if tops is not None:
            self._standing_index(size)  # (and the rows' word sets)
        only_rows = []  # (row, the only tokens it may write, their scores): a header, a closing
        written = False
        for row, constraint in enumerate(self.constraints):
            if constraint is None:
                continue
            tokens = self.tokens_of(row)
            if tokens is None:
                continue
            ban = step_ban(tokens, constraint, self.table, words=False, misfits=tops is None)
            if tops is not None:  # greedy: is the row's choice allowed? then masking cannot
                top, misfits = tops[row], None  # change it (it only lowers other tokens)
                if _keeps(top, ban, self._words[row], self.table):
                    if top not in self.table.slot_id_set:
                        continue
                    misfits = misfit_ban(tokens, constraint, self.table)
                    if top not in misfits:
                        continue
                if misfits is None:
                    misfits = misfit_ban(tokens, constraint, self.table)
                ban = ban._replace(ids=ban.ids + misfits)
            written = True
            if ban.only_numeric:
                view[row, self._not_numeric_mask(size)] = -np.inf
            if ban.ids:
                view[row, ban.ids if fits else [i for i in ban.ids if i < size]] = -np.inf
            if ban.only is not None:  # the step's bans narrow it, banned words do not
                only = ban.only if fits else [i for i in ban.only if i < size]
                only_rows.append((row, only, view[row, only]))  # (a copy: advanced indexing)
        if written:  # (rows left alone keep their choice: it holds none of their words)
            view[self._standing_index(size)] = -np.inf
        for row, only, kept in only_rows:
            view[row] = -np.inf
            view[row, only] = kept


def _keeps(top: int, ban: Ban, words: frozenset[int], table: TokenTable) -> bool:
    """Whether greedy decoding's choice `top` survives `ban` and the row's banned `words`, so
    masking cannot change it (it only lowers other tokens). A choice among a row's `only`
    tokens that is one of its words is masked in full: the batch's words are written over
    every row, and only the full path puts such a token back."""
    return (top not in words and top not in ban.ids
            and (ban.only is None or top in ban.only)
            and (not ban.only_numeric or top in table.numeric_start_set))

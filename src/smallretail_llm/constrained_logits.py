"""The transformers side of record-constrained decoding: a ``LogitsProcessor`` that applies
each batch row's own ``ValueConstraint`` (rows of one batch belong to different products)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from transformers import LogitsProcessor

from smallretail_llm.value_constraint import TokenTable, ValueConstraint, step_ban, word_ids


class RowConstraints(LogitsProcessor):
    """Masks, per row, the tokens its constraint bans. `tokens_of(row)` gives the tokens that
    row has generated so far (the engine's bookkeeping, so left padding and cached prefixes do
    not matter), or None once the row has finished: a batch decodes until its longest row
    ends, and a finished row's tokens are thrown away, so it is not masked. `seconds` adds up the time spent, for the bench's cost-per-step row."""

    def __init__(self, constraints: Sequence[ValueConstraint | None], table: TokenTable,
                 tokens_of: Callable[[int], list[int] | None]) -> None:
        self.constraints = constraints
        self.table = table
        self.tokens_of = tokens_of
        self.seconds = 0.0
        self.steps = 0
        self._not_numeric: torch.Tensor | None = None
        self._standing: torch.Tensor | None = None

    def _standing_index(self, size: int, device: torch.device) -> torch.Tensor:
        """Every row's banned words as flat indices (row * size + token): the same at every
        step, so built once and written with the step's other bans."""
        if self._standing is None:
            parts = [np.zeros(0, dtype=np.int64)]
            for row, constraint in enumerate(self.constraints):
                if constraint is not None:
                    ids = np.asarray(word_ids(constraint, self.table), dtype=np.int64)
                    parts.append(ids[ids < size] + row * size)
            self._standing = torch.from_numpy(np.concatenate(parts)).to(device)
        return self._standing

    def _not_numeric_mask(self, size: int, device: torch.device) -> torch.Tensor:
        if self._not_numeric is None or self._not_numeric.shape[0] != size:
            mask = torch.ones(size, dtype=torch.bool, device=device)
            mask[[i for i in self.table.numeric_start_ids if i < size]] = False
            self._not_numeric = mask
        return self._not_numeric

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        started = time.perf_counter()
        scores = scores.contiguous()
        size = scores.shape[1]
        parts = []  # row * size + token, every row's bans: one write for the whole batch
        only_rows = []  # (row, the only tokens it may write): the table's header, a closing line
        for row, constraint in enumerate(self.constraints):
            tokens = self.tokens_of(row) if constraint is not None else None
            if tokens is None:
                continue
            ban = step_ban(tokens, constraint, self.table, words=False)
            if ban.only_numeric:
                scores[row].masked_fill_(self._not_numeric_mask(size, scores.device),
                                         -float("inf"))
            if ban.only is not None:
                only_rows.append((row, [i for i in ban.only if i < size]))
            if ban.ids:
                ids = np.asarray(ban.ids, dtype=np.int64)
                parts.append((ids[ids < size] if self.table.size > size else ids) + row * size)
        if parts:  # from numpy: torch.tensor(list) costs more than the rest of the step
            index = torch.from_numpy(np.concatenate(parts)).to(scores.device)
            scores.view(-1).index_fill_(0, index, -float("inf"))
        kept = [scores[row, only] for row, only in only_rows]  # (a copy: advanced indexing)
        standing = self._standing_index(size, scores.device)
        if standing.numel():  # finished rows too: harmless, their tokens are thrown away
            scores.view(-1).index_fill_(0, standing, -float("inf"))
        for (row, only), values in zip(only_rows, kept):  # banned words do not bind them
            scores[row].fill_(-float("inf"))
            scores[row, only] = values
        self.seconds += time.perf_counter() - started
        self.steps += 1
        return scores

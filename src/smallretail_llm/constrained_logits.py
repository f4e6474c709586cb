"""The transformers side of record-constrained decoding: a ``LogitsProcessor`` that applies
each batch row's own ``ValueConstraint`` (``row_masks.RowMasks``) to torch scores."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import torch
from transformers import LogitsProcessor

from smallretail_llm.row_masks import RowMasks
from smallretail_llm.value_constraint import TokenTable, ValueConstraint

_NUMPY_DTYPES = (torch.float32, torch.float16, torch.float64)


class RowConstraints(LogitsProcessor):
    """``RowMasks`` on torch scores: written through a numpy view of CPU scores; scores on a GPU
    are masked on a host copy and copied back (two transfers of batch x vocabulary)."""

    def __init__(self, constraints: Sequence[ValueConstraint | None], table: TokenTable,
                 tokens_of: Callable[[int], list[int] | None], greedy: bool = False) -> None:
        self.masks = RowMasks(constraints, table, tokens_of, greedy=greedy)
        self._on_host: bool | None = None  # scores numpy can view (the same at every step)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self._on_host is None:
            self._on_host = scores.device.type == "cpu" and scores.dtype in _NUMPY_DTYPES
        host = scores if self._on_host else scores.detach().float().cpu()
        self.masks.apply(host.numpy())
        return scores if self._on_host else scores.copy_(host.to(scores.dtype))


# transformers' LogitsProcessorList reads each processor's signature at every step (10-30 us,
# a tenth of the constraint's own cost at batch 1); one set on the function is read at once
RowConstraints.__call__.__signature__ = inspect.signature(RowConstraints.__call__)  # type: ignore[attr-defined]

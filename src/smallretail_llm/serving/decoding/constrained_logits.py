"""The transformers side of record-constrained decoding: each batch row's own
``ValueConstraint`` (``row_masks.RowMasks``) applied to torch scores."""

from __future__ import annotations

import torch

from smallretail_llm.serving.decoding.row_masks import RowMasks

_NUMPY_DTYPES = (torch.float32, torch.float16, torch.float64)


def mask_scores(masks: RowMasks, scores: torch.Tensor) -> torch.Tensor:
    """``masks`` applied to torch ``scores`` [rows, vocabulary]: written through a numpy view of
    CPU scores; scores on a GPU are masked on a host copy and copied back (two transfers of
    batch x vocabulary)."""
    on_host = scores.device.type == "cpu" and scores.dtype in _NUMPY_DTYPES
    host = scores if on_host else scores.detach().float().cpu()
    masks.apply(host.numpy())
    return scores if on_host else scores.copy_(host.to(scores.dtype))

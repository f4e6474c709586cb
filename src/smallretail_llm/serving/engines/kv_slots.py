"""A KV cache of pre-allocated row slots, for a batch whose rows join and leave at any decode
step (the transformers engine's continuous batching, ``step_loop.py``).

Why not transformers' ``DynamicCache``: it grows by concatenation, so every decode step copied
every layer's whole cache (``aten::cat`` was 15.6% of a 0.5B int8 step), and a row could not
join a running batch without re-padding all the others. Here each layer owns two buffers
``[rows, kv_heads, capacity, head_dim]``; batch row ``i`` is slot ``i`` and keeps its own
length. A decode step writes one position per row in place and attention reads a plain slice
(the first ``max length`` positions of the active rows) under a mask that hides each row's
unused tail. A row that leaves is replaced by the last row (one row's copy, once), so the
active rows stay ``0..n-1`` and every view stays a slice, never a gather. The buffers are
zero-filled when allocated and kept for the engine's life (grown, never shrunk): KV memory is
reserved up front, as a serving engine does, instead of allocated per request.

The model sees it through ``update`` only: the engine always passes position ids and a ready
4D mask (``mask``), so transformers never asks the cache for lengths. Sliding-window layers
keep every position too; their mask hides what lies outside the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from transformers import PreTrainedConfig

KV = tuple[torch.Tensor, torch.Tensor]  # keys, values: [1, kv_heads, tokens, head_dim]
_GROW = 256  # capacity grows in steps of this many positions (one copy per growth)
FULL, SLIDING = "full_attention", "sliding_attention"


class UnsupportedAttention(ValueError):
    """The model has layers whose attention is not plain (full or sliding-window) attention."""


class SlotCache:
    """Pre-allocated keys and values of up to ``rows`` sequences (see the module docstring)."""

    def __init__(self, config: PreTrainedConfig, rows: int, *, dtype: torch.dtype,
                 device: torch.device) -> None:
        """``config``: the model's text config (layers, heads, head size, window)."""
        self.layer_types = _layer_types(config)
        self.window = getattr(config, "sliding_window", None)
        heads = config.num_attention_heads
        self._kv_heads = getattr(config, "num_key_value_heads", None) or heads
        self._head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        self._context = getattr(config, "max_position_embeddings", None)
        self._rows, self._dtype, self._device = rows, dtype, device
        self._keys: list[torch.Tensor] = []
        self._values: list[torch.Tensor] = []
        self.capacity = 0
        self.lengths: list[int] = []  # tokens held, per active row (row i = slot i)
        self._write: tuple = ()  # (rows, positions, end, view) of the next forward
        self._arange = torch.arange(rows, device=device)

    def clear(self) -> None:
        """Drop every row (the buffers stay allocated for the next run)."""
        self.lengths = []

    @property
    def rows(self) -> int:
        return len(self.lengths)

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in (*self._keys, *self._values))

    # -- rows -----------------------------------------------------------------------------------

    def add_row(self, needed: int) -> int:
        """A new empty row that will hold up to ``needed`` tokens; returns its index."""
        if self.rows >= self._rows:
            raise RuntimeError(f"KV 슬롯이 모두 찼습니다 ({self._rows}개).")
        self._ensure(needed)
        self.lengths.append(0)
        return self.rows - 1

    def remove_row(self, row: int) -> None:
        """Drop a row: the last row moves into its slot (the caller renumbers it too)."""
        last = self.rows - 1
        if row != last:
            n = self.lengths[last]
            for buffer in (*self._keys, *self._values):
                buffer[row, :, :n] = buffer[last, :, :n]
            self.lengths[row] = n
        self.lengths.pop()

    def write_prefix(self, row: int, layers: Sequence[KV], tokens: int) -> None:
        """Copy the first ``tokens`` positions of a stored prompt's KV into an empty row."""
        for keys, values, (k, v) in zip(self._keys, self._values, layers, strict=True):
            keys[row, :, :tokens] = k[0, :, :tokens]
            values[row, :, :tokens] = v[0, :, :tokens]
        self.lengths[row] = tokens

    def row_kv(self, row: int) -> list[KV]:
        """Copies of a row's keys and values (for the prefix cache to own)."""
        n = self.lengths[row]
        return [(k[row : row + 1, :, :n].clone(), v[row : row + 1, :, :n].clone())
                for k, v in zip(self._keys, self._values, strict=True)]

    # -- forward passes ------------------------------------------------------------------------

    def prefill(self, first: int, tokens: Sequence[int]) -> tuple[torch.Tensor, object]:
        """Prepare one forward over rows ``first, first+1, ...``, row ``i`` bringing
        ``tokens[i]`` new tokens after what it holds, right-padded to the longest: (position
        ids [rows, width], mask). A padded position writes past its row's length, where the
        row's next real token overwrites it before anything attends to it."""
        width = max(tokens)
        starts = torch.tensor(self.lengths[first : first + len(tokens)], device=self._device)
        self._ensure(int(starts.max()) + width)
        positions = starts[:, None] + torch.arange(width, device=self._device)
        rows = self._arange[first : first + len(tokens), None]
        end = int(positions[:, -1].max()) + 1
        self._write = (rows, positions, end, slice(first, first + len(tokens)))
        for i, n in enumerate(tokens):
            self.lengths[first + i] += n
        return positions, self._masks(positions[:, :, None], end, lambda m: m[:, None])

    def decode(self) -> tuple[torch.Tensor, object]:
        """Prepare a forward of one new token for every row: (position ids, mask)."""
        n = self.rows
        positions = torch.tensor(self.lengths, device=self._device)
        end = max(self.lengths) + 1
        self._ensure(end)
        self._write = (self._arange[:n], positions, end, slice(0, n))
        self.lengths = [length + 1 for length in self.lengths]
        return positions[:, None], self._masks(positions[:, None], end, lambda m: m[:, None, None])

    def _masks(self, query: torch.Tensor, end: int, shape) -> object:
        """Boolean masks (True: attend) per layer type; a dict when the model mixes types.
        ``query``: each query's position, broadcast against the key positions ``0..end-1``."""
        keys = torch.arange(end, device=self._device)
        causal = keys <= query
        masks = {FULL: shape(causal)}
        if SLIDING in self.layer_types:
            assert self.window is not None  # _layer_types refuses sliding layers without one
            masks[SLIDING] = shape(causal & (keys > query - self.window))
        if len(set(self.layer_types)) == 1:  # (models of one layer type take a tensor only)
            return masks[self.layer_types[0]]
        return masks

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int,
               *args: object, **kwargs: object) -> KV:
        """Called by each attention layer: store the new positions, return what to attend."""
        keys, values = self._keys[layer_idx], self._values[layer_idx]
        rows, positions, end, view = self._write
        if positions.dim() == 2:  # prefill: [rows, width] positions, states [rows, heads, width, dim]
            keys[rows, :, positions] = key_states.transpose(1, 2)
            values[rows, :, positions] = value_states.transpose(1, 2)
        else:  # decode: one position per row
            keys[rows, :, positions] = key_states[:, :, 0]
            values[rows, :, positions] = value_states[:, :, 0]
        return keys[view, :, :end], values[view, :, :end]

    def _ensure(self, needed: int) -> None:
        """Grow every buffer to hold ``needed`` positions (copying what it holds once)."""
        if needed <= self.capacity:
            return
        capacity = -(-needed // _GROW) * _GROW
        if self._context:
            capacity = max(needed, min(capacity, self._context))
        shape = (self._rows, self._kv_heads, capacity, self._head_dim)
        for buffers in (self._keys, self._values):
            for i in range(len(self.layer_types)):
                # zeros, not empty: a row attends over other rows' longer span under its mask,
                # and uninitialised memory can hold NaN, which a zero weight does not cancel
                grown = torch.zeros(shape, dtype=self._dtype, device=self._device)
                if buffers and self.capacity:
                    grown[:, :, : self.capacity] = buffers[i][:, :, : self.capacity]
                if len(buffers) > i:
                    buffers[i] = grown
                else:
                    buffers.append(grown)
        self.capacity = capacity


def _layer_types(config: PreTrainedConfig) -> list[str]:
    """Each layer's attention type; raises UnsupportedAttention for anything but full and
    sliding-window attention (linear or chunked attention keep other state)."""
    layers = config.num_hidden_layers
    window = getattr(config, "sliding_window", None)
    default = SLIDING if window and getattr(config, "use_sliding_window", True) else FULL
    types = list(getattr(config, "layer_types", None) or [default] * layers)
    unknown = sorted(set(types) - {FULL, SLIDING})
    if unknown or (SLIDING in types and not getattr(config, "sliding_window", None)):
        raise UnsupportedAttention(
            f"이 모델의 어텐션 종류는 지원하지 않습니다: {', '.join(unknown) or SLIDING} "
            "(전체 어텐션과 슬라이딩 윈도우 어텐션만 지원)")
    return types

"""A batch whose rows use different LoRA adapters, as two matmuls per layer.

peft's mixed-batch path (``adapter_names``) splits every LoRA layer's input into one sub-batch
per adapter at every decode step: index lists built in Python, a gather and a scatter per
adapter and layer. On a small model that bookkeeping costs more than the matmuls (a batch over
4 adapters ran 1.45x the time of the same batch on one adapter, nano, eval/bench_adapters.py).

Here each LoRA layer gets, once when ``MixedLora`` is built, all its adapters' A matrices side
by side (in x k*r) and their B matrices stacked, scaling folded in (k*r x out); a row mask keeps
each row's own block of the k*r intermediate. So a decode step costs ``((x @ A) * mask) @ B``
per layer, whatever the adapters, and each row gets exactly its adapter's ``B(A(x)) * scaling``
(a base row: nothing). A prefill (many tokens a row) runs each row through its own A and B
(``bmm`` over per-row weights), so prompts cost one adapter's FLOPs, not all of them. A batch on one adapter uses that adapter's own A and B without a mask:
fewer small ops per layer than peft's own forward (nano, 8 rows: 18% less decode time).
The rows of a running batch change at any decode step (continuous batching), so ``select``
only rebuilds the masks, one per group of layers with the same adapters (the stacking is not
redone). Plain LoRA on Linear layers only; anything else (DoRA, LoRA on embeddings) is what
peft's own path is for, and ``mixable`` says which a model is.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch


def mixable(model: torch.nn.Module) -> bool:
    """Whether every LoRA layer of `model` is a plain LoRA Linear this module can batch."""
    from peft.tuners.lora import Linear, LoraLayer

    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    return all(isinstance(m, Linear) and not m.lora_variant and not m.merged for m in layers)


class MixedLora:
    """Every LoRA Linear of a peft model, patched so that a forward (batch first) runs row i on
    adapter ``names[i]`` of the last ``select`` (``base``: no adapter). ``close`` restores
    peft's own forward."""

    def __init__(self, model: torch.nn.Module, base: str) -> None:
        from peft.tuners.lora import Linear

        self.base = base
        self._groups: dict[tuple, _Group] = {}  # one per set of adapters (and ranks)
        self._patched: list[torch.nn.Module] = []
        for layer in model.modules():
            if not isinstance(layer, Linear):
                continue
            stacks, spans = _stacks(layer)
            key = tuple(spans.items())
            if key not in self._groups:
                some = next(iter(stacks.values()), (torch.empty(0),))[0]
                self._groups[key] = _Group(spans, some.device, some.dtype)
            group = self._groups[key]
            # on purpose: an instance attribute over the class's forward (close() deletes it)
            layer.forward = functools.partial(  # type: ignore[method-assign]
                _forward, layer, stacks, group)
            self._patched.append(layer)

    def select(self, names: Sequence[str]) -> None:
        """The adapter of every row of the next forward passes."""
        for group in self._groups.values():
            group.select(names, self.base)

    def close(self) -> None:
        for layer in self._patched:
            del layer.forward  # the instance attribute; the class's forward shows again
        self._patched.clear()


@contextmanager
def mixed_adapters(model: torch.nn.Module, names: Sequence[str], base: str) -> Iterator[None]:
    """Inside this block, a forward of `model` runs row i on adapter `names[i]` (`base`: no
    adapter); the layers are restored after it, also when the block raises."""
    mixed = MixedLora(model, base)
    try:
        mixed.select(names)
        yield
    finally:
        mixed.close()


_ALL = None  # the key of a layer's stack of every adapter
_PER_ROW = 0  # its (adapters + 1, in, r) and (adapters + 1, r, out) stacks (last: zeros), one rank


@dataclass
class _Group:
    """Layers with the same adapters: what their rows use now. ``adapter``: one adapter for
    every row (its own A and B, no mask); ``mask``: several, over the stack of all; neither:
    the base layer alone."""

    spans: dict[str, tuple[int, int]]  # adapter -> its columns in the stacked A
    device: torch.device
    dtype: torch.dtype
    adapter: str | None = None
    mask: torch.Tensor | None = None
    active: bool = False
    row_index: torch.Tensor | None = None  # with ``mask``: each row's place in the per-row stacks
    _layouts: dict[tuple[str, ...], tuple[torch.Tensor, torch.Tensor]] = field(
        default_factory=dict)  # row layouts seen recently -> (mask, row_index)

    def select(self, names: Sequence[str], base: str) -> None:
        present = [name for name in names if name in self.spans]
        self.active = bool(present)
        self.adapter, self.mask, self.row_index = None, None, None
        if not present:
            return
        if len(present) == len(names) and len(set(present)) == 1:
            self.adapter = present[0]
            return
        key = tuple(names)
        if key not in self._layouts:
            if len(self._layouts) > 256:  # a bound, not a policy
                self._layouts.clear()
            self._layouts[key] = self._layout(names)
        self.mask, self.row_index = self._layouts[key]

    def _layout(self, names: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """The row mask over the stack of all, and each row's adapter in the per-row stacks
        (the last, zeros, for a row without one)."""
        width = max(end for _, end in self.spans.values())
        mask = torch.zeros(len(names), 1, width, device=self.device, dtype=self.dtype)
        for row, name in enumerate(names):
            if name in self.spans:
                start, end = self.spans[name]
                mask[row, 0, start:end] = 1
        order = list(self.spans)
        index = torch.tensor([order.index(n) if n in self.spans else len(order) for n in names],
                             device=self.device)
        return mask, index


def _stacks(layer) -> tuple[dict, dict[str, tuple[int, int]]]:
    """Each adapter's (A^T, B^T * scaling) and all of them stacked (key ``_ALL``), and the
    columns each adapter takes in the stack."""
    stacks, spans = {}, {}
    width = 0
    for name in layer.lora_A:
        a = layer.lora_A[name].weight.t().contiguous()  # (in, r)
        b = (layer.lora_B[name].weight * layer.scaling[name]).t().contiguous()  # (r, out)
        stacks[name] = (a, b)
        spans[name] = (width, width + a.shape[1])
        width += a.shape[1]
    if stacks:
        pairs = list(stacks.values())
        stacks[_ALL] = (torch.cat([a for a, _ in pairs], dim=1),
                        torch.cat([b for _, b in pairs], dim=0))
        if len({a.shape for a, _ in pairs}) == 1:  # one rank: per-row stacks, + zeros for base
            a, b = pairs[0]
            stacks[_PER_ROW] = (torch.stack([*(a for a, _ in pairs), torch.zeros_like(a)]),
                                torch.stack([*(b for _, b in pairs), torch.zeros_like(b)]))
    return stacks, spans


def _forward(layer, stacks: dict, group: _Group, x: torch.Tensor, *args, **kwargs
             ) -> torch.Tensor:
    result = layer.base_layer(x, *args, **kwargs)
    if not group.active:
        return result
    if group.mask is not None and x.dim() == 3 and x.shape[1] > 1 and _PER_ROW in stacks:
        # A prefill of rows on several adapters: each row through its own adapter's A and B.
        # (The stack of all would cost every adapter's FLOPs on every prompt token: a mixed
        # nano prefill took 1.29x a single-adapter one that way. A decode step keeps the
        # stack: per-row weights there are small matrix-vector products, no cheaper.)
        a, b = stacks[_PER_ROW]
        hidden = torch.bmm(x.to(a.dtype), a.index_select(0, group.row_index))
        return result + torch.bmm(hidden, b.index_select(0, group.row_index)).to(result.dtype)
    a, b = stacks[group.adapter]  # (group.adapter None: the stack of all, with the mask)
    hidden = x.to(a.dtype) @ a
    if group.mask is not None:
        hidden.mul_(group.mask if x.dim() == 3 else group.mask[:, 0])
    return result + (hidden @ b).to(result.dtype)

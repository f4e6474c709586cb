"""Shared-prefix KV reuse for the transformers engine (automatic prefix caching).

Why: every request starts with the same system prompt, and questions about one product share the
whole product and shop-policy block; recomputing that prefill for every request is most of the
time to first token on CPU. After each batch the engine stores every row's prompt KV here; a new
request looks up the longest stored prompt it starts with (token by token) and only the rest of
its prompt is prefilled.

How it stays correct:
- An entry belongs to one adapter: LoRA changes the K/V projections, so the same text under
  another adapter is another entry. The engine makes that key (adapter, shop): a prefix one shop
  sent is never reused for another, or a fast answer would tell a shop what another typed.
- A hit always leaves at least one prompt token uncached: the prefill needs one new token to
  produce the first logits.
- Each row looks up its own longest hit (``lookup``); the engine copies that many positions into
  the row's slot of its KV cache (``kv_slots.py``) and prefills the rest at the positions that
  follow, so the row sees exactly the positions it would see without the cache.
- Stored tensors are never written: the engine copies them into its slots, and stores copies of
  a row's prompt KV (``SlotCache.row_kv``).
- Finding the longest hit does not scan the store: every entry is indexed by a hash of each of
  its prefixes that ends on a block boundary (blocks of ``min_tokens`` tokens, each hash
  chained from the one before, as vLLM's prefix caching does). A lookup walks the prompt's own
  block hashes, takes the entry of the longest one found and then compares real token ids, so a
  hash collision can only shorten a hit, never make a wrong one. (A scan over thousands of
  entries cost more than the prefill it saved, on the nano at 16 clients.)
- Only caches made of plain full-attention layers are supported (sliding-window or linear
  attention layers cannot be cut at an arbitrary token); ``supports`` says so up front.

Outputs: the cached KV is the same computation on a different matrix shape, so logits can differ
in the last bits (~1e-6 relative on fp32); greedy outputs are tested to be identical on the nano
and test models.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

if TYPE_CHECKING:
    from transformers import PreTrainedConfig

logger = logging.getLogger(__name__)

KV = tuple[torch.Tensor, torch.Tensor]  # keys, values: [1, kv_heads, tokens, head_dim]
_Key = tuple[Hashable, tuple[int, ...]]  # (adapter, prompt ids)


@dataclass
class PrefixCacheStats:
    """Counters for metrics and the bench (updated in the worker thread)."""

    lookups: int = 0  # prompts looked up
    hits: int = 0  # prompts that reused a prefix
    reused_tokens: int = 0  # prompt tokens not prefilled thanks to the cache
    entries: int = 0
    bytes: int = 0
    evictions: int = 0


@dataclass(frozen=True)
class _Entry:
    ids: torch.Tensor  # int64 [tokens]
    layers: tuple[KV, ...]
    nbytes: int


def supports(config: PreTrainedConfig) -> bool:
    """Whether a model with this config gets a cache of plain full-attention layers."""
    try:
        layers = DynamicCache(config=config).layers
    except Exception:  # an unusual config: play safe
        logger.debug("prefix cache: cannot build a DynamicCache for this config", exc_info=True)
        return False
    return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)


def common_prefix(a: torch.Tensor, b: torch.Tensor) -> int:
    """Length of the common prefix of two 1-D id tensors."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = (a[:n] != b[:n]).nonzero()
    return int(differ[0, 0]) if len(differ) else n


class PrefixCache:
    """LRU store of prompt KV states, bounded in bytes. Used from the engine's single worker
    thread only (no locking)."""

    def __init__(self, max_bytes: int = 256 * 2**20, min_tokens: int = 8) -> None:
        """``min_tokens``: shorter matches are not worth a cache copy and are ignored."""
        if max_bytes < 0 or min_tokens < 1:
            raise ValueError("max_bytes 는 0 이상, min_tokens 는 1 이상이어야 합니다.")
        self.max_bytes = max_bytes
        self.min_tokens = min_tokens
        self.stats = PrefixCacheStats()
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._blocks: dict[tuple[Hashable, int], dict[_Key, None]] = {}  # (adapter, hash) -> keys

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._blocks.clear()
        self.stats.entries = self.stats.bytes = 0

    # -- lookup --------------------------------------------------------------------------------

    def match(self, adapter: Hashable, ids: Sequence[int]) -> tuple[int, _Key | None]:
        """The longest usable cached prefix of ``ids`` under ``adapter``: (length, entry key).
        The length leaves at least the last prompt token uncached; (0, None) on a miss."""
        found = None
        for block_hash in reversed(self._block_hashes(ids)):  # longest first
            keys = self._blocks.get((adapter, block_hash))
            if keys:
                found = next(reversed(keys))  # the newest entry with this prefix
                break
        if found is None:
            return 0, None
        query = torch.as_tensor(list(ids), dtype=torch.long)
        best = min(common_prefix(self._entries[found].ids, query), len(query) - 1)
        if best < self.min_tokens:
            return 0, None
        return best, found

    def _block_hashes(self, ids: Sequence[int]) -> list[int]:
        """Chained hashes of ``ids[:b]`` for every block boundary ``b`` (blocks of
        ``min_tokens``, the last one possibly shorter, so a whole stored prompt is indexed)."""
        hashes, running = [], 0
        for start in range(0, len(ids), self.min_tokens):
            running = hash((running, tuple(ids[start : start + self.min_tokens])))
            hashes.append(running)
        return hashes

    def lookup(self, adapter: Hashable, ids: Sequence[int]) -> tuple[int, tuple[KV, ...]]:
        """The longest usable stored prefix of one prompt: (length, the stored layers, to be
        copied from, never written). (0, ()) on a miss."""
        self.stats.lookups += 1
        length, key = self.match(adapter, ids)
        if key is None:
            return 0, ()
        self._entries.move_to_end(key)  # recently used
        self.stats.hits += 1
        self.stats.reused_tokens += length
        return length, self._entries[key].layers

    def __contains__(self, key: tuple[Hashable, Sequence[int]]) -> bool:
        """Whether (adapter, prompt ids) is stored (so the engine need not copy it out)."""
        adapter, ids = key
        return (adapter, tuple(ids)) in self._entries

    # -- storing -------------------------------------------------------------------------------

    def add(self, adapter: Hashable, ids: Sequence[int], layers: Sequence[KV]) -> None:
        """Store one prompt's KV (tensors of shape [1, kv_heads, len(ids), head_dim], owned by
        the cache from now on). A prompt already stored is only marked as recently used."""
        key = (adapter, tuple(ids))
        if key in self._entries:
            self._entries.move_to_end(key)
            return
        nbytes = sum(k.nbytes + v.nbytes for k, v in layers)
        if nbytes > self.max_bytes or len(ids) < self.min_tokens:
            return
        self._entries[key] = _Entry(torch.as_tensor(list(ids), dtype=torch.long), tuple(layers), nbytes)
        for block_hash in self._block_hashes(ids):
            self._blocks.setdefault((adapter, block_hash), {})[key] = None
        self.stats.bytes += nbytes
        while self.stats.bytes > self.max_bytes:
            old_key, old = self._entries.popitem(last=False)
            self._unindex(old_key)
            self.stats.bytes -= old.nbytes
            self.stats.evictions += 1
        self.stats.entries = len(self._entries)

    def _unindex(self, key: _Key) -> None:
        adapter, ids = key
        for block_hash in self._block_hashes(ids):
            keys = self._blocks.get((adapter, block_hash))
            if keys is not None:
                keys.pop(key, None)
                if not keys:
                    del self._blocks[(adapter, block_hash)]

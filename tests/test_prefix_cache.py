"""Shared-prefix KV reuse: the store itself, the batch layout, and identical greedy outputs of
the transformers engine with the cache on and off (base, adapters, mixed batches)."""

from __future__ import annotations

import asyncio

import pytest
import torch
from transformers import LlamaConfig, MistralConfig

from smallretail_llm.serving.engines.batching import BatchingConfig
from smallretail_llm.serving.engines.engine import GenerationRequest
from smallretail_llm.serving.engines.hf_engine import TransformersEngine
from smallretail_llm.serving.engines.prefix_cache import PrefixCache, common_prefix, supports
from tiny_models import (
    build_lora_adapter,
    build_tiny_model,
    one_thread,  # noqa: F401  (autouse: one torch thread)
)

SYSTEM = "너는 쇼핑몰 고객 상담원이다. [상품 정보]와 [쇼핑몰 정책]에 있는 사실로만 답한다. " * 2
FACTS = "[상품 정보]\n상품명: 청송 꿀사과 2kg\n원산지: 국내산\n보관방법: 냉장 보관\n"


def kv(tokens: int, value: float = 0.0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Two layers of [1, 2 heads, tokens, 4] keys/values (8 * tokens * 4 bytes each)."""
    return [(torch.full((1, 2, tokens, 4), value), torch.full((1, 2, tokens, 4), value + 1))
            for _ in range(2)]


def test_common_prefix_counts_equal_leading_ids():
    a = torch.tensor([1, 2, 3, 4])
    assert common_prefix(a, torch.tensor([1, 2, 9])) == 2
    assert common_prefix(a, torch.tensor([1, 2])) == 2
    assert common_prefix(a, torch.tensor([7])) == 0
    assert common_prefix(a, torch.tensor([], dtype=torch.long)) == 0


def test_match_is_longest_prefix_per_adapter_and_leaves_the_last_token():
    cache = PrefixCache(min_tokens=2)
    cache.add("base", list(range(10)), kv(10))
    cache.add("base", [*range(6), 99, 98], kv(8))
    cache.add("lora", list(range(20)), kv(20))
    assert cache.match("base", [*range(8), 50])[0] == 8
    assert cache.match("base", [*range(6), 99, 98, 97])[0] == 8
    assert cache.match("base", list(range(10)))[0] == 9  # the same prompt: one token left to run
    assert cache.match("base", [5, 6, 7]) == (0, None)
    assert cache.match("other", list(range(10))) == (0, None)  # KV of one adapter only
    assert cache.match("base", [0, 1, 2, 3])[0] == 3


def test_short_matches_are_ignored():
    cache = PrefixCache(min_tokens=8)
    cache.add("base", list(range(10)), kv(10))
    assert cache.match("base", [*range(7), 100, 101]) == (0, None)
    assert cache.match("base", [*range(8), 100])[0] == 8


def test_eviction_keeps_the_byte_budget_and_drops_the_least_recently_used():
    entry_bytes = 2 * 2 * (2 * 10 * 4) * 4  # layers * (k, v) * elements * fp32
    cache = PrefixCache(max_bytes=2 * entry_bytes, min_tokens=2)
    cache.add("base", list(range(10)), kv(10))
    cache.add("base", list(range(100, 110)), kv(10))
    cache.lookup("base", [*range(10), 5])  # the first entry is used again
    cache.add("base", list(range(200, 210)), kv(10))
    assert cache.stats.bytes == 2 * entry_bytes and cache.stats.evictions == 1
    assert cache.match("base", [*range(10), 5])[0] == 10
    assert cache.match("base", [*range(100, 110), 5]) == (0, None)
    cache.add("base", list(range(300, 400)), kv(100))  # larger than the whole budget: not stored
    assert len(cache) == 2


def test_lookup_gives_each_prompt_its_own_longest_hit():
    cache = PrefixCache(min_tokens=2)
    cache.add("a", list(range(10)), kv(10, 1.0))
    cache.add("b", list(range(10)), kv(10, 5.0))
    length, layers = cache.lookup("a", [*range(6), 50, 51])
    assert length == 6 and layers[0][0].unique().tolist() == [1.0]
    length, layers = cache.lookup("b", [*range(9), 60])
    assert length == 9 and layers[0][0].unique().tolist() == [5.0]
    assert cache.lookup("a", [9, 9, 9]) == (0, ())
    assert (cache.stats.lookups, cache.stats.hits, cache.stats.reused_tokens) == (3, 2, 15)
    assert ("a", list(range(10))) in cache and ("a", list(range(9))) not in cache


def test_only_full_attention_caches_are_supported():
    small = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 2, "vocab_size": 50}
    assert supports(LlamaConfig(**small))
    assert not supports(MistralConfig(sliding_window=8, **small))


# -- the engine --------------------------------------------------------------------------------



@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("prefix")
    base = build_tiny_model(root / "base", seed=0)
    return {"base": base, "a1": build_lora_adapter(base, root / "a1", seed=1)}


def ask(question: str, adapter: str | None = None, n: int = 12) -> GenerationRequest:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": FACTS + question}]
    return GenerationRequest(messages=messages, adapter=adapter, max_new_tokens=n, ignore_eos=True)


def outputs(engine: TransformersEngine, requests: list[GenerationRequest], batched: bool):
    """Token ids of each request (the engine stays open: each asyncio.run rebinds it)."""
    async def main():
        if batched:
            return await asyncio.gather(*(engine.generate(r) for r in requests))
        return [await engine.generate(r) for r in requests]

    return [r.token_ids for r in asyncio.run(main())]


def engines(models, **kwargs) -> tuple[TransformersEngine, TransformersEngine]:
    batching = BatchingConfig(max_batch_size=8, max_wait_ms=50)
    make = lambda mb: TransformersEngine(models["base"], num_threads=1, batching=batching,
                                         prefix_cache_mb=mb, **kwargs)
    return make(0), make(64)


QUESTIONS = ["보관 방법 알려주세요", "배송비 얼마예요?", "소비기한이 언제까지예요? 냉장인가요?", "원산지요"]


def test_greedy_outputs_are_identical_with_the_cache_one_at_a_time(models):
    off, on = engines(models)
    assert off.prefix_cache is None and on.prefix_cache is not None
    requests = [ask(q) for q in QUESTIONS] + [ask(QUESTIONS[0])]
    assert outputs(on, requests, batched=False) == outputs(off, requests, batched=False)
    stats = on.prefix_cache.stats
    assert stats.hits == len(requests) - 1  # every request after the first shares the prefix
    assert stats.reused_tokens > 40 * stats.hits


def test_greedy_outputs_are_identical_with_the_cache_in_a_padded_batch(models):
    off, on = engines(models)
    warm = [ask("안녕하세요")]
    requests = [ask(q) for q in QUESTIONS]  # different lengths: padding between prefix and rest

    async def main(engine):
        await engine.generate(warm[0])
        return [r.token_ids for r in await asyncio.gather(*(engine.generate(r) for r in requests))]

    assert asyncio.run(main(on)) == asyncio.run(main(off))
    assert max(on.metrics.step_rows) == 4  # the four rows decoded together
    assert on.prefix_cache.stats.hits == 4  # each on the warm request's prefix


def test_adapters_keep_their_own_prefix_kv_in_mixed_batches(models):
    off, on = engines(models, adapters={"a1": models["a1"]})
    requests = [ask(q, adapter) for q in QUESTIONS[:2] for adapter in (None, "a1")]
    first = outputs(on, requests, batched=False)
    assert first == outputs(off, requests, batched=False)
    assert first[0] != first[1]  # the adapter changes the output, so the check means something
    assert len(on.prefix_cache) == 4
    off2, on2 = engines(models, adapters={"a1": models["a1"]})
    for engine in (on2, off2):
        outputs(engine, requests[:2], batched=False)  # store base and a1 prompts
    assert outputs(on2, requests, batched=True) == outputs(off2, requests, batched=True) == first


def test_clear_prefix_cache_forgets_everything(models):
    _, on = engines(models)
    outputs(on, [ask("안녕하세요")], batched=False)
    assert len(on.prefix_cache) == 1
    on.clear_prefix_cache()
    assert len(on.prefix_cache) == 0 and on.prefix_cache.stats.bytes == 0


def test_the_model_is_loaded_in_the_thread_that_generates(models):
    """One OpenMP team: loading in the main thread and generating in the worker made decoding
    20-35% slower on 2 cores (see Batcher.run_in_worker)."""
    import threading

    _, on = engines(models)
    worker = on._batcher.run_in_worker(threading.get_ident)
    assert worker != threading.get_ident()
    seen: list[int] = []
    run_batch = on._run_batch

    def spy(jobs, intake):
        seen.append(threading.get_ident())
        return run_batch(jobs, intake)

    on._batcher._run_batch = spy
    outputs(on, [ask("안녕하세요")], batched=False)
    assert seen == [worker]

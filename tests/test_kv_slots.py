"""The slot KV cache (kv_slots.py): rows written in place at their own positions, views that
are slices of the buffers (no copy per step), rows leaving and growing; and the engine's greedy
output equal to transformers' own ``generate`` on full, sliding-window and mixed-layer models."""

from __future__ import annotations

import asyncio

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    GenerationConfig,
    LlamaConfig,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from smallretail_llm.serving.engines.batching import BatchingConfig
from smallretail_llm.serving.engines.engine import GenerationRequest
from smallretail_llm.serving.engines.hf_engine import TransformersEngine
from smallretail_llm.serving.engines.kv_slots import SlotCache, UnsupportedAttention
from tiny_models import build_tiny_model, build_tokenizer, one_thread  # noqa: F401

SMALL = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 50}


def slots(rows: int = 3, **config) -> SlotCache:
    return SlotCache(LlamaConfig(**{**SMALL, **config}), rows, dtype=torch.float32,
                     device=torch.device("cpu"))


def kv(rows: int, tokens: int, value: float) -> torch.Tensor:
    return torch.full((rows, 2, tokens, 4), value)  # [rows, kv heads, tokens, head_dim]


def test_decode_writes_each_row_at_its_own_position_into_a_slice_view():
    cache = slots()
    for row, tokens in enumerate((3, 1)):
        cache.add_row(tokens + 4)
        cache.prefill(row, [tokens])
        cache.update(kv(1, tokens, row + 1.0), kv(1, tokens, -row - 1.0), 0)
    positions, mask = cache.decode()
    assert positions.tolist() == [[3], [1]] and cache.lengths == [4, 2]
    keys, _ = cache.update(kv(2, 1, 9.0), kv(2, 1, -9.0), 0)
    assert keys.shape == (2, 2, 4, 4)
    assert keys.data_ptr() == cache._keys[0].data_ptr()  # a view of the buffer, not a copy
    assert keys[0, 0, :, 0].tolist() == [1, 1, 1, 9]
    assert keys[1, 0, :2, 0].tolist() == [2, 9]
    assert mask.shape == (2, 1, 1, 4)
    assert mask[:, 0, 0].tolist() == [[True] * 4, [True, True, False, False]]


def test_rows_joining_together_are_prefilled_in_one_right_padded_forward():
    cache = slots()
    cache.add_row(8)
    cache.prefill(0, [2])
    cache.update(kv(1, 2, 1.0), kv(1, 2, 1.0), 0)  # row 0 holds 2 tokens (a cached prefix, say)
    cache.add_row(8)
    positions, mask = cache.prefill(0, [1, 3])  # row 0: one more token; row 1: three
    assert positions.tolist() == [[2, 3, 4], [0, 1, 2]] and cache.lengths == [3, 3]
    keys, _ = cache.update(torch.stack([kv(1, 3, 5.0)[0], kv(1, 3, 7.0)[0]]), kv(2, 3, 0.0), 0)
    assert keys.shape == (2, 2, 5, 4)
    assert keys[0, 0, :3, 0].tolist() == [1, 1, 5]  # its one real token after its own two
    assert keys[1, 0, :3, 0].tolist() == [7, 7, 7]
    assert mask.shape == (2, 1, 3, 5)
    assert mask[0, 0].int().tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]
    assert mask[1, 0].int().tolist() == [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0]]


def test_a_leaving_row_is_replaced_by_the_last_and_growth_keeps_what_is_held():
    cache = slots()
    for row, value in enumerate((1.0, 2.0, 3.0)):
        cache.add_row(4)
        cache.prefill(row, [2 + row])
        cache.update(kv(1, 2 + row, value), kv(1, 2 + row, value), 1)
    cache.remove_row(0)
    assert cache.lengths == [4, 3]
    assert cache._keys[1][0, 0, :4, 0].tolist() == [3.0] * 4
    before = cache.capacity
    cache.add_row(before + 10)  # more than the buffers hold: they grow
    assert cache.capacity >= before + 10 and cache.lengths == [4, 3, 0]
    assert cache._keys[1][0, 0, :4, 0].tolist() == [3.0] * 4
    with pytest.raises(RuntimeError, match="KV 슬롯이 모두 찼습니다"):
        cache.add_row(4)


def test_masks_are_causal_per_row_and_hide_what_lies_outside_a_window():
    cache = SlotCache(Qwen2Config(**SMALL, use_sliding_window=True, sliding_window=2,
                                  max_window_layers=1), 1, dtype=torch.float32,
                      device=torch.device("cpu"))
    assert cache.layer_types == ["full_attention", "sliding_attention"]
    cache.add_row(8)
    _, masks = cache.prefill(0, [4])
    assert masks["full_attention"][0, 0].int().tolist() == [
        [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    assert masks["sliding_attention"][0, 0].int().tolist() == [
        [1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]


def test_other_attention_kinds_are_refused_with_a_clear_error():
    with pytest.raises(UnsupportedAttention, match="linear_attention"):
        slots(layer_types=["full_attention", "linear_attention"])


# -- the engine against transformers' generate -------------------------------------------------

PROMPTS = ["안녕하세요", "사과 1kg 얼마예요? 배송은 언제 되나요? 냉장인가요?", "hello"]


def qwen_with_windows(out, tokenizer) -> None:
    """A tiny Qwen2 whose second layer attends over a 6-token window (prompts are longer)."""
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         use_sliding_window=True, sliding_window=6, max_window_layers=1,
                         max_position_embeddings=512, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


@pytest.mark.parametrize("kind", ["llama", "qwen2-sliding", "llama-repetition-penalty"])
def test_engine_greedy_equals_transformers_generate(tmp_path, kind):
    if kind.startswith("llama"):
        path = build_tiny_model(tmp_path / kind, seed=0)
    else:
        path = tmp_path / kind
        qwen_with_windows(path, build_tokenizer())
    penalty = 1.3 if kind.endswith("penalty") else None
    if penalty:  # as Qwen's own generation_config.json sets one
        config = GenerationConfig.from_pretrained(path)
        config.repetition_penalty = penalty
        config.save_pretrained(path)
    engine = TransformersEngine(path, num_threads=1, prefix_cache_mb=0,
                                batching=BatchingConfig(max_wait_ms=50))
    requests = [GenerationRequest(messages=[{"role": "user", "content": p}], max_new_tokens=24,
                                  ignore_eos=True) for p in PROMPTS]

    async def together():
        try:
            return await asyncio.gather(*(engine.generate(r) for r in requests))
        finally:
            await engine.aclose()

    results = asyncio.run(together())
    assert max(engine.metrics.step_rows) == len(PROMPTS)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    for request, result in zip(requests, results, strict=True):
        text = engine.tokenizer.apply_chat_template(list(request.messages), tokenize=False,
                                                    add_generation_prompt=True)
        ids = engine.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            out = model.generate(ids, max_new_tokens=24, do_sample=False, eos_token_id=[],
                                 pad_token_id=engine.tokenizer.pad_token_id,
                                 repetition_penalty=penalty)
        assert list(result.token_ids) == out[0, ids.shape[1]:].tolist()

"""The llama.cpp engine's continuous batching (``llama_steps.py``): several requests share one
``llama_decode`` per step, a request joins a running batch, and prompt KV is reused within a
tenant only, without changing a single token. Needs llama-cpp-python and the GGUF converter
(``make llama``); skipped otherwise."""

from __future__ import annotations

import asyncio
import importlib.util
import os
from dataclasses import replace

import pytest

from smallretail_llm.serving.engines.batching import BatchingConfig
from smallretail_llm.serving.engines.engine import GenerationRequest
from smallretail_llm.serving.engines.hf_engine import TransformersEngine
from tiny_models import build_nano_tiny, one_thread  # noqa: F401  (autouse: one torch thread)
from tiny_models import run_and_close as run

pytestmark = pytest.mark.skipif(
    not os.environ.get("LLAMA_CPP_CONVERTER") or importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python 과 LLAMA_CPP_CONVERTER(convert_hf_to_gguf.py)가 필요함")

SYSTEM = "너는 쇼핑몰 고객 상담원이다. 상품 정보에 있는 사실로만 답한다."
QUESTIONS = ("배송비 얼마예요?", "보관 방법은요?", "사과 3kg 가격 알려 주세요", "원산지는요?")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from smallretail_llm.models.export import gguf_file

    model = build_nano_tiny(tmp_path_factory.mktemp("llama") / "tiny")
    return model, gguf_file(model, "f32", tmp_path_factory.mktemp("gguf"))


def ask(question: str, **kwargs) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "system", "content": SYSTEM},
                                       {"role": "user", "content": question}],
                             max_new_tokens=kwargs.pop("max_new_tokens", 10), ignore_eos=True,
                             **kwargs)


def llama(tiny, **kwargs):
    from smallretail_llm.serving.engines.llama_engine import LlamaCppEngine

    model, gguf = tiny
    return LlamaCppEngine(gguf, tokenizer=model, num_threads=1, **kwargs)


def decoded_tokens(engine) -> list[int]:
    """Record how many tokens each ``llama_decode`` call takes (prefix reuse shows here)."""
    calls: list[int] = []
    context = engine._llama
    decode = context.decode

    def counting(parts):
        calls.append(sum(len(tokens) for _, _, tokens in parts))
        return decode(parts)

    context.decode = counting
    return calls


def test_concurrent_requests_share_steps_and_write_what_transformers_writes(tiny):
    engine = llama(tiny, batching=BatchingConfig(max_batch_size=4, max_wait_ms=50))
    requests = [ask(q, max_new_tokens=6 + 3 * i) for i, q in enumerate(QUESTIONS)]

    async def main():
        return await asyncio.gather(*(engine.generate(r) for r in requests)), \
            engine.metrics.snapshot()

    results, metrics = run(engine, main)
    reference = TransformersEngine(tiny[0], num_threads=1, prefix_cache_mb=0)
    alone = run(reference, lambda: asyncio.gather(*(reference.generate(r) for r in requests)))
    assert [r.token_ids for r in results] == [r.token_ids for r in alone]
    assert [r.completion_tokens for r in results] == [6, 9, 12, 15]  # each row its own length
    assert metrics["batches_total"] == 1
    assert metrics["step_rows"][4] >= 5  # the four rows decoded together


def test_a_request_arriving_during_a_long_batch_is_answered_before_it_ends(tiny):
    engine = llama(tiny)
    long, short = ask("안녕하세요", max_new_tokens=150), ask("배송 문의", max_new_tokens=4)

    async def main():
        long_task = asyncio.create_task(engine.generate(long))
        while engine.metrics.snapshot()["batches_total"] == 0 or not engine._steps._sequences[0].busy:
            await asyncio.sleep(0)  # the long row is decoding
        result = await engine.generate(short)
        return result, long_task.done(), await long_task, engine.metrics.snapshot()

    result, long_done, long_result, metrics = run(engine, main)
    assert not long_done and long_result.completion_tokens == 150
    assert metrics["joined_total"] == 1 and metrics["batches_total"] == 1
    alone = llama(tiny)
    assert result.token_ids == run(alone, lambda: alone.generate(short)).token_ids


def test_prompt_kv_is_reused_within_a_tenant_only_and_changes_no_token(tiny):
    engine = llama(tiny)
    calls = decoded_tokens(engine)
    first, again = ask("배송비 얼마예요?", tenant="a"), ask("배송비 얼마예요? 빨리요", tenant="a")

    async def main():
        results = [await engine.generate(first)]
        prompt = calls[0]
        calls.clear()
        results.append(await engine.generate(again))
        reused = calls[0]
        calls.clear()
        results.append(await engine.generate(replace(again, tenant="b")))
        return results, prompt, reused, calls[0]

    results, whole, reused, other_tenant = run(engine, main)
    assert reused < whole / 2  # the system prompt and the question's start were cached
    assert other_tenant > whole  # another shop's cached prompt is not used
    cold = llama(tiny)
    assert results[1].token_ids == run(cold, lambda: cold.generate(again)).token_ids
    assert results[2].token_ids == results[1].token_ids


def test_sampled_rows_are_reproducible_with_a_seed(tiny):
    engine = llama(tiny)
    request = ask("보관 방법은요?", temperature=1.0, top_p=0.9, seed=3, max_new_tokens=12)

    async def main():
        return await asyncio.gather(engine.generate(request), engine.generate(request))

    first, second = run(engine, main)
    assert first.token_ids == second.token_ids


def test_the_models_repetition_penalty_applies_as_in_transformers(tiny, tmp_path):
    """A penalty in the model's generation_config.json (Qwen2.5-Instruct ships 1.05) is read
    from the folder beside the GGUF's tokenizer: greedy tokens equal transformers' again."""
    import json
    import shutil

    model, gguf = tiny
    folder = shutil.copytree(model, tmp_path / "penalised")
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "repetition_penalty": 100.0}))
    request = ask("배송비 얼마예요?", max_new_tokens=16)
    plain = llama((model, gguf))
    plain_result = run(plain, lambda: plain.generate(request))
    penalised = llama((folder, gguf))
    ours = run(penalised, lambda: penalised.generate(request))
    reference = TransformersEngine(folder, num_threads=1, prefix_cache_mb=0)
    theirs = run(reference, lambda: reference.generate(request))
    assert ours.token_ids == theirs.token_ids
    assert ours.token_ids != plain_result.token_ids  # (the penalty changed what it wrote)

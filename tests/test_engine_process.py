"""The local engine in a process of its own (``engine_process.ProcessEngine``), on tiny models:
the same outputs as in one process, errors before queueing, the queue bound, cancellation,
and an engine process that dies."""

from __future__ import annotations

import asyncio

import pytest
from transformers import AutoTokenizer

from fake_engine import shop_policy, tofu
from smallretail_llm.data.prompts import PROMPT_VERSIONS
from smallretail_llm.serving import assistant
from smallretail_llm.serving.api import server
from smallretail_llm.serving.engines.engine import (
    Engine,
    EngineUnavailable,
    GenerationRequest,
    QueueFull,
    UnknownAdapter,
)
from smallretail_llm.serving.engines.engine_process import ProcessEngine
from smallretail_llm.serving.engines.hf_engine import TransformersEngine
from smallretail_llm.serving.settings import Settings
from smallretail_llm.training import sft as training
from tiny_models import build_lora_adapter, build_tiny_model
from tiny_models import run_and_close as run


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    base = build_tiny_model(root / "base", seed=0)
    adapter = build_lora_adapter(base, root / "a1", seed=1)
    versions = [f"{task}.{version}" for task, version in PROMPT_VERSIONS.items()]
    training.write_adapter_metadata(adapter, versions, AutoTokenizer.from_pretrained(base), str(base))
    return {"base": base, "a1": adapter}


def settings(models, **kwargs) -> Settings:
    values = {"model": str(models["base"]), "adapter": f"a1={models['a1']}", "device": "cpu",
              "num_threads": 1, "max_new_tokens": 1000, "prefix_cache_mb": 0} | kwargs
    return Settings(**values)


@pytest.fixture(scope="module")
def engine(models):
    process = ProcessEngine(settings(models, batch_size=1, queue_size=1))
    yield process
    asyncio.run(process.aclose())


def chat(text: str, **kwargs) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}], **kwargs)


def test_the_engine_process_writes_what_the_engine_writes_in_one_process(models):
    """Greedy drafts of the assistant (record constraint and fail-fast check pickled across),
    concurrent, base and adapter rows mixed: token for token the in-process engine's."""
    record, policy = tofu(), shop_policy()

    async def drafts(engine: Engine) -> list:
        with_adapter = assistant.GenerationOptions(adapter="a1", max_new_tokens=24)
        return await asyncio.gather(
            assistant.describe(engine, record, "intro", "polite", policy, max_regenerations=0),
            assistant.describe(engine, record, "seo", "friendly", policy, max_regenerations=0,
                               options=with_adapter),
            engine.generate(chat("사과 1kg 얼마예요?", max_new_tokens=30, ignore_eos=True)),
            engine.generate(chat("안녕하세요", max_new_tokens=9, adapter="a1")),
        )

    process = ProcessEngine(settings(models, batch_size=4))
    assert isinstance(process, Engine) and process.ready
    assert process.model_names() == ["base", "a1"]
    in_process = TransformersEngine(models["base"], adapters={"a1": models["a1"]}, num_threads=1,
                                    max_new_tokens=1000, prefix_cache_mb=0)
    there, here = run(process, lambda: drafts(process)), run(in_process, lambda: drafts(in_process))
    assert there[2].token_ids == here[2].token_ids and there[2].completion_tokens == 30
    assert there[3].token_ids == here[3].token_ids and there[3].model == "a1"
    for a, b in zip(there[:2], here[:2], strict=True):
        assert (a.text, a.source, a.usage, a.drafts) == (b.text, b.source, b.usage, b.drafts)
        assert a.usage.completion_tokens > 0
    assert process.metrics.completion_tokens_total == in_process.metrics.completion_tokens_total
    assert not process.ready  # closed


def test_stream_and_bad_requests_refused_before_anything_is_queued(engine):
    async def main():
        stream = engine.stream(chat("사과 배송 문의", max_new_tokens=12, ignore_eos=True))
        text = "".join([delta async for delta in stream])
        with pytest.raises(UnknownAdapter, match="other"):
            engine.stream(chat("안녕", adapter="other"))
        with pytest.raises(ValueError, match="프롬프트가 너무 깁니다"):
            engine.stream(GenerationRequest(prompt="사과 " * 2000))
        return text, stream.result

    text, result = asyncio.run(main())
    assert text == result.text and result.completion_tokens == 12


def test_the_batch_gauges_reach_the_api_after_the_last_answer(engine):
    """A cancelled row leaves the batch after its caller has gone (no answer carries the
    metrics then): the engine process sends changed metrics by itself, so the gauges settle."""
    before = engine.metrics.finish_reasons.get("cancelled", 0)

    async def main():
        stream = engine.stream(chat("안녕", max_new_tokens=1000, ignore_eos=True))
        await anext(stream)
        await stream.aclose()
        for _ in range(200):  # the engine sends changed metrics every 0.5 s
            metrics = engine.metrics
            if metrics.finish_reasons.get("cancelled", 0) > before and metrics.running == 0:
                return metrics
            await asyncio.sleep(0.05)
        raise AssertionError(f"the gauges never settled: {engine.metrics}")

    metrics = asyncio.run(main())
    assert (metrics.running, metrics.queue_depth) == (0, 0)


def test_queue_bound_and_cancelled_rows_free_their_place(engine):
    """batch 1 + queue 1: two requests in flight, the third is refused at once (QueueFull, as
    in one process); cancelling the two stops the running row early and frees both places."""
    before = engine.metrics

    async def main():
        running = engine.stream(chat("안녕", max_new_tokens=1000, ignore_eos=True))
        waiting = engine.stream(chat("다음", max_new_tokens=1000, ignore_eos=True))
        await anext(running)  # the first row is decoding
        with pytest.raises(QueueFull):
            engine.stream(chat("하나 더", max_new_tokens=4))
        await running.aclose()
        await waiting.aclose()
        return await engine.generate(chat("다시", max_new_tokens=4, ignore_eos=True))

    after = asyncio.run(main())
    assert after.completion_tokens == 4
    metrics = engine.metrics
    assert metrics.rejected_total - before.rejected_total == 1
    cancelled = metrics.finish_reasons["cancelled"] - before.finish_reasons.get("cancelled", 0)
    assert cancelled == 2
    generated = metrics.completion_tokens_total - before.completion_tokens_total
    assert generated < 1000  # the cancelled row stopped long before its limit


def test_a_dead_engine_process_fails_its_requests_and_is_not_ready(models):
    process = ProcessEngine(settings(models))

    async def main():
        stream = process.stream(chat("안녕", max_new_tokens=1000, ignore_eos=True))
        await anext(stream)
        process._process.kill()
        with pytest.raises(EngineUnavailable, match="엔진 프로세스가 종료되었습니다"):
            async for _ in stream:
                pass
        assert not process.ready
        with pytest.raises(EngineUnavailable):
            await process.generate(chat("다음"))

    run(process, main)


def test_a_model_that_fails_to_load_is_raised_in_the_api_process(models, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{", encoding="utf-8")
    with pytest.raises(Exception, match="config.json|JSON|Expecting"):
        ProcessEngine(settings(models, model=str(broken), adapter={}))


def test_serve_runs_local_engines_in_their_own_process_unless_told_not_to(models, monkeypatch):
    from smallretail_llm.serving.engines import engine_process

    made = []
    monkeypatch.setattr(engine_process, "ProcessEngine", lambda s: made.append(s) or "process")
    monkeypatch.setattr(server, "build_engine", lambda s: "in process")
    assert server.serving_engine(settings(models)) == "process"
    assert server.serving_engine(settings(models, engine_process=False)) == "in process"
    remote = Settings(engine="remote", remote_url="http://vllm:8000/v1", model="m")
    assert server.serving_engine(remote) == "in process"
    assert made == [settings(models)]

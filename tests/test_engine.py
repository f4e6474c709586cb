"""TransformersEngine on tiny random models: batching, adapters, streaming, limits, errors."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from smallretail_llm.serving.engines.batching import BatchingConfig
from smallretail_llm.serving.engines.engine import Engine, GenerationRequest, UnknownAdapter
from smallretail_llm.serving.engines.hf_engine import IncrementalDecoder, TransformersEngine
from tiny_models import (
    REPLY_PROMPT,
    build_lora_adapter,
    build_tiny_model,
    build_tokenizer,
    one_thread,  # noqa: F401  (autouse: one torch thread)
)
from tiny_models import run_and_close as run

REPLY = "국내산 사과 1kg, 냉장 보관하세요."



@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    base = build_tiny_model(root / "base", seed=0)
    return {
        "base": base,
        "a1": build_lora_adapter(base, root / "a1", seed=1),
        "a2": build_lora_adapter(base, root / "a2", seed=2),
        "dora": build_lora_adapter(base, root / "dora", seed=3, use_dora=True),
        "korean": build_tiny_model(root / "korean", seed=1, reply=REPLY),
    }


def make_engine(path, **kwargs) -> TransformersEngine:
    return TransformersEngine(path, num_threads=1, **kwargs)


def chat(text: str, **kwargs) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}], **kwargs)


def test_batched_greedy_equals_one_at_a_time(models):
    engine = make_engine(models["base"], batching=BatchingConfig(max_wait_ms=50))
    requests = [
        chat("안녕하세요", max_new_tokens=12, ignore_eos=True),
        chat("사과 1kg 얼마예요? 배송은 언제 되나요?", max_new_tokens=20, ignore_eos=True),
        GenerationRequest(prompt="hello world", max_new_tokens=7, ignore_eos=True),
        chat("유기농 현미 4kg 보관 방법 알려 주세요. 알레르기 성분도요.", max_new_tokens=16),
    ]

    async def both():
        alone = [await engine.generate(r) for r in requests]
        steps_alone.update(engine.metrics.step_rows)
        together = await asyncio.gather(*(engine.generate(r) for r in requests))
        return alone, together

    steps_alone: dict[int, int] = {}

    alone, together = run(engine, both)
    for one, batched, request in zip(alone, together, requests, strict=True):
        assert batched.token_ids == one.token_ids
        assert batched.text == one.text
        assert (batched.finish_reason, batched.prompt_tokens) == (
            one.finish_reason,
            one.prompt_tokens,
        )
        if request.ignore_eos:
            assert (one.completion_tokens, one.finish_reason) == (request.max_new_tokens, "length")
    assert set(steps_alone) == {1}  # one at a time: every decode step ran one row
    assert max(engine.metrics.step_rows) == 4  # together: the four rows shared decode steps
    assert engine.metrics.completion_tokens_total == 2 * sum(r.completion_tokens for r in alone)


def test_adapters_and_base_mixed_in_one_batch_match_each_run_alone(models):
    engine = TransformersEngine(
        models["base"],
        adapters={"a1": models["a1"], "a2": models["a2"]},
        name="tiny",
        batching=BatchingConfig(max_batch_size=9, max_wait_ms=50),
    )
    assert engine.model_names() == ["tiny", "a1", "a2"]
    texts = ["상품 설명", "배송 문의", "반품 되나요"]
    requests = [
        chat(text, adapter=adapter, max_new_tokens=10, ignore_eos=True)
        for text in texts
        for adapter in (None, "a1", "a2")
    ]

    async def both():
        alone = [await engine.generate(r) for r in requests]
        steps_alone.update(engine.metrics.step_rows)
        together = await asyncio.gather(*(engine.generate(r) for r in requests))
        return alone, together

    steps_alone: dict[int, int] = {}

    alone, together = run(engine, both)
    assert [r.token_ids for r in together] == [r.token_ids for r in alone]
    assert [r.model for r in together] == ["tiny", "a1", "a2"] * 3
    assert set(steps_alone) == {1}
    assert max(engine.metrics.step_rows) == 9  # base, a1 and a2 rows in the same decode steps
    for i in range(0, 9, 3):  # the adapters really change the output, so the check means something
        base, a1, a2 = (alone[i + k].token_ids for k in range(3))
        assert base != a1 and base != a2 and a1 != a2


def test_adapters_peft_cannot_mix_are_batched_per_adapter(models):
    engine = make_engine(
        models["base"], adapters={"d": models["dora"]}, batching=BatchingConfig(max_wait_ms=50)
    )
    requests = [
        chat(text, adapter=adapter, max_new_tokens=8, ignore_eos=True)
        for text in ("상품 설명", "배송 문의")
        for adapter in (None, "d")
    ]

    async def both():
        alone = [await engine.generate(r) for r in requests]
        steps_alone.update(engine.metrics.step_rows)
        together = await asyncio.gather(*(engine.generate(r) for r in requests))
        return alone, together

    steps_alone: dict[int, int] = {}

    alone, together = run(engine, both)
    assert [r.token_ids for r in together] == [r.token_ids for r in alone]
    assert set(steps_alone) == {1}
    assert max(engine.metrics.step_rows) == 2  # DoRA rows and base rows apart
    assert alone[0].token_ids != alone[1].token_ids


def test_streaming_korean_never_splits_a_character(models):
    engine = make_engine(models["korean"])
    request = GenerationRequest(messages=REPLY_PROMPT, max_new_tokens=64)

    async def both():
        stream = engine.stream(request)
        chunks = [chunk async for chunk in stream]
        return chunks, stream.result, await engine.generate(request)

    chunks, streamed, whole = run(engine, both)
    assert whole.text == REPLY and whole.finish_reason == "stop"
    assert "".join(chunks) == whole.text
    assert streamed == whole
    assert len(chunks) > 5
    assert not any("\ufffd" in chunk for chunk in chunks)
    # the byte-level tokenizer does split these characters: the hold-back was needed
    assert whole.completion_tokens > len(REPLY)


def test_stop_string_cuts_text_in_stream_and_whole(models):
    engine = make_engine(models["korean"])
    request = GenerationRequest(messages=REPLY_PROMPT, stop=["사과", "없는말"])

    async def both():
        stream = engine.stream(request)
        chunks = [chunk async for chunk in stream]
        return chunks, await engine.generate(request)

    chunks, whole = run(engine, both)
    assert (whole.text, whole.finish_reason) == ("국내산 ", "stop")
    assert "".join(chunks) == "국내산 "


def test_max_new_tokens_is_capped_by_the_engine(models):
    engine = make_engine(models["base"], max_new_tokens=5)
    result = run(engine, lambda: engine.generate(chat("안녕", max_new_tokens=100, ignore_eos=True)))
    assert (result.completion_tokens, result.finish_reason) == (5, "length")


def test_unknown_adapter_is_a_clear_key_error(models):
    engine = make_engine(models["base"], adapters={"a1": models["a1"]})

    async def main():
        with pytest.raises(UnknownAdapter) as info:
            await engine.generate(chat("안녕", adapter="shop-x"))
        with pytest.raises(KeyError):
            engine.stream(chat("안녕", adapter="shop-x"))
        return info.value

    error = run(engine, main)
    assert str(error) == "알 수 없는 어댑터입니다: 'shop-x' (사용 가능: a1)"
    assert (error.name, error.available) == ("shop-x", ["a1"])


def test_timeout_during_generation_returns_partial_text(models):
    ticks = itertools.count()  # a fake clock: every reading is one second later
    engine = make_engine(models["base"], clock=lambda: float(next(ticks)))
    request = chat("안녕", max_new_tokens=50, ignore_eos=True, timeout_s=5)
    result = run(engine, lambda: engine.generate(request))
    assert result.finish_reason == "timeout"
    assert result.completion_tokens < 50


def holding_clock(read: int) -> tuple:
    """A clock (always 0) that holds the generation worker at its ``read``-th reading (one per
    token of a request with a timeout) until ``release`` is set: (clock, reached, release)."""
    reached, release = threading.Event(), threading.Event()
    worker_reads = itertools.count(1)

    def clock() -> float:
        in_worker = threading.current_thread() is not threading.main_thread()
        if in_worker and next(worker_reads) == read:
            reached.set()
            release.wait(10)
        return 0.0

    return clock, reached, release


def test_cancelling_a_stream_stops_its_row(models):
    clock, reached, release = holding_clock(3)  # held until the stream is cancelled
    engine = make_engine(models["base"], max_new_tokens=200, clock=clock)

    async def main():
        stream = engine.stream(chat("안녕", max_new_tokens=200, ignore_eos=True, timeout_s=1e6))
        assert await asyncio.to_thread(reached.wait, 10)
        await stream.aclose()
        release.set()
        return await engine.generate(chat("다음", max_new_tokens=4, ignore_eos=True))

    after = run(engine, main)
    assert after.completion_tokens == 4
    metrics = engine.metrics
    assert metrics.finish_reasons == {"cancelled": 1, "length": 1}
    assert metrics.completion_tokens_total - 4 < 10  # the cancelled row stopped early


def test_a_request_arriving_during_a_long_batch_starts_before_it_ends(models):
    """Continuous batching: the short request joins the running batch at the next decode step,
    is answered while the long one is still generating, and both write what they write alone."""
    clock, reached, release = holding_clock(5)  # the long row held until the short one is queued
    engine = make_engine(models["base"], max_new_tokens=400, clock=clock)
    long = chat("안녕하세요", max_new_tokens=400, ignore_eos=True, timeout_s=1e6)
    short = chat("사과 배송 문의", max_new_tokens=6, ignore_eos=True)

    async def main():
        long_task = asyncio.create_task(engine.generate(long))
        assert await asyncio.to_thread(reached.wait, 10)
        stream = engine.stream(short)  # queued now
        release.set()
        text = "".join([delta async for delta in stream])
        long_running = not long_task.done()
        assert text == stream.result.text
        return stream.result, long_running, await long_task, engine.metrics.snapshot()

    short_result, long_running, long_result, metrics = run(engine, main)
    assert long_running  # answered while the long batch was still decoding
    assert (metrics["batches_total"], metrics["joined_total"]) == (1, 1)
    assert long_result.completion_tokens == 400
    alone = make_engine(models["base"], max_new_tokens=400)
    alone_short = run(alone, lambda: alone.generate(short))
    assert short_result.token_ids == alone_short.token_ids
    alone = make_engine(models["base"], max_new_tokens=400)
    assert long_result.token_ids == run(alone, lambda: alone.generate(long)).token_ids


def test_seeded_sampling_is_reproducible(models):
    engine = make_engine(models["base"])
    request = chat("안녕", temperature=1.0, top_p=0.9, seed=7, max_new_tokens=12, ignore_eos=True)

    async def main():
        return await asyncio.gather(engine.generate(request), engine.generate(request))

    first, second = run(engine, main)
    assert first.token_ids == second.token_ids
    assert engine.metrics.batch_sizes == {1: 2}  # seeded requests run alone


def test_prompt_longer_than_the_context_is_refused(models):
    engine = make_engine(models["base"])

    async def main():
        with pytest.raises(ValueError, match="프롬프트가 너무 깁니다"):
            await engine.generate(GenerationRequest(prompt="가" * 2000))

    run(engine, main)


def test_engine_protocol_and_ready(models):
    engine = make_engine(models["base"])
    assert isinstance(engine, Engine)
    assert engine.ready and engine.model_names() == ["base"]
    assert engine.dtype.is_floating_point and str(engine.dtype) == "torch.float32"
    asyncio.run(engine.aclose())
    assert not engine.ready


def test_request_validation_messages_are_korean():
    with pytest.raises(ValueError, match="정확히 하나"):
        GenerationRequest(prompt="a", messages=[{"role": "user", "content": "b"}])
    with pytest.raises(ValueError, match="max_new_tokens"):
        GenerationRequest(prompt="a", max_new_tokens=0)
    with pytest.raises(ValueError, match=r"messages\[0\]"):
        GenerationRequest(messages=[{"role": "user"}])
    assert GenerationRequest(prompt="a", stop="끝").stop == ("끝",)


def test_incremental_decoder_holds_back_partial_characters():
    tokenizer = build_tokenizer()
    text = "안녕하세요 고객님, 배송은 내일 출발합니다!"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert any("\ufffd" in tokenizer.decode([i]) for i in ids)  # some tokens are partial bytes
    decoder = IncrementalDecoder(tokenizer)
    deltas = [decoder.push(i) for i in ids] + [decoder.finish()]
    assert "".join(deltas) == text == decoder.text
    assert not any("\ufffd" in d for d in deltas)


def test_incremental_decoder_never_emits_part_of_a_stop_string():
    tokenizer = build_tokenizer()
    ids = tokenizer("안녕하세요 고객님 반갑습니다", add_special_tokens=False)["input_ids"]
    decoder = IncrementalDecoder(tokenizer, stop=["고객님", "xyz"])
    deltas = []
    for i in ids:
        deltas.append(decoder.push(i))
        if decoder.stopped:
            break
    assert "".join(deltas) == "안녕하세요 " == decoder.text
    assert not any("고" in d for d in deltas)
    assert decoder.finish() == ""

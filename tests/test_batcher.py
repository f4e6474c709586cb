"""Batcher scheduling, queue bound, cancellation and timeouts, with a fake runner (no model)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from smallretail_llm.serving.engines.batcher import Batcher
from smallretail_llm.serving.engines.batching import BatchingConfig, Job
from smallretail_llm.serving.engines.engine import (
    GenerationRequest,
    GenerationResult,
    QueueFull,
    TextStream,
)


class FakeRunner:
    """Answers each prompt in upper case, one character per delta; can be held on a gate."""

    def __init__(self, hold: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        if not hold:
            self.gate.set()
        self.fail = False

    def __call__(self, jobs: list[Job]) -> list[GenerationResult]:
        self.batches.append([job.request.prompt for job in jobs])
        self.started.set()
        assert self.gate.wait(10)
        if self.fail:
            raise RuntimeError("boom")
        results = []
        for job in jobs:
            reason = job.should_stop()
            text = "" if reason else job.request.prompt.upper()
            for ch in text:
                job.emit(ch)
            results.append(GenerationResult(text, 1, len(text), reason or "stop", "fake"))
        return results


def req(prompt: str, **kwargs) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, **kwargs)


def make(runner: FakeRunner, **config) -> Batcher:
    return Batcher(runner, model_name="fake", config=BatchingConfig(**config))


async def _started(runner: FakeRunner) -> None:
    assert await asyncio.to_thread(runner.started.wait, 10)


def test_concurrent_requests_are_batched_and_results_go_to_their_callers():
    runner = FakeRunner()
    batcher = make(runner, max_batch_size=4, max_wait_ms=50)

    async def main():
        prompts = ["a", "bb", "ccc", "dd", "e", "ff"]
        results = await asyncio.gather(*(batcher.submit(req(p)) for p in prompts))
        await batcher.aclose()
        return prompts, results

    prompts, results = asyncio.run(main())
    assert [r.text for r in results] == [p.upper() for p in prompts]
    assert runner.batches == [["a", "bb", "ccc", "dd"], ["e", "ff"]]
    m = batcher.metrics
    assert dict(m.batch_sizes) == {4: 1, 2: 1}
    assert (m.requests_total, m.batches_total, m.queue_depth, m.running) == (6, 2, 0, 0)
    assert (m.prompt_tokens_total, m.completion_tokens_total) == (6, 11)
    assert m.snapshot()["finish_reasons"] == {"stop": 6}


def test_requests_with_different_sampling_do_not_share_a_batch():
    runner = FakeRunner()
    batcher = make(runner, max_batch_size=8)

    async def main():
        await asyncio.gather(
            batcher.submit(req("g1")),
            batcher.submit(req("s1", temperature=0.7)),
            batcher.submit(req("g2", max_new_tokens=3)),  # max_new_tokens may differ in a batch
            batcher.submit(req("x1", temperature=0.7, seed=1)),
            batcher.submit(req("s2", temperature=0.7)),
            batcher.submit(req("x2", temperature=0.7, seed=1)),
        )
        await batcher.aclose()

    asyncio.run(main())
    assert runner.batches == [["g1", "g2"], ["s1", "s2"], ["x1"], ["x2"]]


def test_full_queue_raises_queue_full_instead_of_growing():
    runner = FakeRunner(hold=True)
    batcher = make(runner, max_batch_size=1, max_queue=2, retry_after_s=3)

    async def main():
        running = asyncio.ensure_future(batcher.submit(req("run")))
        await _started(runner)
        waiting = [batcher.enqueue(req("w1")), batcher.enqueue(req("w2"))]
        with pytest.raises(QueueFull) as info:
            batcher.enqueue(req("w3"))
        depth = batcher.metrics.queue_depth
        runner.gate.set()
        results = [await running, *[await batcher.result(j) for j in waiting]]
        await batcher.aclose()
        return info.value, depth, results

    error, depth, results = asyncio.run(main())
    assert (error.max_queue, error.retry_after_s) == (2, 3)
    assert "대기열이 가득" in str(error) and "3초 후" in str(error)
    assert depth == 2
    assert [r.text for r in results] == ["RUN", "W1", "W2"]
    assert batcher.metrics.rejected_total == 1


def test_cancelling_a_queued_request_frees_its_queue_slot():
    runner = FakeRunner(hold=True)
    batcher = make(runner, max_batch_size=1, max_queue=1)

    async def main():
        running = asyncio.ensure_future(batcher.submit(req("run")))
        await _started(runner)
        waiter = asyncio.ensure_future(batcher.submit(req("gone")))
        await asyncio.sleep(0)  # let it enqueue (a yield to the loop, not a timed wait)
        with pytest.raises(QueueFull):
            batcher.enqueue(req("no room"))
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        later = batcher.enqueue(req("room"))  # the slot is free again
        runner.gate.set()
        texts = [(await running).text, (await batcher.result(later)).text]
        await batcher.aclose()
        return texts

    assert asyncio.run(main()) == ["RUN", "ROOM"]
    assert runner.batches == [["run"], ["room"]]  # the cancelled request never ran
    assert batcher.metrics.finish_reasons["cancelled"] == 1


def test_cancelling_a_running_request_tells_the_runner_to_stop_its_row():
    runner = FakeRunner(hold=True)
    batcher = make(runner)

    async def main():
        task = asyncio.ensure_future(batcher.submit(req("long")))
        await _started(runner)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        runner.gate.set()
        after = await batcher.submit(req("next"))  # the worker is free again
        await batcher.aclose()
        return after

    assert asyncio.run(main()).text == "NEXT"
    assert batcher.metrics.finish_reasons == {"cancelled": 1, "stop": 1}


def test_timeout_while_queued_answers_without_running():
    runner = FakeRunner()
    batcher = make(runner)

    async def main():
        result = await batcher.submit(req("late", timeout_s=0))
        await batcher.aclose()
        return result

    result = asyncio.run(main())
    assert (result.text, result.finish_reason, result.completion_tokens) == ("", "timeout", 0)
    assert result.model == "fake"
    assert runner.batches == []


def test_timeout_while_running_stops_the_row():
    now = [0.0]
    runner = FakeRunner(hold=True)
    batcher = Batcher(runner, model_name="fake", clock=lambda: now[0])

    async def main():
        task = asyncio.ensure_future(batcher.submit(req("slow", timeout_s=5)))
        await _started(runner)
        now[0] = 10.0  # the deadline passes while the row is generating
        runner.gate.set()
        result = await task
        await batcher.aclose()
        return result

    result = asyncio.run(main())
    assert result.finish_reason == "timeout"


def test_runner_error_reaches_every_caller_and_the_scheduler_survives():
    runner = FakeRunner()
    runner.fail = True
    batcher = make(runner)

    async def main():
        outcomes = await asyncio.gather(
            batcher.submit(req("a")), batcher.submit(req("b")), return_exceptions=True
        )
        runner.fail = False
        after = await batcher.submit(req("c"))
        await batcher.aclose()
        return outcomes, after

    outcomes, after = asyncio.run(main())
    assert [str(o) for o in outcomes] == ["boom", "boom"]
    assert after.text == "C"
    assert batcher.metrics.errors_total == 1


def test_text_stream_yields_deltas_then_the_result():
    runner = FakeRunner()
    batcher = make(runner)

    async def main():
        deltas: asyncio.Queue[str] = asyncio.Queue()
        job = batcher.enqueue(req("한글ok"), on_text=deltas.put_nowait)
        stream = TextStream(deltas, asyncio.ensure_future(batcher.result(job)))
        chunks = [chunk async for chunk in stream]
        await batcher.aclose()
        return chunks, stream.result

    chunks, result = asyncio.run(main())
    assert chunks == ["한", "글", "O", "K"]
    assert result.text == "한글OK"


def test_closed_batcher_refuses_new_requests():
    batcher = make(FakeRunner())

    async def main():
        await batcher.aclose()
        with pytest.raises(RuntimeError, match="종료"):
            batcher.enqueue(req("x"))

    asyncio.run(main())


def test_bad_batching_config_is_rejected():
    with pytest.raises(ValueError, match="max_batch_size"):
        BatchingConfig(max_batch_size=0)

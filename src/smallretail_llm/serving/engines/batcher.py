"""Dynamic batching: gather concurrent requests for a few ms, run them as one batch in a worker
thread, hand each caller its own result. Engine-agnostic: the batch itself is run by a plain
function ``run_batch(jobs) -> results`` (see ``hf_engine``), so tests can use a fake. The parts
it works with (settings, counters, the batch key, ``Job``) are in batching.py.

Scheduling rules (why they are what they are):
- A batch starts when ``max_batch_size`` requests are pending or the oldest pending request has
  waited ``max_wait_ms``; the window only opens while the worker is idle, since requests that
  arrive during a forward pass queue anyway and are all taken by the next batch.
- One batch holds only requests with the same ``batch_key``: all greedy requests share one key,
  sampled requests share a key per (temperature, top_p), and a seeded sampled request runs alone
  (a seed means a reproducible stream of random numbers, which batch neighbours would consume).
  Different ``max_new_tokens`` do share a batch: the runner stops each row at its own limit.
- Only one batch runs at a time (one worker thread: one model forward at a time), so the
  asyncio loop stays free to accept, stream and cancel.
- Continuous batching (``joins=True``, the transformers engine): the runner takes requests that
  arrived meanwhile into the running batch between decode steps (``Intake.take``), and answers
  each row the moment it ends (``Intake.answer``), so a short answer does not wait for the
  longest row and a new request does not wait for the batch to end. Requests join only while
  the oldest waiting request has the batch's key; once another key is oldest the batch drains
  and that request runs next (no key waits forever).
- The queue of waiting requests is bounded (``max_queue``; running rows are not counted):
  ``enqueue`` raises ``QueueFull`` instead of building an unbounded backlog.
- A cancelled request leaves the queue at once; if it is already running, the runner stops its
  row at the next token (``Job.should_stop``). ``timeout_s`` counts from enqueue: an expired
  queued request is answered "timeout" without running, a running one stops at the next token
  (a prompt's prefill, one forward pass, is not interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

from smallretail_llm.serving.engines.batching import (
    BatcherMetrics,
    BatchingConfig,
    Job,
    sampling_key,
)
from smallretail_llm.serving.engines.engine import (
    FinishReason,
    GenerationRequest,
    GenerationResult,
    QueueFull,
)

logger = logging.getLogger(__name__)

RunBatch = Callable[[Sequence[Job]], list[GenerationResult]]
RunJoining = Callable[[Sequence[Job], "Intake"], None]


class Intake:
    """A running batch's door, used by the runner in the worker thread between decode steps:
    ``take`` hands it requests that arrived meanwhile, ``answer`` answers a finished row now.
    Every job the batch held (``jobs``) must be answered before the runner returns."""

    def __init__(self, batcher: Batcher, key: Hashable, jobs: Sequence[Job]) -> None:
        self._batcher = batcher
        self._key = key
        self.jobs = list(jobs)
        self.steps: Counter[int] = Counter()  # rows per decode step, not yet in the metrics
        assert batcher._loop is not None  # made by Batcher._run, which runs on the loop
        self._loop = batcher._loop

    def waiting(self) -> bool:
        """Whether any request waits (a cheap check before ``take``)."""
        return bool(self._batcher._pending)

    def take(self, room: int) -> list[Job]:
        """Up to ``room`` waiting requests with the batch's key, oldest first."""
        if room <= 0 or self._batcher._closed:
            return []
        jobs = self._batcher._take(self._key, room, strict=True)
        if jobs:
            self.jobs.extend(jobs)
            self._call(self._batcher._joined, len(jobs))
        return jobs

    def stepped(self, rows: int) -> None:
        """Count one decode step of ``rows`` rows. The counts reach the metrics with the next
        answer (so a caller who has its result sees its steps counted), not one loop wake-up
        per step; the rest when the run ends."""
        self.steps[rows] += 1

    def answer(self, job: Job, result: GenerationResult) -> None:
        if self.steps:
            steps, self.steps = self.steps, Counter()
            self._call(self._batcher._stepped, steps)
        self._call(self._batcher._answer, job, result)

    def _call(self, fn: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while this batch ran (shutdown)
            self._loop.call_soon_threadsafe(fn, *args)


T = TypeVar("T")

class Batcher:
    """Owns the bounded queue, the scheduler task and the single worker thread."""

    def __init__(
        self,
        run_batch: RunBatch | RunJoining,
        *,
        model_name: str,
        joins: bool = False,
        config: BatchingConfig | None = None,
        batch_key: Callable[[GenerationRequest], Hashable] = sampling_key,
        metrics: BatcherMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``joins``: ``run_batch(jobs, intake)`` answers each job through the ``Intake`` and may
        take more (continuous batching); otherwise ``run_batch(jobs)`` returns the results."""
        self._run_batch = run_batch
        self._joins = joins
        self._model_name = model_name
        self.config = config or BatchingConfig()
        self._batch_key = batch_key
        self.metrics = metrics or BatcherMetrics()
        self._clock = clock
        self._pending: deque[Job] = deque()
        self._lock = threading.Lock()  # _pending: the worker takes joiners from it too
        self._running: list[Job] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smallretail-gen")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task | None = None
        self._changed: asyncio.Event | None = None
        self._closed = False

    def run_in_worker(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` in the worker thread now and return its result (blocks; call it
        outside the event loop, e.g. to load the model). Why: torch's OpenMP threads belong to
        the thread that runs a parallel op; a second team (loading in the main thread, running
        here) puts more threads than cores under libgomp, which then stops spinning between
        parallel regions: decoding a 0.5B model on 2 cores measured ~20-35% slower."""
        return self._executor.submit(fn, *args).result()

    # -- submitting -------------------------------------------------------------------------

    def enqueue(
        self,
        request: GenerationRequest,
        *,
        data: object = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Job:
        """Queue a request (call on the event loop). Raises QueueFull when the queue is full.
        ``on_text`` receives text deltas on the loop thread."""
        loop = self._ensure_started()
        now = self._clock()
        job = Job(
            request=request,
            future=loop.create_future(),
            data=data,
            deadline=None if request.timeout_s is None else now + request.timeout_s,
            clock=self._clock,
            enqueued_at=loop.time(),
            on_text=on_text,
            loop=loop,
        )
        with self._lock:
            if len(self._pending) >= self.config.max_queue:
                self.metrics.rejected_total += 1
                raise QueueFull(self.config.max_queue, self.config.retry_after_s)
            self._pending.append(job)
        self.metrics.requests_total += 1
        self._changed_now()
        return job

    async def result(self, job: Job) -> GenerationResult:
        """Wait for ``job``. Cancelling the caller cancels the job (and frees its slot)."""
        try:
            if job.deadline is not None and not job.future.done():
                remaining = max(0.0, job.deadline - self._clock())
                await asyncio.wait({job.future}, timeout=remaining)
                if not job.future.done() and self._remove_pending(job):
                    self._finish_unrun(job, "timeout")
            return await job.future
        except asyncio.CancelledError:
            job.cancelled.set()
            if self._remove_pending(job):
                self.metrics.finish_reasons["cancelled"] += 1
            raise

    async def submit(
        self,
        request: GenerationRequest,
        *,
        data: object = None,
        on_text: Callable[[str], None] | None = None,
    ) -> GenerationResult:
        return await self.result(self.enqueue(request, data=data, on_text=on_text))

    async def aclose(self) -> None:
        """Stop scheduling, cancel waiting and running requests, release the worker thread."""
        self._closed = True
        with self._lock:
            jobs = [*self._pending, *self._running]
            self._pending.clear()
        for job in jobs:
            job.cancelled.set()
            if not job.future.done():
                job.future.cancel()
        self.metrics.queue_depth = 0
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=False)

    # -- scheduling -------------------------------------------------------------------------

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise RuntimeError("엔진이 이미 종료되었습니다.")
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._loop is loop:
            return loop
        busy = self._pending or (self._task is not None and not self._task.done())
        other_loop_alive = self._loop not in (None, loop) and not self._loop.is_closed()
        if busy and other_loop_alive:
            raise RuntimeError("Batcher 는 한 이벤트 루프에서만 쓸 수 있습니다.")
        # First use, or the previous loop is gone (e.g. a test's asyncio.run ended): rebind.
        self._loop, self._loop_thread = loop, threading.get_ident()
        with self._lock:
            self._pending.clear()
        self._changed = asyncio.Event()
        self._task = loop.create_task(self._schedule(), name="smallretail-batcher")
        return loop

    def _changed_now(self) -> None:
        self.metrics.queue_depth = len(self._pending)
        if self._changed is not None:
            self._changed.set()

    def _remove_pending(self, job: Job) -> bool:
        try:
            with self._lock:
                self._pending.remove(job)
        except ValueError:
            return False
        self._changed_now()
        return True

    def _finish_unrun(self, job: Job, reason: FinishReason) -> None:
        """Answer a job that never reached the model."""
        self.metrics.finish_reasons[reason] += 1
        if not job.future.done():
            name = job.request.adapter or self._model_name
            job.future.set_result(GenerationResult("", 0, 0, reason, name))

    async def _schedule(self) -> None:
        assert self._changed is not None and self._loop is not None
        loop = self._loop
        while True:
            while not self._pending:
                self._changed.clear()
                await self._changed.wait()
            window_end = self._pending[0].enqueued_at + self.config.max_wait_ms / 1000
            while self._pending and len(self._pending) < self.config.max_batch_size:
                remaining = window_end - loop.time()
                if remaining <= 0:
                    break
                self._changed.clear()
                try:
                    # asyncio.timeout, not wait_for: wait_for in 3.11 can swallow a cancel
                    async with asyncio.timeout(remaining):
                        await self._changed.wait()
                except TimeoutError:
                    break
            batch = self._take_batch()
            if batch:
                await self._run(batch)

    def _take_batch(self) -> list[Job]:
        """Remove and return up to max_batch_size runnable jobs sharing the oldest job's key."""
        return self._take(None, self.config.max_batch_size, strict=False)

    def _take(self, key: Hashable | None, room: int, *, strict: bool) -> list[Job]:
        """Remove and return up to ``room`` runnable jobs with ``key`` (None: the oldest job's
        key). ``strict``: stop at the first runnable job with another key (joiners never
        overtake it). Safe from the worker thread: loop-side effects go through the loop."""
        batch: list[Job] = []
        expired: list[Job] = []
        with self._lock:
            for job in list(self._pending):
                if job.future.done() or job.cancelled.is_set():
                    self._pending.remove(job)
                    continue
                if job.should_stop() == "timeout":
                    self._pending.remove(job)
                    expired.append(job)
                    continue
                job_key = self._batch_key(job.request)
                if key is None:
                    key = job_key
                if job_key == key:
                    self._pending.remove(job)
                    batch.append(job)
                    if len(batch) == room:
                        break
                elif strict:
                    break
        on_loop = threading.get_ident() == self._loop_thread
        for job in expired:
            self._on_loop(on_loop, self._finish_unrun, job, "timeout")
        self._on_loop(on_loop, self._changed_now)
        return batch

    def _on_loop(self, on_loop: bool, fn: Callable[..., object], *args: object) -> None:
        if on_loop:
            fn(*args)
        elif self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed (shutdown)
                self._loop.call_soon_threadsafe(fn, *args)

    def _stepped(self, steps: Counter[int]) -> None:
        self.metrics.step_rows.update(steps)

    def _joined(self, count: int) -> None:
        self.metrics.joined_total += count
        self.metrics.running += count

    def _answer(self, job: Job, result: GenerationResult) -> None:
        """Count a finished job's usage and hand it its result (loop thread)."""
        metrics = self.metrics
        metrics.running = max(0, metrics.running - 1)
        metrics.prompt_tokens_total += result.prompt_tokens
        metrics.completion_tokens_total += result.completion_tokens
        metrics.finish_reasons[result.finish_reason] += 1
        if not job.future.done():
            job.future.set_result(result)

    async def _run(self, batch: list[Job]) -> None:
        assert self._loop is not None
        metrics = self.metrics
        metrics.batches_total += 1
        metrics.batch_sizes[len(batch)] += 1
        metrics.running = len(batch)
        self._running = batch
        logger.debug("batch of %d, %d waiting", len(batch), len(self._pending))
        intake = Intake(self, self._batch_key(batch[0].request), batch)
        try:
            # `joins` says which of the two runner signatures run_batch has (see __init__)
            if self._joins:
                self._running = intake.jobs  # (the same list: joiners are cancelled on close)
                run_joining = cast(RunJoining, self._run_batch)
                await self._loop.run_in_executor(self._executor, run_joining, batch, intake)
            else:
                run_batch = cast(RunBatch, self._run_batch)
                results = await self._loop.run_in_executor(self._executor, run_batch, batch)
                for job, result in zip(batch, results, strict=True):
                    self._answer(job, result)
        except Exception as exc:  # one broken batch must not kill the scheduler
            logger.exception("generation batch of %d failed", len(intake.jobs))
            metrics.errors_total += 1
            for job in intake.jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
        finally:
            metrics.running = 0
            metrics.step_rows.update(intake.steps)  # (the worker is done with them)
            self._running = []
        for job in intake.jobs:  # a runner bug, never a silent hang
            if not job.future.done():
                job.future.set_exception(RuntimeError("생성 배치가 요청에 답하지 않고 끝났습니다."))

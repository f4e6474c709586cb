"""What the batcher is made of, apart from its scheduling loop (batcher.py): its settings
(``BatchingConfig``), its counters (``BatcherMetrics``), which requests may share a batch
(``sampling_key``), and one queued request as a runner sees it (``Job``). The engines' runners
and the API read these without needing the scheduler; the rules they follow are in batcher.py's
docstring."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from smallretail_llm.serving.engines.engine import FinishReason, GenerationRequest


@dataclass(frozen=True)
class BatchingConfig:
    """How requests are gathered into batches (see batcher.py's docstring)."""

    max_batch_size: int = 8
    max_wait_ms: float = 5.0
    max_queue: int = 64
    retry_after_s: float = 1.0  # what QueueFull tells the client

    def __post_init__(self) -> None:
        if self.max_batch_size < 1 or self.max_queue < 1:
            raise ValueError("max_batch_size 와 max_queue 는 1 이상이어야 합니다.")
        if self.max_wait_ms < 0 or self.retry_after_s < 0:
            raise ValueError("max_wait_ms 와 retry_after_s 는 0 이상이어야 합니다.")


@dataclass
class BatcherMetrics:
    """Plain counters the API exports (e.g. a Prometheus collector reading them at scrape
    time). Updated on the event loop thread only."""

    queue_depth: int = 0  # requests waiting now
    running: int = 0  # rows in the batch being generated now
    requests_total: int = 0  # accepted by enqueue
    rejected_total: int = 0  # refused with QueueFull
    batches_total: int = 0
    batch_sizes: Counter[int] = field(default_factory=Counter)  # size at start -> batches
    joined_total: int = 0  # requests that joined a running batch
    step_rows: Counter[int] = field(default_factory=Counter)  # rows in a decode step -> steps
    prompt_tokens_total: int = 0
    completion_tokens_total: int = 0
    finish_reasons: Counter[str] = field(default_factory=Counter)
    errors_total: int = 0  # batches whose runner raised

    def snapshot(self) -> dict:
        """A plain-dict copy (Counters become dicts)."""
        return {k: dict(v) if isinstance(v, Counter) else v for k, v in vars(self).items()}


def sampling_key(request: GenerationRequest) -> Hashable:
    """Requests with equal keys may share a batch (see batcher.py's docstring)."""
    if request.greedy:
        return ("greedy",)
    if request.seed is not None:
        return ("seeded", object())  # equal to nothing: a seeded request runs alone
    return ("sample", request.temperature, request.top_p)


@dataclass(eq=False)
class Job:
    """One queued request as the runner sees it (the runner runs in the worker thread)."""

    request: GenerationRequest
    future: asyncio.Future
    data: object  # engine-private, e.g. the tokenized prompt
    deadline: float | None
    clock: Callable[[], float]
    enqueued_at: float  # loop time, for the gather window
    on_text: Callable[[str], None] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def should_stop(self) -> FinishReason | None:
        """Why this row must stop now, if it must. Cheap enough to call once per token."""
        if self.cancelled.is_set():
            return "cancelled"
        if self.deadline is not None and self.clock() >= self.deadline:
            return "timeout"
        return None

    @property
    def streaming(self) -> bool:
        return self.on_text is not None

    def emit(self, delta: str) -> None:
        """Pass a text delta to the streaming consumer (safe to call from the worker thread)."""
        if self.on_text is not None and delta and self.loop is not None:
            try:
                self.loop.call_soon_threadsafe(self.on_text, delta)
            except RuntimeError:  # the loop closed while this batch ran (shutdown)
                self.on_text = None


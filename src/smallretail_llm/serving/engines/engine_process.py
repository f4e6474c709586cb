"""A local engine in a process of its own, so the API's Python never waits on the decode loop's
GIL, nor the decode loop on the API's (the split vLLM V1 makes between its API server and its
engine core).

Why: a decode step of a small model is a few hundred operator calls, and each one releases the
GIL and takes it back. In one process, every API thread holding the GIL meanwhile (HTTP, the
database, the grounding check: kiwipiepy holds the GIL while it analyses) delays each re-take;
under 16 clients a 3-4 ms step of the nano measured 8-14 ms (issue 17 notes). Here the API's
threads and the decode loop run on separate cores.

- ``ProcessEngine`` (API side) starts the engine process ("spawn"), which builds the configured
  local engine with ``api.server.build_engine`` (the same code and settings as in one process)
  and serves it over a pipe until the API closes it or goes away.
- The API tokenizes and checks each request with the engine's own ``PromptRules`` (sent once
  the engine is ready), so UnknownAdapter, a too-long prompt and QueueFull are raised before
  anything is queued, as in one process. At most ``queue_size + batch_size`` requests are in
  flight (waiting + running); the engine's queue has room for all of them.
- Continuous batching, timeouts, cancellation (a cancelled caller's row stops at its next
  token) and the batch metrics are the engine's ``Batcher``'s, unchanged.
- If the engine process dies, every request in flight fails with EngineUnavailable (the
  assistant answers from the renderer or the rules; the OpenAI route answers 503) and the
  engine reports not ready, so the readiness probe fails and the orchestrator restarts it.

Messages (pickled; the requests' checks and constraints pickle, ``draft_requests.DraftCheck``):
API -> engine ``("run", id, request, prompt, stream)``, ``("cancel", id)``, ``("close",)``;
engine -> API ``("ready", rules, names, batching)`` or ``("failed", None, error)`` once, then
``("text", id, delta)``, ``("done", id, result, metrics)``, ``("failed", id, error)``, and
``("metrics", None, metrics)`` when the batch metrics changed since (every 0.5 s at most).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import logging
import multiprocessing
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from smallretail_llm.serving.engines.batching import BatcherMetrics
from smallretail_llm.serving.engines.engine import (
    EngineUnavailable,
    GenerationRequest,
    GenerationResult,
    QueueFull,
    TextStream,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from smallretail_llm.serving.engines.local_engine import BatchedEngine
    from smallretail_llm.serving.settings import Settings

log = logging.getLogger(__name__)

GONE = "엔진 프로세스가 종료되었습니다"
METRICS_EVERY_S = 0.5  # how often the engine process sends changed batch metrics


@dataclass(eq=False)
class _Call:
    """One request in flight, as the API side tracks it."""

    id: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    on_text: Callable[[str], None] | None


class ProcessEngine:
    """An ``Engine`` whose model runs in a child process (see the module docstring). Loading
    happens in the constructor, which returns once the engine process is ready."""

    def __init__(self, settings: Settings, *, start_timeout_s: float = 900) -> None:
        context = multiprocessing.get_context("spawn")  # (fork would copy the API's threads)
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=engine_main, args=(child_end, settings),
                                        name="smallretail-engine", daemon=True)
        self._process.start()
        child_end.close()
        self.rules, self._names, batching = self._wait_ready(start_timeout_s)
        self.name = self._names[0]
        self._max_queue, self._retry_after_s = batching.max_queue, batching.retry_after_s
        self._limit = batching.max_queue + batching.max_batch_size
        self._calls: dict[int, _Call] = {}
        self._lock = threading.Lock()  # _calls, and sends (any loop thread may send)
        self._ids = itertools.count()
        self._snapshot: dict = BatcherMetrics().snapshot()
        self._rejected = 0
        self._closing = False
        self._ready = True
        self._reader = threading.Thread(target=self._read, name="smallretail-engine-reader",
                                        daemon=True)
        self._reader.start()

    def _wait_ready(self, timeout_s: float) -> tuple:
        if not self._conn.poll(timeout_s):
            self._process.kill()
            raise TimeoutError(f"엔진 프로세스가 {timeout_s:.0f}초 안에 준비되지 않았습니다.")
        try:
            message = self._conn.recv()
        except EOFError:
            self._process.join(5)
            raise RuntimeError(f"엔진 프로세스가 모델을 불러오다 종료되었습니다 "
                               f"(종료 코드 {self._process.exitcode}).") from None
        if message[0] == "failed":
            self._process.join(5)
            raise message[2]
        return message[1:]

    # -- Engine protocol -------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready

    def model_names(self) -> list[str]:
        return list(self._names)

    @property
    def metrics(self) -> BatcherMetrics:
        """The batch metrics as the engine process last sent them, plus the API side's refusals."""
        values: dict[str, Any] = {k: Counter(v) if isinstance(v, dict) else v
                                  for k, v in self._snapshot.items()}
        metrics = BatcherMetrics(**values)
        metrics.rejected_total += self._rejected
        return metrics

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        return await self._result(self._start(request, None))

    def stream(self, request: GenerationRequest) -> TextStream:
        """Queue the request now (QueueFull/UnknownAdapter/ValueError are raised here, before a
        response starts) and return its text deltas; ``.result`` has the usage at the end."""
        deltas: asyncio.Queue[str] = asyncio.Queue()
        call = self._start(request, deltas.put_nowait)
        return TextStream(deltas, asyncio.get_running_loop().create_task(self._result(call)))

    async def aclose(self) -> None:
        """Stop the engine process: running requests are cancelled (the engine's own close)."""
        if self._closing:
            return
        self._closing, self._ready = True, False
        with contextlib.suppress(OSError), self._lock:
            self._conn.send(("close",))
        await asyncio.to_thread(self._process.join, 15)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 5)
        self._conn.close()

    # -- API side ---------------------------------------------------------------------------

    def _start(self, request: GenerationRequest, on_text: Callable[[str], None] | None) -> _Call:
        if not self._ready:
            raise EngineUnavailable(GONE if not self._closing else "엔진을 닫는 중입니다")
        prompt = self.rules.prepare(request)  # raises UnknownAdapter / ValueError
        loop = asyncio.get_running_loop()
        with self._lock:
            if len(self._calls) >= self._limit:
                self._rejected += 1
                raise QueueFull(self._max_queue, self._retry_after_s)
            call = _Call(next(self._ids), loop, loop.create_future(), on_text)
            self._calls[call.id] = call
            try:
                self._conn.send(("run", call.id, request, prompt, on_text is not None))
            except OSError:
                del self._calls[call.id]
                raise EngineUnavailable(GONE) from None
        return call

    async def _result(self, call: _Call) -> GenerationResult:
        try:
            return await call.future
        except asyncio.CancelledError:
            with self._lock:  # its place is free now, as a cancelled row's is in one process
                self._calls.pop(call.id, None)
                with contextlib.suppress(OSError):
                    self._conn.send(("cancel", call.id))  # the row stops at its next token
            raise

    def _read(self) -> None:
        """Reader thread: hand each message to its caller's event loop, until the pipe ends."""
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            kind, call_id = message[0], message[1]
            with self._lock:
                call = self._calls.get(call_id) if kind == "text" else self._calls.pop(call_id, None)
            if kind == "done":
                self._snapshot = message[3]
            elif kind == "metrics":
                self._snapshot = message[2]
            if call is not None:
                with contextlib.suppress(RuntimeError):  # that caller's loop has closed
                    call.loop.call_soon_threadsafe(_deliver, call, message)
        self._lost()

    def _lost(self) -> None:
        """The engine process has gone: fail everything in flight, report not ready."""
        self._ready = False
        if not self._closing:
            self._process.join(1)
            log.error("engine process ended (exit code %s); not ready", self._process.exitcode)
        with self._lock:
            calls, self._calls = list(self._calls.values()), {}
        for call in calls:
            message = ("failed", call.id, EngineUnavailable(GONE))
            with contextlib.suppress(RuntimeError):
                call.loop.call_soon_threadsafe(_deliver, call, message)


def _deliver(call: _Call, message: tuple) -> None:
    """On the caller's loop: a text delta, the result or the error."""
    if call.future.done():  # cancelled by its caller
        return
    kind = message[0]
    if kind == "text":
        if call.on_text is not None:
            call.on_text(message[2])
    elif kind == "done":
        call.future.set_result(message[2])
    else:
        call.future.set_exception(message[2])


# -- the engine process ---------------------------------------------------------------------


def engine_main(conn: Connection, settings: Settings) -> None:
    """The engine process: build the engine, say it is ready, serve until told to close or
    until the API process is gone (the pipe ends)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the API's to handle
    from smallretail_llm.serving.engines.factory import build_engine
    from smallretail_llm.serving.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    # The API admits queue_size + batch_size in flight; here all of them may wait at once.
    local = settings.model_copy(update={"queue_size": settings.queue_size + settings.batch_size,
                                        "num_threads": settings.num_threads or spare_cores()})
    try:
        # serving_engine runs only local engines here, all of them BatchedEngines
        engine = cast("BatchedEngine", build_engine(local))
    except Exception as exc:  # noqa: BLE001 - the API process raises it, with its message
        conn.send(("failed", None, _portable(exc)))
        return
    batching = dataclasses.replace(engine.batching, max_queue=settings.queue_size)
    conn.send(("ready", engine.rules, engine.model_names(), batching))
    asyncio.run(_serve(conn, engine))


async def _serve(conn: Connection, engine: BatchedEngine) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple] = asyncio.Queue()
    running: dict[int, asyncio.Task] = {}

    def readable() -> None:
        try:
            while conn.poll():
                inbox.put_nowait(conn.recv())
        except (EOFError, OSError):  # the API process is gone
            loop.remove_reader(conn.fileno())
            inbox.put_nowait(("close",))

    def send(message: tuple) -> None:
        with contextlib.suppress(OSError):  # the API process is gone; the inbox closes us
            conn.send(message)

    def finished(call_id: int, task: asyncio.Task) -> None:
        running.pop(call_id, None)
        if task.cancelled():
            send(("done", call_id, None, engine.metrics.snapshot()))
        elif (error := task.exception()) is not None:
            send(("failed", call_id, _portable(error)))
        else:
            send(("done", call_id, task.result(), engine.metrics.snapshot()))

    async def publish_metrics() -> None:
        """Gauges change after the last answer too (a run ends): send them when they do."""
        sent = None
        while True:
            await asyncio.sleep(METRICS_EVERY_S)
            if (snapshot := engine.metrics.snapshot()) != sent:
                send(("metrics", None, snapshot))
                sent = snapshot

    loop.add_reader(conn.fileno(), readable)
    publisher = loop.create_task(publish_metrics())
    while True:
        message = await inbox.get()
        if message[0] == "run":
            _, call_id, request, prompt, stream = message
            on_text: Callable[[str], None] | None = (
                (lambda delta, i=call_id: send(("text", i, delta))) if stream else None)
            try:
                job = engine.enqueue(request, prompt, on_text)
            except Exception as exc:  # noqa: BLE001 - its caller gets it (QueueFull cannot be)
                send(("failed", call_id, _portable(exc)))
                continue
            task = loop.create_task(engine.result(job))
            running[call_id] = task
            task.add_done_callback(functools.partial(finished, call_id))
        elif message[0] == "cancel" and (cancelled := running.get(message[1])) is not None:
            cancelled.cancel()
        elif message[0] == "close":
            break
    publisher.cancel()
    await engine.aclose()


def spare_cores() -> int:
    """The engine's default thread count: every core this process may use but one, which the
    API process needs (on 2 cores, 2 engine threads measured slower under load than 1: issue 17
    notes)."""
    return max(1, len(os.sched_getaffinity(0)) - 1)


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError with its message."""
    import pickle

    try:
        return pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any unpicklable error
        return RuntimeError(f"{type(error).__name__}: {error}")

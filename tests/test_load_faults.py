"""The API under load and faults: a burst over the queue and rate limits is refused with
Retry-After and loses nothing; an engine failing mid-request gives the documented error shape
(or an error event in a stream) and the server keeps serving; a client leaving mid-stream frees
its slot. In process over ASGI (no sleeps: the engine is held on events); the real-server burst
(`smallretail serve` + eval/load_test.py) is marked slow."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import logging
import threading
from pathlib import Path

import httpx
import pytest

from fake_engine import ApiHarness, FakeEngine
from smallretail_llm.serving.engines.batcher import Batcher
from smallretail_llm.serving.engines.batching import BatchingConfig, Job
from smallretail_llm.serving.engines.engine import GenerationRequest, GenerationResult, TextStream

ROOT = Path(__file__).resolve().parents[1]
REPLY = "배송비는 3,000원입니다."
CHAT = {"model": "fake-base", "messages": [{"role": "user", "content": "두부 소개해 주세요"}]}
STREAM = CHAT | {"stream": True}
DESCRIBE = {"product_id": "TOFU-300", "style": "intro"}
ASK = {"product_id": "TOFU-300", "question": "배송비 얼마예요?"}


def _load_script():
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "eval" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load_test = _load_script()


def run(coro, timeout_s: float = 20):
    """Run ``coro`` on a fresh loop under a deadline: a hang fails the test instead of it."""
    async def bounded():
        async with asyncio.timeout(timeout_s):
            return await coro

    return asyncio.run(bounded())


def client(api: ApiHarness, transport: httpx.ASGITransport | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport or httpx.ASGITransport(app=api.app),
                             base_url="http://test", headers=api.auth("s1"))


def sse(text: str) -> list[str]:
    """The data lines of an SSE body."""
    return [e.removeprefix("data: ") for e in text.split("\n\n") if e.startswith("data: ")]


# ---------------------------------------------------------------- engines
class CountingBatcher(Batcher):
    """The real Batcher; ``all_in`` is set once ``expect`` requests were queued or refused."""

    expect = 0
    seen = 0
    all_in: asyncio.Event | None = None

    def enqueue(self, request, **kwargs) -> Job:
        try:
            return super().enqueue(request, **kwargs)
        finally:
            self.seen += 1
            if self.all_in is not None and self.seen >= self.expect:
                self.all_in.set()


class GatedEngine:
    """A fake engine over the real Batcher (one row per batch): the runner holds each batch
    until ``gate`` is set, then answers ``REPLY`` one character per delta."""

    ready = True

    def __init__(self, max_queue: int) -> None:
        self.gate, self.started = threading.Event(), threading.Event()
        self.batches: list[list[GenerationRequest]] = []
        self.batcher = CountingBatcher(self._run, model_name="fake-base", config=BatchingConfig(
            max_batch_size=1, max_wait_ms=0, max_queue=max_queue, retry_after_s=2))

    def model_names(self) -> list[str]:
        return ["fake-base"]

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        return await self.batcher.submit(request)

    def stream(self, request: GenerationRequest) -> TextStream:
        deltas: asyncio.Queue[str] = asyncio.Queue()
        job = self.batcher.enqueue(request, on_text=deltas.put_nowait)
        return TextStream(deltas, asyncio.get_running_loop().create_task(self.batcher.result(job)))

    def _run(self, jobs: list[Job]) -> list[GenerationResult]:
        self.batches.append([job.request for job in jobs])
        self.started.set()
        assert self.gate.wait(30)
        results = []
        for job in jobs:
            reason = job.should_stop()
            text = "" if reason else REPLY
            for char in text:
                job.emit(char)
            results.append(GenerationResult(text, 10, len(text), reason or "stop", "fake-base"))
        return results


class DyingEngine(FakeEngine):
    """Fails its next generation once, after a first await and (streams) three deltas:
    ``"raise"`` raises RuntimeError; ``"cancel"`` ends the generation task cancelled, as
    ``Batcher.aclose`` does to running requests; ``"stop"`` ends it early with partial text
    and finish reason "cancelled" (the engine stopped the row)."""

    def __init__(self, mode: str) -> None:
        super().__init__([REPLY])
        self.mode: str | None = mode

    def _fail(self) -> GenerationResult:
        mode, self.mode = self.mode, None
        if mode == "raise":
            raise RuntimeError("GPU fell off the bus")
        if mode == "cancel":
            raise asyncio.CancelledError
        return GenerationResult("국산", 10, 2, "cancelled", self.name)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        if self.mode is None:
            return await super().generate(request)
        self._check(request)
        await asyncio.sleep(0)
        return self._fail()

    def stream(self, request: GenerationRequest) -> TextStream:
        if self.mode is None:
            return super().stream(request)
        self._check(request)
        deltas: asyncio.Queue[str] = asyncio.Queue()

        async def run() -> GenerationResult:
            for char in "국산콩":
                deltas.put_nowait(char)
                await asyncio.sleep(0)
            return self._fail()

        return TextStream(deltas, asyncio.get_running_loop().create_task(run()))


# ---------------------------------------------------------------- burst
def test_burst_over_the_queue_and_rate_limits_is_refused_with_retry_after(tmp_path):
    # One request holds the single runner; then 12 at once from one key: 8 tokens are left in
    # its bucket (4 get 429), the queue holds 3 (5 get 503), the 3 queued finish once released.
    engine = GatedEngine(max_queue=3)
    api = ApiHarness(tmp_path, engine, rate_limit_burst=9, queue_size=3)

    async def main():
        transport = httpx.ASGITransport(app=api.app)
        async with client(api, transport) as http:
            first = asyncio.create_task(http.post("/v1/chat/completions", json=CHAT))
            assert await asyncio.to_thread(engine.started.wait, 10)
            engine.batcher.expect, engine.batcher.all_in = 1 + 8, asyncio.Event()
            burst = asyncio.create_task(load_test.run_load_async(
                "http://test", api.keys["s1"], clients=12, requests=12, model="fake-base",
                transport=transport))
            await engine.batcher.all_in.wait()
            engine.gate.set()
            return await first, await burst

    first, report = run(main())
    assert (first.status_code, first.json()["choices"][0]["message"]["content"]) == (200, REPLY)
    assert {k: report[k] for k in ("tried", "accepted", "rejected", "errors", "lost")} == {
        "tried": 12, "accepted": 3, "rejected": 9, "errors": 0, "lost": 0}
    assert report["reasons"] == {"http_429": 4, "http_503": 5, "ok": 3}
    assert sum(sum(kind.values()) for kind in report["by_kind"].values()) == 12
    metrics = engine.batcher.metrics
    assert (metrics.rejected_total, metrics.queue_depth, metrics.running) == (5, 0, 0)
    assert metrics.errors_total == 0


def test_each_refusal_carries_retry_after_and_the_error_shape(tmp_path):
    engine = GatedEngine(max_queue=1)
    api = ApiHarness(tmp_path, engine, rate_limit_burst=3, queue_size=1)

    async def main():
        async with client(api) as http:
            held = asyncio.create_task(http.post("/v1/chat/completions", json=CHAT))
            assert await asyncio.to_thread(engine.started.wait, 10)
            queued = asyncio.create_task(http.post("/v1/descriptions", json=DESCRIBE))
            engine.batcher.expect, engine.batcher.all_in = 2, asyncio.Event()
            await engine.batcher.all_in.wait()
            full = await http.post("/v1/chat/completions", json=STREAM)
            limited = await http.post("/v1/answers", json=ASK)
            engine.gate.set()
            return full, limited, await held, await queued

    full, limited, held, queued = run(main())
    assert (full.status_code, full.headers["retry-after"], full.json()["error"]["code"]) == (
        503, "2", "overloaded")
    assert full.json()["error"]["message"] == "생성 대기열이 가득 찼습니다 (최대 1건). 2초 후 다시 시도하세요."
    assert (limited.status_code, limited.headers["retry-after"],
            limited.json()["error"]["code"]) == (429, "1", "rate_limited")
    assert held.status_code == 200
    assert queued.status_code == 200 and queued.json()["text"]


def test_load_report_tells_lost_from_refused():
    headers = httpx.Headers({"Retry-After": "2"})
    none = httpx.Headers()
    assert load_test.classify(503, headers, "answer", None) == ("rejected", "http_503")
    assert load_test.classify(429, none, "answer", None) == ("errors", "http_429_without_retry_after")
    assert load_test.classify(500, none, "answer", None) == ("lost", "http_500")
    assert load_test.classify(504, none, "chat", None) == ("lost", "http_504")
    assert load_test.classify(404, none, "answer", None) == ("errors", "http_404")
    assert load_test.classify(200, none, "answer", {"answer": ""}) == ("lost", "broken_body")
    assert load_test.classify(200, none, "description", {"text": "두부", "source": "model"}) == (
        "accepted", "ok")
    report = load_test._report([("chat", "accepted", "ok", 0.1), ("chat_stream", "lost",
                                                                  "stream_cut", 0.2)], 0.3, {})
    assert (report["tried"], report["accepted"], report["lost"]) == (2, 1, 1)
    assert report["by_kind"]["chat_stream"] == {"accepted": 0, "rejected": 0, "errors": 0, "lost": 1}


def test_a_stream_cut_before_done_counts_as_lost(tmp_path):
    async def app(scope, receive, send):  # an SSE body that stops without [DONE]
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b'data: {"choices": []}\n\n'})

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as http:
            return await load_test._stream(http, "/v1/chat/completions", STREAM, "chat_stream")

    assert run(main()) == ("lost", "stream_cut")


# ---------------------------------------------------------------- engine faults
@pytest.mark.parametrize(("path", "body"), [
    ("/v1/descriptions", DESCRIBE), ("/v1/answers", ASK), ("/v1/chat/completions", CHAT)])
def test_engine_failing_mid_generation_is_a_generic_500_and_the_server_recovers(
        tmp_path, caplog, path, body):
    api = ApiHarness(tmp_path, DyingEngine("raise"))

    async def main():
        async with client(api) as http:
            failed = await http.post(path, json=body)
            return failed, await http.get("/readyz"), await http.post(path, json=body)

    with caplog.at_level(logging.ERROR):
        failed, ready, after = run(main())
    assert failed.status_code == 500
    assert failed.json() == {"error": {
        "code": "internal_error", "message": "서버 내부 오류가 발생했습니다. 잠시 후 다시 시도하세요.",
        "details": {"request_id": failed.headers["x-request-id"]}}}
    assert "GPU" not in failed.text
    assert any(r.exc_info and "GPU fell off" in str(r.exc_info[1]) for r in caplog.records)
    assert (ready.status_code, after.status_code) == (200, 200)


def test_engine_failing_mid_stream_ends_with_an_error_event(tmp_path):
    api = ApiHarness(tmp_path, DyingEngine("raise"))

    async def main():
        async with client(api) as http:
            failed = await http.post("/v1/chat/completions", json=STREAM)
            return failed, await http.get("/readyz"), await http.post(
                "/v1/chat/completions", json=STREAM)

    failed, ready, after = run(main())
    events = sse(failed.text)
    assert failed.status_code == 200 and events[-1] == "[DONE]"
    payloads = [json.loads(e) for e in events[:-1]]
    assert "".join(p["choices"][0]["delta"].get("content", "") for p in payloads[:-1]) == "국산콩"
    assert payloads[-1] == {"error": {"code": "internal_error",
                                      "message": "생성 중 서버 오류가 발생했습니다.", "details": None}}
    assert ready.status_code == 200
    assert sse(after.text)[-1] == "[DONE]" and "error" not in after.text


def test_stream_whose_generation_is_cancelled_ends_with_an_error_event(tmp_path):
    api = ApiHarness(tmp_path, DyingEngine("cancel"))

    async def main():
        stream = RawStream(api.app, api.keys["s1"], STREAM)
        try:
            await stream.task
        except asyncio.CancelledError:  # what the server sees: the response is cut here
            pass
        return stream.body.decode()

    events = sse(run(main()))
    assert events[-1] == "[DONE]" and json.loads(events[-2])["error"]["code"] == "internal_error"


def test_engine_stopping_a_row_early_still_gives_whole_answers(tmp_path):
    def ask(path, body):
        api = ApiHarness(tmp_path / path.strip("/").replace("/", "_"), DyingEngine("stop"))

        async def main():
            async with client(api) as http:
                return await http.post(path, json=body)

        return run(main())

    described = ask("/v1/descriptions", DESCRIBE).json()
    assert (described["source"], described["grounding"]["passed"]) == ("fallback", True)
    answered = ask("/v1/answers", ASK).json()
    assert (answered["source"], answered["needs_human"]) == ("fallback", False)
    assert answered["answer"].startswith("배송비는 3,000원입니다.")
    chat = ask("/v1/chat/completions", CHAT).json()["choices"][0]
    assert (chat["message"]["content"], chat["finish_reason"]) == ("국산", "stop")
    events = sse(ask("/v1/chat/completions", STREAM).text)
    finish = json.loads(events[-2])["choices"][0]
    assert (events[-1], finish["finish_reason"]) == ("[DONE]", "stop")


# ---------------------------------------------------------------- client disconnects
class RawStream:
    """One streaming chat request sent straight to the ASGI app, so the test decides when the
    client leaves (httpx's ASGITransport only returns whole responses)."""

    def __init__(self, app, key: str, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.messages: list[dict] = []
        self.first_body, self.gone = asyncio.Event(), asyncio.Event()
        sent = False

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await self.gone.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            self.messages.append(message)
            if message["type"] == "http.response.body" and message.get("body"):
                self.first_body.set()

        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
                 "http_version": "1.1", "method": "POST", "scheme": "http",
                 "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions",
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
                 "server": ("test", 80), "headers": [
                     (b"authorization", f"Bearer {key}".encode()),
                     (b"content-type", b"application/json"),
                     (b"content-length", str(len(payload)).encode())]}
        self.task = asyncio.get_running_loop().create_task(app(scope, receive, send))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


def test_client_leaving_a_queued_stream_frees_its_queue_slot(tmp_path):
    engine = GatedEngine(max_queue=1)
    api = ApiHarness(tmp_path, engine, queue_size=1)

    async def main():
        async with client(api) as http:
            held = asyncio.create_task(http.post("/v1/chat/completions", json=CHAT))
            assert await asyncio.to_thread(engine.started.wait, 10)
            stream = RawStream(api.app, api.keys["s1"], STREAM)
            await stream.first_body.wait()  # the role chunk: the job is queued behind `held`
            assert engine.batcher.metrics.queue_depth == 1
            stream.gone.set()
            await stream.task
            depth = engine.batcher.metrics.queue_depth
            engine.gate.set()
            return depth, await held, await http.post("/v1/chat/completions", json=CHAT)

    depth, held, after = run(main())
    assert depth == 0
    assert (held.status_code, after.status_code) == (200, 200)
    assert len(engine.batches) == 2  # the abandoned stream never reached the runner
    metrics = engine.batcher.metrics
    assert (metrics.finish_reasons["cancelled"], metrics.running, metrics.queue_depth) == (1, 0, 0)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    tiny_models = pytest.importorskip("tiny_models")
    return tiny_models.build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=3)


def test_client_leaving_mid_stream_stops_its_row_on_the_real_engine(tmp_path, tiny_model):
    torch = pytest.importorskip("torch")
    from smallretail_llm.serving.engines.hf_engine import TransformersEngine

    reached, release = threading.Event(), threading.Event()
    worker_reads = itertools.count(1)

    def clock() -> float:  # holds the worker at its 3rd token until the client has left
        if threading.current_thread() is not threading.main_thread() and next(worker_reads) == 3:
            reached.set()
            release.wait(10)
        return 0.0

    threads = torch.get_num_threads()
    engine = TransformersEngine(tiny_model, num_threads=1, max_new_tokens=64, clock=clock)
    api = ApiHarness(tmp_path, engine, max_new_tokens=64)
    chat = {"model": engine.name, "max_tokens": 64,
            "messages": [{"role": "user", "content": "사과 소개해 주세요"}]}

    async def main():
        stream = RawStream(api.app, api.keys["s1"], chat | {"stream": True})
        assert await asyncio.to_thread(reached.wait, 10)
        assert engine.metrics.running == 1
        stream.gone.set()
        await stream.task
        release.set()
        async with client(api) as http:  # runs once the abandoned row has left the worker
            after = await http.post("/v1/chat/completions", json=chat | {"max_tokens": 4})
        await engine.aclose()
        return stream, after

    try:
        stream, after = run(main(), timeout_s=60)
    finally:
        release.set()
        torch.set_num_threads(threads)
    assert stream.messages[0]["status"] == 200 and b"[DONE]" not in stream.body
    assert after.status_code == 200
    metrics = engine.metrics
    assert (metrics.finish_reasons["cancelled"], metrics.running, metrics.queue_depth) == (1, 0, 0)
    assert metrics.completion_tokens_total - after.json()["usage"]["completion_tokens"] < 10


# ---------------------------------------------------------------- the real server
@pytest.mark.slow
def test_real_server_burst_loses_nothing(tmp_path, tiny_model):
    with load_test.local_server(str(tiny_model), tmp_path, queue_size=2, batch_size=2,
                                max_new_tokens=16, rate_limit_burst=20,
                                rate_limit_per_minute=6) as (base, key, product_id, log_path):
        report = load_test.run_load(base, key, clients=16, requests=48, product_id=product_id,
                                    timeout_s=120)
        ready = httpx.get(f"{base}/readyz", timeout=10)
    counts = {k: report[k] for k in ("tried", "accepted", "rejected", "errors", "lost")}
    assert counts["lost"] == 0, (report, log_path.read_text(errors="replace"))
    assert counts["errors"] == 0, report
    assert counts["tried"] == 48 == counts["accepted"] + counts["rejected"]
    assert counts["accepted"] >= 1
    # /v1/models took one token of 20 and 6/min refill slowly: most of the rest were over the
    # key's burst
    assert report["reasons"].get("http_429", 0) >= 20
    assert ready.status_code == 200

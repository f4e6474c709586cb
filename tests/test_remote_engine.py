"""The remote engine: unit tests against an in-process fake OpenAI server (httpx.MockTransport;
retries, no retry after output, timeouts, the circuit breaker on a fake clock, adapter mapping,
streaming), the API over it when the server is down, and integration tests against real
OpenAI-compatible server processes: our own `smallretail serve` on a tiny model, and
llama.cpp's `python -m llama_cpp.server` on its GGUF (when llama-cpp-python can serve)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fake_engine import ApiHarness, FakeClock, tofu
from smallretail_llm.baseline.renderer import render_description
from smallretail_llm.serving.engines.circuit import CircuitBreaker
from smallretail_llm.serving.engines.engine import (
    EngineUnavailable,
    GenerationRequest,
    QueueFull,
    UnknownAdapter,
)
from smallretail_llm.serving.engines.remote_engine import RemoteEngine

CHAT = [{"role": "user", "content": "사과 소개해 주세요"}]


def run(coro):
    return asyncio.run(coro)


def sse(*events: object) -> bytes:
    return b"".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n".encode() for e in events) \
        + b"data: [DONE]\n\n"


def chunk(text: str | None = None, finish: str | None = None) -> dict:
    delta = {} if text is None else {"content": text}
    return {"object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": delta, "finish_reason": finish}]}


USAGE = {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}


def ok(*texts: str, finish: str = "stop", usage: bool = True) -> httpx.Response:
    events = [chunk(t) for t in texts] + [chunk(None, finish)] + ([USAGE] if usage else [])
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(*events))


class Broken(httpx.AsyncByteStream):
    """An SSE body that sends ``events`` then fails with ``error`` (or hangs when None)."""

    def __init__(self, events: list[dict], error: Exception | None) -> None:
        self.events, self.error = events, error

    async def __aiter__(self):
        for event in self.events:
            yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
        if self.error is None:
            await asyncio.Event().wait()
        raise self.error


class FakeServer:
    """Answers with the scripted ``replies`` in order (the last repeats); each is a Response, an
    exception to raise, or a callable(request) giving one of those. Records every request."""

    def __init__(self, *replies) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if callable(reply) and not isinstance(reply, httpx.Response):
            reply = await reply(request)
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def engine(self, **kwargs) -> RemoteEngine:
        kwargs = {"name": "base", "served_model": "Qwen/Qwen3-0.6B",
                  "models": {"nano-lora": "shop-lora-1"}, "api_key": "secret",
                  "retries": 2, "backoff_s": 0.5} | kwargs
        return RemoteEngine("http://model:8000/v1", transport=httpx.MockTransport(self.handle),
                            sleep=self.sleep, **kwargs)


def chat(**kwargs) -> GenerationRequest:
    return GenerationRequest(messages=CHAT, **({"max_new_tokens": 16} | kwargs))


def generate(engine: RemoteEngine, request: GenerationRequest):
    async def go():
        try:
            return await engine.generate(request)
        finally:
            await engine.aclose()
    return run(go())


def test_streams_deltas_with_usage_and_sends_an_openai_body():
    server = FakeServer(ok("사과", "는 ", "국내산", finish="length"))
    engine = server.engine(max_new_tokens=8)

    async def go():
        stream = engine.stream(chat(temperature=0.7, top_p=0.9, seed=3, stop=["\n\n"]))
        await stream.accepted()
        pieces = [piece async for piece in stream]
        await engine.aclose()
        return pieces, stream.result

    pieces, result = run(go())
    assert pieces == ["사과", "는 ", "국내산"]
    assert (result.text, result.finish_reason, result.model) == ("사과는 국내산", "length", "base")
    assert (result.prompt_tokens, result.completion_tokens) == (11, 3)
    (request,) = server.requests
    assert str(request.url) == "http://model:8000/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer secret"
    assert server.bodies[0] == {
        "model": "Qwen/Qwen3-0.6B", "stream": True, "stream_options": {"include_usage": True},
        "max_tokens": 8, "temperature": 0.7, "top_p": 0.9, "stop": ["\n\n"], "seed": 3,
        "messages": CHAT, "chat_template_kwargs": {"enable_thinking": False}}


def test_prompt_goes_to_completions_and_missing_usage_counts_chunks():
    events = [{"choices": [{"index": 0, "text": t, "finish_reason": None}]} for t in ("가", "나")]
    server = FakeServer(httpx.Response(200, headers={"content-type": "text/event-stream"},
                                       content=sse(*events)))
    result = generate(server.engine(), GenerationRequest(prompt="상품:", max_new_tokens=4))
    assert str(server.requests[0].url).endswith("/v1/completions")
    assert server.bodies[0]["prompt"] == "상품:" and "messages" not in server.bodies[0]
    assert (result.text, result.prompt_tokens, result.completion_tokens, result.finish_reason) == (
        "가나", 0, 2, "stop")


def test_a_plain_json_answer_is_read_too():
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "네."},
                         "finish_reason": "stop"}], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    result = generate(FakeServer(httpx.Response(200, json=body)).engine(), chat())
    assert (result.text, result.prompt_tokens, result.completion_tokens) == ("네.", 5, 2)


def test_adapters_map_to_served_models_and_unknown_ones_are_refused():
    server = FakeServer(ok("네"))
    engine = server.engine()
    assert engine.model_names() == ["base", "nano-lora"]

    async def go():
        results = [await engine.generate(chat(adapter=a)) for a in (None, "base", "nano-lora")]
        with pytest.raises(UnknownAdapter, match="ghost"):
            engine.stream(chat(adapter="ghost"))
        with pytest.raises(UnknownAdapter):
            await engine.generate(chat(adapter="ghost"))
        await engine.aclose()
        return results

    results = run(go())
    assert [b["model"] for b in server.bodies] == ["Qwen/Qwen3-0.6B", "Qwen/Qwen3-0.6B", "shop-lora-1"]
    assert [r.model for r in results] == ["base", "base", "nano-lora"]


def test_connection_errors_5xx_and_429_are_retried_with_backoff():
    server = FakeServer(httpx.ConnectError("refused"),
                        httpx.Response(503, json={"error": {"message": "loading"}}),
                        httpx.Response(429, headers={"retry-after": "3"}, json={"error": "busy"}),
                        ok("네"))
    engine = server.engine(retries=3)
    result = generate(engine, chat())
    assert result.text == "네" and len(server.requests) == 4
    assert server.sleeps == [0.5, 1.0, 3.0]  # exponential, or the server's Retry-After if longer
    assert (engine.metrics.retries_total, engine.metrics.failures_total) == (3, 0)
    assert engine.breaker.state == "closed"


def test_retries_run_out_into_engine_unavailable():
    server = FakeServer(httpx.ConnectTimeout("slow connect"))
    engine = server.engine(retries=2)
    with pytest.raises(EngineUnavailable, match="ConnectTimeout") as info:
        generate(engine, chat())
    assert len(server.requests) == 3 and server.sleeps == [0.5, 1.0]
    assert info.value.retry_after_s == 1.0
    assert engine.metrics.failures_total == 1


def test_read_timeout_and_client_errors_are_not_retried():
    server = FakeServer(httpx.ReadTimeout("no bytes"))
    with pytest.raises(EngineUnavailable, match="제시간에"):
        generate(server.engine(), chat())
    assert len(server.requests) == 1 and server.sleeps == []

    server = FakeServer(httpx.Response(400, json={"error": {"message": "prompt too long"}}))
    engine = server.engine()
    with pytest.raises(ValueError, match="400.*prompt too long"):
        generate(engine, chat())
    assert len(server.requests) == 1 and engine.breaker.state == "closed"

    server = FakeServer(httpx.Response(404, json={"error": {"message": "model not found"}}))
    with pytest.raises(EngineUnavailable, match="404.*모델 이름"):
        generate(server.engine(), chat())
    assert len(server.requests) == 1


def test_no_retry_once_output_has_started():
    server = FakeServer(httpx.Response(200, headers={"content-type": "text/event-stream"},
                                       stream=Broken([chunk("사과")], httpx.RemoteProtocolError("reset"))))
    engine = server.engine(retries=3)

    async def go():
        stream = engine.stream(chat())
        pieces = []
        with pytest.raises(EngineUnavailable, match="생성 중 연결이 끊겼습니다"):
            async for piece in stream:
                pieces.append(piece)
        await engine.aclose()
        return pieces

    assert run(go()) == ["사과"]
    assert len(server.requests) == 1 and server.sleeps == []


def test_an_error_event_before_output_is_retried_after_output_it_is_not():
    error = {"error": {"code": "internal_error", "message": "생성 중 서버 오류"}}
    before = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(error))
    server = FakeServer(before, ok("네"))
    assert generate(server.engine(), chat()).text == "네" and len(server.requests) == 2

    after = httpx.Response(200, headers={"content-type": "text/event-stream"},
                           content=sse(chunk("사"), error))
    server = FakeServer(after, ok("네"))
    with pytest.raises(EngineUnavailable, match="생성 중 서버 오류"):
        generate(server.engine(), chat())
    assert len(server.requests) == 1


def test_the_request_deadline_returns_the_text_so_far():
    hanging = httpx.Response(200, headers={"content-type": "text/event-stream"},
                             stream=Broken([chunk("사과")], None))
    server = FakeServer(hanging)
    engine = server.engine()
    result = generate(engine, chat(timeout_s=0.05))
    assert (result.text, result.finish_reason) == ("사과", "timeout")
    assert engine.breaker.state == "closed"  # it answered: slow, not down


def test_breaker_opens_refuses_then_probes_once_and_closes():
    clock = FakeClock()
    server = FakeServer(httpx.ConnectError("refused"))
    engine = server.engine(retries=0, breaker=CircuitBreaker(2, 10, clock=clock))

    async def go():
        for _ in range(2):
            with pytest.raises(EngineUnavailable, match="ConnectError"):
                await engine.generate(chat())
        assert engine.breaker.state == "open" and not engine.metrics.up
        with pytest.raises(EngineUnavailable, match="회로 차단") as refused:
            engine.stream(chat())  # refused at once, nothing sent
        assert refused.value.retry_after_s == 10 and len(server.requests) == 2

        clock.advance(10)  # half-open: one probe; it fails, so open again for 10 s
        assert engine.breaker.state == "half_open"
        with pytest.raises(EngineUnavailable, match="ConnectError"):
            await engine.generate(chat())
        assert engine.breaker.state == "open" and len(server.requests) == 3
        clock.advance(5)
        with pytest.raises(EngineUnavailable, match="회로 차단"):
            await engine.generate(chat())

        clock.advance(5)  # the next probe succeeds; while it runs, others are refused
        gate = asyncio.Event()

        async def slow(_request):
            await gate.wait()
            return ok("네")

        server.replies = [slow]
        probe = asyncio.create_task(engine.generate(chat()))
        await asyncio.sleep(0)
        while len(server.requests) < 4:
            await asyncio.sleep(0)
        with pytest.raises(EngineUnavailable, match="회로 차단"):
            await engine.generate(chat())
        gate.set()
        assert (await probe).text == "네"
        assert engine.breaker.state == "closed" and engine.metrics.up
        server.replies = [ok("또")]
        assert (await engine.generate(chat())).text == "또"
        await engine.aclose()

    run(go())
    assert engine.breaker.opened_total == 2 and engine.metrics.refused_total == 3


def test_breaker_unit_states_with_a_fake_clock():
    clock = FakeClock()
    breaker = CircuitBreaker(3, 30, clock=clock)
    breaker.failure()
    breaker.failure()
    breaker.success()  # a success resets the count: failures must be consecutive
    breaker.failure()
    breaker.failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.failure()
    assert (breaker.state, breaker.allow(), breaker.retry_after_s()) == ("open", False, 30)
    clock.advance(30)
    assert breaker.allow() and not breaker.allow()  # one probe only
    breaker.cancel()  # the probe's caller went away: another may probe
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed"
    with pytest.raises(ValueError, match="failures"):
        CircuitBreaker(0)


def test_in_flight_limit_answers_queue_full():
    gate = asyncio.Event()

    async def slow(_request):
        await gate.wait()
        return ok("네")

    engine = FakeServer(slow).engine(max_in_flight=1, retry_after_s=2)

    async def go():
        first = asyncio.create_task(engine.generate(chat()))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull):
            engine.stream(chat())
        gate.set()
        await first
        await engine.aclose()

    run(go())


def down_api(tmp_path, **settings) -> ApiHarness:
    """The API over a remote engine whose server refuses every connection."""
    server = FakeServer(httpx.ConnectError("connection refused"))
    engine = server.engine(name="fake-base", models={}, retries=0,
                           breaker=CircuitBreaker(2, 30, clock=FakeClock()))
    return ApiHarness(tmp_path, engine=engine, **settings)  # type: ignore[arg-type]


def test_api_answers_without_the_model_when_the_server_is_down(tmp_path):
    with down_api(tmp_path) as api:
        check_degraded_api(api)


def check_degraded_api(api: ApiHarness) -> None:
    """Descriptions: the renderer; answers: the rules answer; chat: 503 + Retry-After."""
    r = api.client.post("/v1/descriptions", headers=api.auth(),
                        json={"product_id": "TOFU-300", "style": "intro"})
    body = r.json()
    assert r.status_code == 200, body
    record = tofu("s1", name="국산콩 두부 s1")
    assert (body["source"], body["engine_down"], body["regenerations"]) == ("fallback", True, 0)
    assert body["text"] == render_description(record, "intro", "polite", api.store.get_policy("s1"))
    assert body["grounding"]["passed"] is True and body["usage"]["total_tokens"] == 0

    r = api.client.post("/v1/answers", headers=api.auth(),
                        json={"product_id": "TOFU-300", "question": "소비기한이 언제까지예요?"})
    body = r.json()
    assert (body["source"], body["engine_down"], body["needs_human"], body["evidence"]) == (
        "fallback", True, False, ["use_by"])
    assert "2026-03-01" in body["answer"]
    r = api.client.post("/v1/answers", headers=api.auth(),
                        json={"product_id": "TOFU-300", "question": "전자레인지에 돌려도 되나요?"})
    assert (r.json()["source"], r.json()["engine_down"], r.json()["needs_human"]) == (
        "handoff", True, True)

    for stream in (False, True):  # the breaker is open now: refused at once
        r = api.client.post("/v1/chat/completions", headers=api.auth(), json={
            "model": api.engine.model_names()[0], "messages": CHAT, "stream": stream})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "engine_unavailable"
        assert int(r.headers["retry-after"]) >= 1
    assert api.client.get("/readyz").status_code == 200  # degraded, still serving
    metrics = api.client.get("/metrics").text
    assert "smallretail_engine_up 0.0" in metrics
    for task, count in (("description", 1), ("answer", 2), ("chat", 2)):
        assert f'smallretail_engine_unavailable_total{{task="{task}"}} {count}.0' in metrics


def test_stream_that_fails_before_output_is_a_503_not_a_broken_200(tmp_path):
    with down_api(tmp_path) as api:
        r = api.client.post("/v1/chat/completions", headers=api.auth(),
                            json={"model": "fake-base", "messages": CHAT, "stream": True})
        assert (r.status_code, r.json()["error"]["code"]) == (503, "engine_unavailable")
        assert "연결할 수 없습니다" in r.json()["error"]["message"]


# -- real OpenAI-compatible server processes ------------------------------------------------------

REPLY = "사과는 국내산입니다."


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict[str, str], ready_path: str, log: Path,
          timeout_s: float = 120) -> subprocess.Popen:
    """Start a server process and wait (bounded) until ``ready_path`` answers 200."""
    from smallretail_llm.serving.server_process import wait_ready

    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_ready(base, proc, timeout_s, lambda: log.read_text(errors="replace")) \
            if ready_path == "/readyz" else _wait_for(base + ready_path, proc, timeout_s, log)
    except BaseException:
        proc.kill()
        proc.wait(5)
        raise
    return proc


def _wait_for(url: str, proc: subprocess.Popen, timeout_s: float, log: Path) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """`smallretail serve` on a tiny model fitted to answer REPLY, with one LoRA adapter."""
    from smallretail_llm.data.prompts import PROMPT_VERSIONS
    from smallretail_llm.db.keys import create_key
    from smallretail_llm.db.store import Store
    from smallretail_llm.models.adapter import ADAPTER_META
    from tiny_models import build_lora_adapter, build_tiny_model

    tmp = tmp_path_factory.mktemp("backend")
    model = build_tiny_model(tmp / "tiny", reply=REPLY)
    lora = build_lora_adapter(model, tmp / "tiny-lora", seed=1)
    versions = [f"{task}.{version}" for task, version in PROMPT_VERSIONS.items()]
    (lora / ADAPTER_META).write_text(json.dumps({"prompt_versions": versions}), encoding="utf-8")
    db = f"sqlite:///{tmp / 'backend.db'}"
    key = create_key(Store(db), "backend")
    port = str(free_port())
    env = {"SMALLRETAIL_DB": db, "SMALLRETAIL_MODEL": str(model), "SMALLRETAIL_NUM_THREADS": "1",
           "SMALLRETAIL_ADAPTER": f"tiny-lora={lora}", "SMALLRETAIL_MAX_NEW_TOKENS": "24",
           "SMALLRETAIL_LOG_LEVEL": "WARNING", "PORT": port}
    smallretail = Path(sys.executable).with_name("smallretail")
    proc = start([str(smallretail), "serve", "--host", "127.0.0.1", "--port", port], env,
                 "/readyz", tmp / "backend.log")
    yield proc, f"http://127.0.0.1:{port}", key
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def test_against_our_own_server_process_then_it_dies(backend, tmp_path):
    from smallretail_llm.serving.engines.factory import build_remote_engine
    from smallretail_llm.serving.settings import Settings

    proc, base, key = backend
    settings = Settings(db=f"sqlite:///{tmp_path / 'unused.db'}", engine="remote",
                        remote_url=f"{base}/v1", remote_api_key=key, model="tiny",
                        remote_models="shop-lora=tiny-lora,ghost=no-such-model", remote_retries=0,
                        breaker_failures=2, breaker_reset_s=30, max_new_tokens=24)

    async def direct():
        engine = build_remote_engine(settings)
        try:
            stream = engine.stream(GenerationRequest(messages=CHAT, max_new_tokens=24))
            await stream.accepted()
            pieces = [piece async for piece in stream]
            whole = await engine.generate(GenerationRequest(messages=CHAT, max_new_tokens=24))
            lora = await engine.generate(GenerationRequest(messages=CHAT, max_new_tokens=4,
                                                           adapter="shop-lora"))
            with pytest.raises(EngineUnavailable, match="404"):
                await engine.generate(GenerationRequest(messages=CHAT, adapter="ghost"))
            return pieces, stream.result, whole, lora
        finally:
            await engine.aclose()

    pieces, streamed, whole, lora = run(direct())
    assert "".join(pieces) == REPLY == whole.text and len(pieces) > 1
    assert (streamed.finish_reason, streamed.completion_tokens) == (
        whole.finish_reason, whole.completion_tokens)
    assert streamed.prompt_tokens > 0 and streamed.completion_tokens > 1  # the server's usage
    assert lora.model == "shop-lora" and lora.completion_tokens <= 4  # served as "tiny-lora"

    engine = build_remote_engine(settings.model_copy(update={"remote_models": {}}))
    with ApiHarness(tmp_path, engine=engine, max_new_tokens=24, max_regenerations=0) as api:  # type: ignore[arg-type]
        r = api.client.post("/v1/descriptions", headers=api.auth(),
                            json={"product_id": "TOFU-300", "style": "intro"})
        assert r.status_code == 200 and r.json()["engine_down"] is False
        assert r.json()["usage"]["completion_tokens"] > 0  # the real model drafted it
        r = api.client.post("/v1/chat/completions", headers=api.auth(),
                            json={"model": "tiny", "messages": CHAT})
        assert r.json()["choices"][0]["message"]["content"] == REPLY

        proc.kill()  # the model server dies mid-way
        proc.wait(10)
        check_degraded_api(api)


def llama_server_missing() -> str | None:
    if not os.environ.get("LLAMA_CPP_CONVERTER"):
        return "LLAMA_CPP_CONVERTER(convert_hf_to_gguf.py)가 없어 GGUF 를 만들 수 없음"
    for module in ("llama_cpp", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            return f"llama_cpp.server 에 필요한 {module} 가 설치되어 있지 않음"
    return None


@pytest.mark.skipif(llama_server_missing() is not None, reason=str(llama_server_missing()))
def test_against_llama_cpp_server(tmp_path):
    import torch

    from smallretail_llm.models import nano
    from smallretail_llm.models.export import gguf_file

    corpus = [f"상품명: 사과 {i}kg 가격: {i * 1000}원 보관: 냉장 배송비: 3,000원" for i in range(1, 40)]
    shape = nano.NanoShape(vocab_size=600, hidden_size=64, intermediate_size=128, num_layers=2,
                           num_heads=4, num_kv_heads=2, context=256)
    model = tmp_path / "tiny"
    tokenizer = nano.train_tokenizer(corpus, model, vocab_size=shape.vocab_size)
    torch.manual_seed(0)
    nano.new_model(tokenizer, shape).save_pretrained(model)
    gguf = gguf_file(model, "f32", tmp_path)
    assert gguf is not None
    port = str(free_port())
    proc = start([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
                  "--model_alias", "tiny-gguf", "--host", "127.0.0.1", "--port", port,
                  "--n_ctx", "256", "--n_threads", "1", "--verbose", "false"],
                 {"PORT": port}, "/v1/models", tmp_path / "llama.log", timeout_s=60)

    async def go():
        engine = RemoteEngine(f"http://127.0.0.1:{port}", name="tiny-gguf", retries=0,
                              models={"shop": "tiny-gguf"})
        try:
            request = GenerationRequest(messages=CHAT, max_new_tokens=8)
            stream = engine.stream(request)
            pieces = [piece async for piece in stream]
            whole = await engine.generate(request)
            shop = await engine.generate(GenerationRequest(messages=CHAT, max_new_tokens=8,
                                                           adapter="shop"))
            return pieces, stream.result, whole, shop
        finally:
            await engine.aclose()

    try:
        pieces, streamed, whole, shop = run(go())
    finally:
        proc.kill()
        proc.wait(5)
    assert pieces and "".join(pieces) == streamed.text == whole.text == shop.text  # greedy
    assert streamed.finish_reason in ("stop", "length") and 0 < streamed.completion_tokens <= 8
    assert shop.model == "shop"

"""An ``Engine`` that forwards generations to an OpenAI-compatible server: vLLM (with
``--enable-lora``: each LoRA module is a served model), llama.cpp's ``llama-server`` or
``llama_cpp.server``, TGI, or another smallretail API.

Why: at scale the model runs on its own GPU servers (continuous batching, multi-LoRA) and the
API tier stays stateless; on CPU a llama.cpp server can be shared by several API replicas.

- ``messages`` go to ``/v1/chat/completions``, ``prompt`` to ``/v1/completions``, always with
  ``stream: true`` (SSE); text deltas are passed on as they arrive. Usage comes from the
  server's last chunk (``stream_options.include_usage``); a server that sends none is reported
  as 0 prompt tokens and one completion token per content chunk.
- ``request.adapter`` names an adapter as the shop sees it; ``models`` maps it to the served
  model name (e.g. "nano-lora" -> the vLLM LoRA module). No adapter: ``served_model``.
- Connection errors, 5xx and 429 are retried (exponential backoff, a Retry-After header is
  honoured up to ``max_backoff_s``) only before the first delta: output already sent is never
  repeated. A read timeout is not retried (the server is alive but stuck; a retry adds load).
- A ``CircuitBreaker`` counts requests that failed after their retries; while it is open every
  request fails at once. Failures raise ``EngineUnavailable``; a 400/413/422 from the server
  (e.g. a prompt longer than its context) raises ValueError, like the local engines.
- ``timeout_s`` of a request is its deadline: when it passes, the text so far is returned with
  finish reason "timeout" (as the local engines do).
- ``max_in_flight`` bounds the requests waiting on the server (QueueFull beyond it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from smallretail_llm.serving.engines.circuit import CircuitBreaker
from smallretail_llm.serving.engines.engine import (
    EngineUnavailable,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    QueueFull,
    TextStream,
    UnknownAdapter,
)

logger = logging.getLogger(__name__)

_BAD_REQUEST = (400, 413, 422)


@dataclass
class RemoteMetrics:
    """Plain counters the API exports (``api.metrics``) next to the breaker's state."""

    breaker: CircuitBreaker = field(repr=False)
    in_flight: int = 0
    requests_total: int = 0
    retries_total: int = 0
    failures_total: int = 0  # requests that ended in EngineUnavailable (refusals included)
    refused_total: int = 0  # refused at once by the open breaker

    @property
    def up(self) -> bool:
        return self.breaker.state != "open"


class _Retryable(Exception):
    """A failure before any output that another attempt may not have."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after_s = reason, retry_after_s


class RemoteEngine:
    """An ``Engine`` over an OpenAI-compatible HTTP server (see the module doc)."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        served_model: str | None = None,
        models: Mapping[str, str] | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        max_backoff_s: float = 10.0,
        breaker: CircuitBreaker | None = None,
        max_new_tokens: int = 1024,
        max_in_flight: int = 64,
        retry_after_s: float = 1.0,
        chat_template_kwargs: Mapping[str, object] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``base_url``: the server's root or its ``/v1``. ``name``: the base model's name as
        clients see it; ``served_model``: its name on the server (default ``name``).
        ``models``: adapter name -> served model name. ``timeout_s``: longest wait for the next
        byte; ``connect_timeout_s``: for a connection. ``retries``: extra attempts before the
        first delta. ``chat_template_kwargs`` are sent with chat requests (vLLM reads them;
        the default turns Qwen3's thinking off). ``transport`` and ``sleep`` are for tests."""
        if retries < 0:
            raise ValueError(f"retries 는 0 이상이어야 합니다: {retries}")
        root = base_url.rstrip("/").removesuffix("/v1")
        self.name = name
        self.served_model = served_model or name
        self.models = dict(models or {})
        for adapter in self.models:
            if not adapter or adapter == name:
                raise ValueError(f"어댑터 이름으로 쓸 수 없습니다: '{adapter}'")
        self.retries, self.backoff_s, self.max_backoff_s = retries, backoff_s, max_backoff_s
        self.max_new_tokens, self.max_in_flight = max_new_tokens, max_in_flight
        self.retry_after_s = retry_after_s
        self.breaker = breaker or CircuitBreaker()
        self._template_kwargs = dict(chat_template_kwargs if chat_template_kwargs is not None
                                     else {"enable_thinking": False})
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=root, headers=headers, transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=max_in_flight))
        self._metrics = RemoteMetrics(self.breaker)
        self._ready = True

    # -- Engine protocol --------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True until closed: with the server down the API still answers (without the model),
        so this replica stays ready; ``metrics.up`` tells whether the server is reachable."""
        return self._ready

    @property
    def metrics(self) -> RemoteMetrics:
        return self._metrics

    def model_names(self) -> list[str]:
        return [self.name, *self.models]

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        return await self._run(request, self._prepare(request), None, None)

    def stream(self, request: GenerationRequest) -> RemoteStream:
        """UnknownAdapter, QueueFull and an open breaker (EngineUnavailable) are raised here;
        a server failure is raised by ``accepted()`` or while iterating."""
        prepared = self._prepare(request)
        deltas: asyncio.Queue[str] = asyncio.Queue()
        opened = asyncio.Event()
        task = asyncio.get_running_loop().create_task(
            self._run(request, prepared, deltas.put_nowait, opened.set))
        return RemoteStream(deltas, task, opened)

    async def aclose(self) -> None:
        self._ready = False
        await self._client.aclose()

    # -- internals ------------------------------------------------------------------------------

    def _prepare(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """The path and JSON body; checks adapter, capacity and an open breaker (in order)."""
        if request.adapter is None or request.adapter == self.name:
            model = self.served_model
        elif request.adapter in self.models:
            model = self.models[request.adapter]
        else:
            raise UnknownAdapter(request.adapter, list(self.models))
        if self._metrics.in_flight >= self.max_in_flight:
            raise QueueFull(self.max_in_flight, self.retry_after_s)
        if self.breaker.state == "open":  # fail now; the half-open probe is taken in _run
            raise self._refused()
        body: dict[str, Any] = {
            "model": model, "stream": True, "stream_options": {"include_usage": True},
            "max_tokens": min(request.max_new_tokens, self.max_new_tokens),
            "temperature": request.temperature, "top_p": request.top_p}
        if request.stop:
            body["stop"] = list(request.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        if request.ignore_eos:
            body["ignore_eos"] = True  # vLLM's extension; other servers ignore it
        if request.messages is not None:
            body["messages"] = [dict(m) for m in request.messages]
            if self._template_kwargs:
                body["chat_template_kwargs"] = self._template_kwargs
            return "/v1/chat/completions", body
        body["prompt"] = request.prompt
        return "/v1/completions", body

    async def _run(self, request: GenerationRequest, prepared: tuple[str, dict[str, Any]],
                   on_text: Callable[[str], None] | None,
                   on_open: Callable[[], None] | None) -> GenerationResult:
        path, body = prepared
        if not self.breaker.allow():  # open, or half-open with its probe already out
            raise self._refused()
        out = _Output(request.adapter or self.name, on_text, on_open)
        self._metrics.in_flight += 1
        self._metrics.requests_total += 1
        try:
            async with asyncio.timeout(request.timeout_s):
                await self._attempts(path, body, out)
        except TimeoutError:  # the request's own deadline
            self._verdict(ok=bool(out.parts))
            out.finish = "timeout"
        except EngineUnavailable:
            self._verdict(ok=False)
            raise
        except asyncio.CancelledError:
            self.breaker.cancel()  # no verdict: a half-open breaker may probe again
            raise
        except ValueError:  # a 400/413/422: the server answered, so it is up
            self._verdict(ok=True)
            raise
        except Exception:
            self._verdict(ok=False)
            raise
        else:
            self._verdict(ok=True)
        finally:
            self._metrics.in_flight -= 1
        return out.result()

    def _refused(self) -> EngineUnavailable:
        self._metrics.refused_total += 1
        self._metrics.failures_total += 1
        return EngineUnavailable("연속된 실패로 잠시 요청을 보내지 않습니다 (회로 차단)",
                                 max(1.0, self.breaker.retry_after_s()))

    def _verdict(self, *, ok: bool) -> None:
        if ok:
            self.breaker.success()
        else:
            self._metrics.failures_total += 1
            self.breaker.failure()

    async def _attempts(self, path: str, body: dict[str, Any], out: _Output) -> None:
        for attempt in range(self.retries + 1):
            try:
                await self._attempt(path, body, out)
                return
            except _Retryable as exc:
                failure = exc
            except httpx.ReadTimeout as exc:
                raise EngineUnavailable("응답이 제시간에 오지 않았습니다") from exc
            except httpx.TransportError as exc:
                if out.parts:  # output already sent: never repeated
                    raise EngineUnavailable(f"생성 중 연결이 끊겼습니다 ({type(exc).__name__})") from exc
                failure = _Retryable(f"연결할 수 없습니다 ({type(exc).__name__})")
            if out.parts:
                raise EngineUnavailable(f"생성 중 서버 오류가 났습니다 ({failure.reason})")
            if attempt == self.retries:
                raise EngineUnavailable(failure.reason, max(1.0, failure.retry_after_s or 0))
            delay = min(self.max_backoff_s,
                        max(self.backoff_s * 2**attempt, failure.retry_after_s or 0))
            logger.warning("remote engine: %s; retry %d/%d in %.1fs", failure.reason,
                           attempt + 1, self.retries, delay)
            self._metrics.retries_total += 1
            await self._sleep(delay)

    async def _attempt(self, path: str, body: dict[str, Any], out: _Output) -> None:
        async with self._client.stream("POST", path, json=body) as response:
            if response.status_code >= 400:
                await response.aread()
                message = _error_message(response)
                status = response.status_code
                if status in _BAD_REQUEST:
                    raise ValueError(f"생성 서버가 요청을 거절했습니다 ({status}): {message}")
                if status == 429 or status >= 500:
                    raise _Retryable(f"서버 오류 {status}: {message}",
                                     _retry_after(response.headers.get("retry-after")))
                raise EngineUnavailable(f"서버가 {status} 로 거절했습니다 "
                                        f"(설정 확인: 주소, API 키, 모델 이름): {message}")
            if out.on_open is not None:
                out.on_open()
            if response.headers.get("content-type", "").startswith("application/json"):
                out.chunk(json.loads(await response.aread()), whole=True)
                return
            async for payload in _sse(response):
                if payload == "[DONE]":
                    return
                try:
                    data = json.loads(payload)
                except json.JSONDecodeError:
                    raise _Retryable(f"서버가 JSON 이 아닌 이벤트를 보냈습니다: {payload[:80]!r}") from None
                if not isinstance(data, dict) or "error" in data:
                    raise _Retryable(f"서버가 생성 중 오류를 보냈습니다: {_message(data)}")
                out.chunk(data)


class RemoteStream(TextStream):
    """A ``TextStream`` that can wait until the server has accepted the request."""

    def __init__(self, deltas: asyncio.Queue, task: asyncio.Task[GenerationResult],
                 opened: asyncio.Event) -> None:
        super().__init__(deltas, task)
        self._opened = opened

    async def accepted(self) -> None:
        """Return once the server answered 200 (or the generation ended); raise its failure
        (EngineUnavailable, ValueError) otherwise. The API calls this before it sends a status
        line, so a server that is down gets a 503 rather than an error inside a 200 stream."""
        waiter = asyncio.ensure_future(self._opened.wait())
        try:
            await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not self._opened.is_set() and self._task.done() and not self._task.cancelled():
            self._task.result()  # raises the failure


class _Output:
    """What one request has produced so far."""

    def __init__(self, model: str, on_text: Callable[[str], None] | None,
                 on_open: Callable[[], None] | None) -> None:
        self.model, self.on_text, self.on_open = model, on_text, on_open
        self.parts: list[str] = []
        self.finish: FinishReason | None = None
        self.usage: dict[str, Any] | None = None

    def chunk(self, data: dict[str, Any], whole: bool = False) -> None:
        if data.get("usage"):
            self.usage = data["usage"]
        choices = data.get("choices") or []
        if choices and isinstance(choices[0], dict):
            choice = choices[0]
            source = choice.get("message" if whole else "delta") or {}
            text = source.get("content") if isinstance(source, dict) else None
            text = text if text is not None else choice.get("text")  # /v1/completions
            if text:
                self.parts.append(text)
                if self.on_text is not None:
                    self.on_text(text)
            if choice.get("finish_reason"):
                self.finish = "length" if choice["finish_reason"] == "length" else "stop"

    def result(self) -> GenerationResult:
        usage = self.usage or {}
        return GenerationResult(
            text="".join(self.parts), prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or len(self.parts)),
            finish_reason=self.finish or "stop", model=self.model)


async def _sse(response: httpx.Response):
    """The ``data`` of each server-sent event (multi-line data joined by newlines)."""
    lines: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
        elif not line and lines:
            yield "\n".join(lines)
            lines = []
    if lines:
        yield "\n".join(lines)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: not worth parsing for a retry hint
        return None


def _message(data: Any) -> str:
    """The message of an OpenAI-style ``{"error": {"message"}}`` (or anything else, shortened)."""
    error = data.get("error", data) if isinstance(data, dict) else data
    return str(error.get("message") or error if isinstance(error, dict) else error)[:300]


def _error_message(response: httpx.Response) -> str:
    try:
        return _message(response.json())
    except ValueError:
        return response.text[:300]

"""The one ASGI middleware around every request: request id, body size limit (413), access log
and metrics, and the catch-all that turns an unexpected exception into a logged, generic 500."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smallretail_llm.serving.api.errors import ApiError, error_body
from smallretail_llm.serving.api.metrics import ApiMetrics

access_log = logging.getLogger("smallretail_llm.access")
log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_QUIET = frozenset({"/healthz", "/readyz", "/metrics"})


async def send_json(send: Send, status: int, body: dict[str, Any],
                     headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        *headers]})
    await send({"type": "http.response.body", "body": payload})


class Guard:
    """``limits`` maps a path to its body limit; every other path gets ``default_limit``."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, default_limit: int,
                 limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.default_limit = default_limit
        self.limits = limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                extra = (scope.get("state") or {}).get("extra_headers", [])
                message = {**message, "headers": [*message.get("headers", []), id_header,
                                                  *extra]}
            await send(message)

        limit = self.limits.get(scope["path"], self.default_limit)
        try:
            declared = int(headers.get("content-length", "0"))
        except ValueError:
            declared = 0
        try:
            if declared > limit:
                status = 413
                await send_json(send, 413, _too_large(limit), [id_header])
            else:
                await self.app(scope, _limited(receive, limit), send_wrapper)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id,
                                                    "path": scope["path"]})
            if not response_started:
                status = 500
                await send_json(send, 500, error_body(
                    "internal_error", "서버 내부 오류가 발생했습니다. 잠시 후 다시 시도하세요.",
                    {"request_id": request_id}), [id_header])
        finally:
            self._observe(scope, status, time.perf_counter() - started_at, request_id)

    def _observe(self, scope: Scope, status: int, elapsed: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(elapsed)
        state = scope.get("state") or {}
        level = logging.DEBUG if scope["path"] in _QUIET and status < 400 else logging.INFO
        access_log.log(level, "%s %s %d", method, template, status, extra={
            "request_id": request_id, "method": method, "route": template, "status": status,
            "duration_ms": round(elapsed * 1000, 1), "shop": state.get("shop_id")})


def _too_large(limit: int) -> dict[str, Any]:
    return error_body("payload_too_large",
                      f"요청 본문이 너무 큽니다 (최대 {limit:,}바이트).", {"max_bytes": limit})


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that stops a body (also a chunked one) once it passes ``limit`` bytes."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                error = _too_large(limit)["error"]
                raise ApiError(413, error["code"], error["message"], error["details"])
        return message

    return wrapped

"""Who may talk to the API, decided before any body is read: the key of a ``/v1`` request is
checked here (so a malformed body without a key is a 401, not a 400), failed authentications
are rate-limited per client address, and keyless demo mode accepts only local Host and Origin
headers (a cross-site form or a DNS-rebinding page gets 403).

Keyed mode and browsers: keys travel only in the Authorization header (never cookies), so a
cross-site page cannot make an authenticated request, and no CORS headers are sent: browsers
block cross-origin reads. The console is same-origin."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from smallretail_llm.serving.api.errors import error_body
from smallretail_llm.serving.api.middleware import send_json
from smallretail_llm.serving.api.ratelimit import RateLimiter

log = logging.getLogger(__name__)

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_MAX_TRACKED = 10_000  # client addresses remembered for the failed-auth limit


def host_name(value: str) -> str:
    """ "Example.com:8000" -> "example.com"; "[::1]:80" -> "[::1]"."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[:value.find("]") + 1]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def database_down(retry_s: int = 5) -> tuple[int, dict, list[tuple[bytes, bytes]]]:
    return 503, error_body("database_unavailable", "데이터베이스에 잠시 연결할 수 없습니다. "
                           f"{retry_s}초 후 다시 시도하세요."), [(b"retry-after", str(retry_s).encode())]


class AuthGate:
    """Pure ASGI middleware; the key's ``KeyInfo`` lands in ``scope["state"]["key_info"]``."""

    def __init__(self, app: ASGIApp, services) -> None:
        self.app = app
        self.services = services
        settings = services.settings
        self.failures = RateLimiter(settings.auth_failures_per_minute,
                                    settings.auth_failures_burst)
        self.blocked: dict[str, float] = {}
        self.local = LOCAL_NAMES | set(settings.allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = await self._refusal(scope, headers)
        if refusal is not None:
            status, body, extra = refusal
            await send_json(send, status, body, extra)
            return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope, headers: dict[str, str]):
        settings = self.services.settings
        if settings.demo and not self._local_request(headers):
            self.services.metrics.rejected.labels("foreign_origin").inc()
            return 403, error_body("forbidden_origin", "데모 모드는 이 컴퓨터(localhost)의 "
                                   "페이지에서만 쓸 수 있습니다.", {"host": headers.get("host")}), []
        if not scope["path"].startswith("/v1/") or scope["method"] == "OPTIONS":
            return None
        client = (scope.get("client") or ("?", 0))[0]
        now = time.monotonic()
        if self.blocked.get(client, 0) > now:
            return self._too_many(self.blocked[client] - now)
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if not credentials.strip() or scheme.lower() != "bearer":
            if settings.demo and "authorization" not in headers:
                return None
            return self._failed(client, now, "missing_api_key", "API 키가 필요합니다. "
                                "'Authorization: Bearer <키>' 헤더를 보내세요.")
        try:
            info = await self.services.offload(self.services.keys.authenticate,
                                               credentials.strip())
        except SQLAlchemyError as exc:
            log.warning("auth: database unavailable: %s", type(exc).__name__)
            self.services.metrics.rejected.labels("database_unavailable").inc()
            return database_down()
        if info is None:
            return self._failed(client, now, "invalid_api_key",
                                "API 키가 올바르지 않거나 폐기·만료되었습니다.")
        scope.setdefault("state", {})["key_info"] = info
        return None

    def _failed(self, client: str, now: float, code: str, message: str):
        self.services.metrics.rejected.labels("unauthorized").inc()
        wait = self.failures.take(client)
        if wait > 0:
            if len(self.blocked) > _MAX_TRACKED:
                self.blocked = {c: t for c, t in self.blocked.items() if t > now}
            self.blocked[client] = now + wait
            return self._too_many(wait)
        return 401, error_body(code, message), [(b"www-authenticate", b"Bearer")]

    def _too_many(self, wait: float):
        self.services.metrics.rejected.labels("auth_rate_limited").inc()
        seconds = max(1, int(wait + 0.999))
        return 429, error_body("too_many_failed_auth", "인증 실패가 너무 많습니다. "
                               f"{seconds}초 후 다시 시도하세요.", {"retry_after_s": seconds}), [
            (b"retry-after", str(seconds).encode())]

    def _local_request(self, headers: dict[str, str]) -> bool:
        if host_name(headers.get("host", "")) not in self.local:
            return False
        origin = headers.get("origin")
        if origin is None:  # not sent by same-origin GETs and non-browser clients
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in {
            h.strip("[]") for h in self.local}

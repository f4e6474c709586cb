"""The app factory: ``create_app(settings, engine)`` wires services onto ``app.state`` (no
import-time globals), so tests and processes can build as many apps as they like."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from smallretail_llm.db.keys import ApiKeys
from smallretail_llm.db.store import Store
from smallretail_llm.db.usage import Usage
from smallretail_llm.serving.api import (
    routes_admin,
    routes_catalog,
    routes_generation,
    routes_openai,
    routes_ops,
)
from smallretail_llm.serving.api.auth import AuthGate
from smallretail_llm.serving.api.deps import Services
from smallretail_llm.serving.api.docs import install_docs
from smallretail_llm.serving.api.errors import install_error_handlers
from smallretail_llm.serving.api.metrics import ApiMetrics
from smallretail_llm.serving.api.middleware import Guard
from smallretail_llm.serving.api.ratelimit import RateLimiter
from smallretail_llm.serving.api.routes_console import install_console
from smallretail_llm.serving.engines.engine import Engine
from smallretail_llm.serving.offload import Offload
from smallretail_llm.serving.settings import Settings, is_loopback

log = logging.getLogger(__name__)

IMPORT_PATH = "/v1/products/import"

DESCRIPTION = """\
소규모 쇼핑몰의 상품 DB로 **근거 있는** 상품 설명과 고객 답변을 만듭니다.

- 모든 `/v1` 요청은 `Authorization: Bearer <API 키>` 가 필요하고, 키는 한 상점의 상품만 봅니다.
- 생성된 문구는 상품 기록과 대조해 검사하며, 통과하지 못하면 다시 생성하거나 규칙 기반 문구로 바꿉니다.
- 오류는 모두 `{"error": {"code", "message", "details"}}` 형식입니다.
"""


def create_app(settings: Settings, engine: Engine, store: Store | None = None, *,
               clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """The API over ``engine`` and the product DB at ``settings.db`` (or ``store``).
    ``clock`` drives the rate limiter (tests pass a fake one)."""
    if settings.demo and not is_loopback(settings.host):
        raise ValueError(f"API 키 없는 데모 모드는 127.0.0.1 에서만 쓸 수 있습니다 (host: {settings.host})")
    store = store or Store(settings.db)
    metrics = ApiMetrics(engine, shop_labels=settings.metrics_shop_labels,
                         salt=settings.metrics_salt.get_secret_value())
    services = Services(
        settings=settings, engine=engine, store=store, keys=ApiKeys(store), metrics=metrics,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst, clock),
        usage=Usage(store, settings.limits()), offload=Offload(settings.blocking_threads))

    if settings.quota_tokens_per_day or settings.quota_tokens_per_month:
        metrics.on_tokens = services.usage.add_tokens_for_current_shop

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.demo:
            log.warning("키 없는 로컬 데모 모드: API 키 없이 상점 '%s'으로 응답합니다 (%s 에서만)",
                        settings.demo_shop, settings.host)
        log.info("smallretail API ready", extra={"model": engine.model_names()[0],
                                                 "host": settings.host, "port": settings.port})
        yield

    app = FastAPI(title="smallretail-llm API", version="0.1.0", description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    install_docs(app, "smallretail-llm API")  # swagger-ui and ReDoc from the package, no CDN
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(AuthGate, services=services)  # inside Guard: ids, logs, 500s cover it
    app.add_middleware(Guard, metrics=metrics, default_limit=settings.max_body_bytes,
                       limits={IMPORT_PATH: settings.max_upload_bytes})
    for module in (routes_generation, routes_catalog, routes_openai, routes_ops, routes_admin):
        app.include_router(module.router)
    install_console(app)  # the shop console page (/console) and its counters
    return app

"""Typed dependencies: the app's services and the calling shop (authenticated and rate-limited).
Routes take ``ServicesDep`` and ``ShopDep`` and never read globals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from smallretail_llm.core.categories import UnknownCategory, get_category
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.core.tenant import TENANT
from smallretail_llm.db.keys import ApiKeys, KeyInfo
from smallretail_llm.db.store import Store
from smallretail_llm.db.usage import Usage
from smallretail_llm.serving.api.errors import ApiError, retry_after
from smallretail_llm.serving.api.metrics import ApiMetrics
from smallretail_llm.serving.api.ratelimit import RateLimiter
from smallretail_llm.serving.engines.engine import Engine
from smallretail_llm.serving.offload import Offload
from smallretail_llm.serving.settings import Settings


@dataclass
class Services:
    """Everything a request handler may use; one per app, kept on ``app.state.services``."""

    settings: Settings
    engine: Engine
    store: Store
    keys: ApiKeys
    metrics: ApiMetrics
    limiter: RateLimiter
    usage: Usage
    offload: Offload  # the request's blocking work (database, grounding) runs here
    started_at: float = field(default_factory=time.time)


# The scope each shop route needs, by (method, path template). A route missing here is refused
# (403) for every key: a new route must say what it needs (tests enumerate the app's routes).
SCOPE_OF: dict[tuple[str, str], str] = {
    ("GET", "/v1/products"): "catalog:read",
    ("GET", "/v1/products/{sku}"): "catalog:read",
    ("GET", "/v1/console/stats"): "catalog:read",
    ("GET", "/v1/models"): "generate",
    ("PUT", "/v1/products/{sku}"): "import",
    ("DELETE", "/v1/products/{sku}"): "import",
    ("POST", "/v1/products/import"): "import",
    ("POST", "/v1/descriptions"): "generate",
    ("POST", "/v1/answers"): "generate",
    ("POST", "/v1/chat/completions"): "generate",
    ("POST", "/v1/console/explain"): "generate",
}


@dataclass(frozen=True)
class Shop:
    """The caller: a shop, and the id of the key it used (None in keyless demo mode)."""

    shop_id: str
    key_id: str | None


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False, description="`smallretail keys create --shop 상점` 으로 "
                     "만든 API 키: `Authorization: Bearer sr_…`")


async def current_shop(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Shop:
    """The shop the API key belongs to; 401 without a valid key (except keyless demo mode),
    429 with Retry-After when the key is over its rate limit."""
    settings = services.settings
    info: KeyInfo | None = request.scope.get("state", {}).get("key_info")  # from AuthGate
    if info is None and credentials is not None:
        info = await services.offload(services.keys.authenticate, credentials.credentials)
        if info is None:
            services.metrics.rejected.labels("unauthorized").inc()
            raise ApiError(401, "invalid_api_key", "API 키가 올바르지 않거나 폐기되었습니다.",
                           headers={"WWW-Authenticate": "Bearer"})
    if info is not None:
        shop = Shop(info.shop_id, info.key_id)
    elif settings.demo:
        shop = Shop(settings.demo_shop, None)
    else:
        services.metrics.rejected.labels("unauthorized").inc()
        raise ApiError(401, "missing_api_key",
                       "API 키가 필요합니다. 'Authorization: Bearer <키>' 헤더를 보내세요.",
                       headers={"WWW-Authenticate": "Bearer"})
    route = request.scope.get("route")
    needed = SCOPE_OF.get((request.method, getattr(route, "path", "")))
    if info is not None and needed not in info.scopes:
        services.metrics.rejected.labels("scope").inc()
        raise ApiError(403, "insufficient_scope", f"이 API 키로는 할 수 없는 요청입니다 "
                       f"(필요한 권한: {needed or '없음'}).",
                       {"needed": needed, "scopes": list(info.scopes)})
    request.scope.setdefault("state", {})["shop_id"] = shop.shop_id
    TENANT.set(shop.shop_id)  # generation requests made for this call carry the shop
    wait = services.limiter.take(shop.key_id or f"demo:{shop.shop_id}")
    if wait > 0:
        services.metrics.rejected.labels("rate_limited").inc()
        raise ApiError(429, "rate_limited",
                       f"요청이 너무 많습니다. {retry_after(wait)['Retry-After']}초 후 다시 시도하세요.",
                       {"limit_per_minute": settings.rate_limit_per_minute,
                        "burst": settings.rate_limit_burst}, retry_after(wait))
    if services.usage.limits.any():
        await _take_quota(request, services, shop)
    return shop


async def _take_quota(request: Request, services: Services, shop: Shop) -> None:
    """One request against the quotas shared by every replica (usage.py); the remaining quota
    goes out in ``X-Quota-Remaining-*`` headers (the Guard middleware adds them)."""
    verdict = await services.offload(services.usage.take, shop.key_id, shop.shop_id)
    headers = {f"X-Quota-Remaining-{name.replace('_', '-').title()}": str(left)
               for name, left in verdict.remaining.items()}
    request.scope["state"]["extra_headers"] = [(k.lower().encode(), v.encode())
                                               for k, v in headers.items()]
    if not verdict.allowed:
        services.metrics.rejected.labels("quota").inc()
        raise ApiError(429, "quota_exceeded", f"사용 한도를 넘었습니다 ({verdict.exceeded}). "
                       f"{retry_after(verdict.retry_after_s)['Retry-After']}초 후 다시 시도하세요.",
                       {"exceeded": verdict.exceeded, "limits": verdict.limits},
                       retry_after(verdict.retry_after_s))


ShopDep = Annotated[Shop, Depends(current_shop)]


def product_or_404(services: Services, shop: Shop, sku: str) -> ProductRecord:
    """The shop's product; another shop's sku is a 404 exactly like a missing one, and so is a
    sku with a NUL character (none is ever stored, and PostgreSQL refuses it in a query)."""
    record = None if "\x00" in sku else services.store.get_product(shop.shop_id, sku)
    if record is None:
        raise ApiError(404, "product_not_found", f"상품을 찾을 수 없습니다: 상품코드 '{sku}'",
                       {"product_id": sku})
    return record


def category_code(value: str) -> str:
    """A category code or Korean label ("가공식품") as its code; unknown is a 422."""
    try:
        return get_category(value).code
    except UnknownCategory as exc:
        raise ApiError(422, "unknown_category", str(exc.args[0]), {"category": value}) from exc


def shop_policy(services: Services, shop: Shop) -> ShopPolicy | None:
    return services.store.get_policy(shop.shop_id)


def model_choice(services: Services, shop: Shop, requested: str | None) -> str | None:
    """The adapter to run (None = the base model) for a request that may name a ``model``.
    Only the base, the shop's own adapters and shared ones may be named; any other name is a
    404, worded like an unknown model so adapter names of other shops do not leak."""
    names = services.engine.model_names()
    base = names[0]
    if requested is None:
        return services.settings.default_adapter(shop.shop_id, names)
    allowed = services.settings.models_for(shop.shop_id, base, names)
    if requested not in allowed:
        raise ApiError(404, "model_not_found",
                       f"모델을 찾을 수 없습니다: '{requested}' (사용 가능: {', '.join(allowed)})",
                       {"model": requested, "available": allowed})
    return None if requested == base else requested

"""Operator routes (``/admin/*``): API keys (create, list, revoke, rotate, audit) and each shop's
quota use. They need ``SMALLRETAIL_ADMIN_TOKEN`` as a Bearer token; a shop key is never enough,
and without the setting the routes answer 404. Keys are shown whole only when created or
rotated; listings carry the prefix."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from smallretail_llm.db.keys import key_id_of
from smallretail_llm.db.models import SCOPES
from smallretail_llm.serving.api.deps import ServicesDep
from smallretail_llm.serving.api.errors import ApiError, error_responses

ADMIN_ERRORS = {401: "관리자 토큰 없음/오류", 404: "관리자 API가 꺼져 있음 또는 키 없음"}


def require_admin(request: Request, services: ServicesDep) -> str:
    """The operator: the admin token, compared in constant time."""
    token = services.settings.admin_token
    if token is None:
        raise ApiError(404, "not_found", "관리자 API가 설정되지 않았습니다 (SMALLRETAIL_ADMIN_TOKEN).")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()):
        services.metrics.rejected.labels("unauthorized").inc()
        raise ApiError(401, "invalid_admin_token", "관리자 토큰이 필요합니다.",
                       headers={"WWW-Authenticate": "Bearer"})
    return "admin-api"


AdminDep = Annotated[str, Depends(require_admin)]
# Not in the public OpenAPI document: operators, not shops, use these (serving/HOSTING.md).
router = APIRouter(prefix="/admin", tags=["관리자"], responses=error_responses(ADMIN_ERRORS),
                   include_in_schema=False)


class KeyCreate(BaseModel):
    shop: str = Field(min_length=1, max_length=64, examples=["myshop"])
    name: str | None = Field(None, max_length=64, examples=["쇼핑몰 연동"])
    scopes: list[str] | None = Field(None, description=f"기본: 모두 ({', '.join(SCOPES)})")
    expires_in_days: float | None = Field(None, gt=0, le=3650)


def _created(services, key: str) -> dict[str, Any]:
    return {"key": key, **services.keys.get(key_id_of(key)).listing()}


@router.post("/keys", status_code=201, summary="API 키 발급 (원문은 이 응답에서만)")
def create_key(body: KeyCreate, services: ServicesDep, actor: AdminDep) -> dict[str, Any]:
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=body.expires_in_days)
               if body.expires_in_days else None)
    try:
        key = services.keys.create(body.shop, name=body.name, scopes=body.scopes,
                                   expires_at=expires, actor=actor)
    except ValueError as exc:
        raise ApiError(422, "invalid_key_request", str(exc)) from exc
    return _created(services, key)


@router.get("/keys", summary="API 키 목록 (키 원문 없이)")
def list_keys(services: ServicesDep, _: AdminDep, shop: str | None = None) -> dict[str, Any]:
    return {"keys": [k.listing() for k in services.keys.list(shop)]}


@router.post("/keys/{key_id}/revoke", summary="API 키 폐기 (모든 서버에서 즉시)")
def revoke_key(key_id: str, services: ServicesDep, actor: AdminDep) -> dict[str, Any]:
    if not services.keys.revoke(key_id, actor=actor):
        raise ApiError(404, "key_not_found", f"폐기할 수 있는 키가 없습니다: '{key_id}'")
    key = services.keys.get(key_id)
    assert key is not None  # revoke() found it, and key rows are never deleted
    return key.listing()


@router.post("/keys/{key_id}/rotate", summary="API 키 교체 (새 키 발급, 옛 키 폐기)")
def rotate_key(key_id: str, services: ServicesDep, actor: AdminDep) -> dict[str, Any]:
    key = services.keys.rotate(key_id, actor=actor)
    if key is None:
        raise ApiError(404, "key_not_found", f"교체할 수 있는 키가 없습니다: '{key_id}'")
    return _created(services, key) | {"replaces": key_id}


@router.get("/keys/{key_id}/events", summary="키 감사 기록")
def key_events(key_id: str, services: ServicesDep, _: AdminDep) -> dict[str, Any]:
    return {"events": services.keys.events(key_id=key_id)}


@router.get("/usage/{shop}", summary="상점의 오늘·이번 달 사용량과 한도")
async def usage(shop: str, services: ServicesDep, _: AdminDep) -> dict[str, Any]:
    return await run_in_threadpool(services.usage.report, shop)

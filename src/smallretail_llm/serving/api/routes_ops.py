"""Operations endpoints: liveness and readiness without authentication; Prometheus metrics
behind ``SMALLRETAIL_METRICS_TOKEN`` (without it, only a server bound to a loopback address
answers them)."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from smallretail_llm.serving.api.deps import ServicesDep
from smallretail_llm.serving.api.errors import ApiError, error_responses
from smallretail_llm.serving.api.schemas import Health
from smallretail_llm.serving.settings import is_loopback

log = logging.getLogger(__name__)
router = APIRouter(tags=["운영"])


@router.get("/healthz", response_model=Health, summary="프로세스 생존 확인")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="요청을 받을 준비 확인 (모델, DB)",
            responses=error_responses({503: "모델을 불러오는 중이거나 엔진이 멈췄거나 DB에 연결할 수 "
                                                 "없음"}))
def readyz(services: ServicesDep) -> Health:
    if not services.engine.ready:
        raise ApiError(503, "not_ready", "생성 모델이 준비되지 않았습니다 (불러오는 중이거나 "
                       "엔진이 멈춤).", headers={"Retry-After": "5"})
    try:
        with services.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready", never a 500
        log.warning("readiness: database unavailable: %s", type(exc).__name__)
        raise ApiError(503, "database_unavailable", "데이터베이스에 연결할 수 없습니다.",
                       headers={"Retry-After": "5"}) from exc
    return Health(status="ready", model=services.engine.model_names()[0])


@router.get("/metrics", summary="Prometheus 지표", response_class=Response, responses={200: {
    "description": "Prometheus 텍스트 형식",
    "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
    **error_responses({401: "지표 토큰 없음/오류 (SMALLRETAIL_METRICS_TOKEN)"})})
async def metrics(request: Request, services: ServicesDep) -> Response:
    settings = services.settings
    token = settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        allowed = scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode())
    else:
        allowed = is_loopback(settings.host)
    if not allowed:
        raise ApiError(401, "metrics_token_required", "지표를 보려면 지표 토큰이 필요합니다 "
                       "(SMALLRETAIL_METRICS_TOKEN).", headers={"WWW-Authenticate": "Bearer"})
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

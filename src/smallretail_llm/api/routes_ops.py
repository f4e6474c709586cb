"""Operations endpoints, without authentication: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from smallretail_llm.api.deps import ServicesDep
from smallretail_llm.api.errors import ApiError, error_responses
from smallretail_llm.api.schemas import Health

log = logging.getLogger(__name__)
router = APIRouter(tags=["운영"])


@router.get("/healthz", response_model=Health, summary="프로세스 생존 확인")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="요청을 받을 준비 확인 (모델, DB)",
            responses=error_responses({503: "모델을 불러오는 중이거나 DB에 연결할 수 없음"}))
def readyz(services: ServicesDep) -> Health:
    if not services.engine.ready:
        raise ApiError(503, "not_ready", "모델을 불러오는 중입니다.", headers={"Retry-After": "5"})
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
    "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}})
async def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

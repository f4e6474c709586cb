"""The shop console: one static Korean page at ``/console`` for shop owners who do not write code.

The page (``smallretail_llm/console/``: HTML, two small vanilla JS modules, CSS; no build step)
calls the ordinary ``/v1`` API with the key the owner types in and keeps it in page memory only.
Two JSON helpers that the API lacks live here, behind the same key:

- ``GET /v1/console/stats``: the shop's counters since the server started (descriptions
  returned, answers given automatically, answers handed to a person) and its product count.
- ``POST /v1/console/explain``: the claims the grounding check reads in a text, and the Korean
  names of field keys (answer evidence, missing required fields), so the page can show them.

``install_console(app)`` adds the router and a tiny middleware that counts descriptions per
shop: the API's metrics count answers per shop but descriptions only in total. The counter
lives in the app's Prometheus registry (``smallretail_descriptions_total{shop}``), per process
like the rest.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Response
from prometheus_client import Counter
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smallretail_llm.baseline.qa import field_label, spec_fields
from smallretail_llm.core.record import ProductRecord
from smallretail_llm.grounding.claims import extract_claims
from smallretail_llm.grounding.facts import protected_strings  # what check_description skips
from smallretail_llm.grounding.reasons import FIELD_LABELS
from smallretail_llm.serving.api.deps import ServicesDep, ShopDep, product_or_404, shop_policy
from smallretail_llm.serving.api.errors import AUTH_ERRORS, BODY_ERRORS, ApiError, error_responses

router = APIRouter(tags=["콘솔"])

DESCRIPTIONS_PATH = "/v1/descriptions"
DESCRIPTIONS_METRIC = "smallretail_descriptions"

CLAIM_LABELS: dict[str, str] = {
    "quantity": "수치·용량", "price": "가격·배송 조건", "percent": "비율(%)", "date": "날짜·기간",
    "origin": "원산지", "brand": "브랜드·제조사", "allergen_presence": "알레르기 성분(함유)",
    "allergen_absence": "알레르기 성분(무첨가)", "certification": "인증", "ranking": "순위·최상급",
    "guarantee": "보장 문구", "contact": "전화번호", "other_shop": "다른 상점의 이름·정책",
}
"""Korean names of ``claims.KINDS`` for the page."""

_ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# The page loads only its own script and style and talks only to this server.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; form-action 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


# ------------------------------------------------------------------ page
@functools.cache
def _asset(name: str) -> bytes:
    return files("smallretail_llm.serving.api").joinpath("console", name).read_bytes()


def _page(name: str) -> Response:
    return Response(_asset(name), media_type=_ASSETS[name], headers=_PAGE_HEADERS)


@router.get("/console", include_in_schema=False)
def console_page() -> Response:
    return _page("index.html")


@router.get("/console/{name}", include_in_schema=False)
def console_asset(name: Annotated[str, Path(max_length=40)]) -> Response:
    if name not in _ASSETS or name == "index.html":
        raise ApiError(404, "not_found", f"콘솔 파일이 없습니다: /console/{name}")
    return _page(name)


# ------------------------------------------------------------------ counters
class ConsoleStats(BaseModel):
    shop_id: str
    products: int = Field(description="등록된 상품 수")
    descriptions: int = Field(description="서버 시작 후 돌려준 상품 설명 수")
    answers_automatic: int = Field(description="서버 시작 후 자동으로 답한 질문 수")
    answers_handoff: int = Field(description="서버 시작 후 담당자에게 넘긴 질문 수 (needs_human)")
    since: dt.datetime = Field(description="이 서버가 시작한 때 (숫자는 이때부터, 서버마다 셉니다)")


@router.get("/v1/console/stats", response_model=ConsoleStats,
            responses=error_responses(AUTH_ERRORS),
            summary="콘솔: 상점 현황 숫자")
def console_stats(services: ServicesDep, shop: ShopDep) -> ConsoleStats:
    """이 상점의 상품 수와, 서버가 시작된 뒤 만든 설명 수·자동 답변 수·담당자 연결 수."""
    registry = services.metrics.registry

    def sample(name: str, **labels: str) -> int:
        return int(registry.get_sample_value(name, {"shop": services.metrics.shop_label(
            shop.shop_id), **labels}) or 0)

    return ConsoleStats(
        shop_id=shop.shop_id, products=services.store.count_products(shop.shop_id),
        descriptions=sample(f"{DESCRIPTIONS_METRIC}_total"),
        answers_automatic=sample("smallretail_answers_total", outcome="automatic"),
        answers_handoff=sample("smallretail_answers_total", outcome="handoff"),
        since=dt.datetime.fromtimestamp(services.started_at, dt.UTC))


class DescriptionCounter:
    """Counts every 200 answer of ``POST /v1/descriptions`` for the shop that asked (the shop
    is what ``deps.current_shop`` put in the request scope)."""

    def __init__(self, app: ASGIApp, counter: Counter, label) -> None:
        self.app = app
        self.counter = counter
        self.label = label  # ApiMetrics.shop_label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path") != DESCRIPTIONS_PATH or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        shop = (scope.get("state") or {}).get("shop_id")
        if status == 200 and shop:
            self.counter.labels(self.label(shop)).inc()


# ------------------------------------------------------------------ explain
class ExplainRequest(BaseModel):
    product_id: str = Field(min_length=1, max_length=64, description="상품코드(sku)")
    text: str = Field(default="", max_length=20_000, description="설명이나 답변 문구")
    fields: list[str] = Field(default=[], max_length=100,
                              description="이름을 알고 싶은 필드 키 (예: use_by, notice.food_type)")


class CheckedClaim(BaseModel):
    start: int
    end: int
    text: str
    kind: str
    label: str = Field(description="kind 의 한국어 이름")
    field: str | None = Field(default=None, description="문장이 이 값을 무엇으로 말하는지 "
                              "(price, shipping_fee, origin …): 그 필드의 기록값과만 대조합니다")
    field_label: str | None = Field(default=None, description="field 의 한국어 이름")


class FieldName(BaseModel):
    key: str
    label: str


class ExplainResponse(BaseModel):
    claims: list[CheckedClaim] = Field(description="근거 검사가 상품 기록과 대조하는 주장, 글 순서대로")
    fields: list[FieldName]


@router.post("/v1/console/explain", response_model=ExplainResponse,
             responses=error_responses({**AUTH_ERRORS, **BODY_ERRORS, 404: "상품 없음"}),
             summary="콘솔: 문구에서 검사한 주장과 필드 이름")
def console_explain(body: ExplainRequest, services: ServicesDep, shop: ShopDep) -> ExplainResponse:
    """문구에서 근거 검사가 읽는 주장(수치, 가격, 원산지, 알레르기, 인증 …)과, 필드 키의 한국어 이름을
    돌려줍니다. 어느 주장이 근거가 없는지는 설명·답변 응답의 grounding 에 있습니다."""
    record = product_or_404(services, shop, body.product_id)
    mentions = extract_claims(body.text, protect=protected_strings(record, shop_policy(services, shop)))
    claims = [CheckedClaim(start=m.start, end=m.end, text=body.text[m.start:m.end], kind=m.kind,
                           label=CLAIM_LABELS.get(m.kind, m.kind), field=m.field,
                           field_label=FIELD_LABELS.get(m.field or "")) for m in mentions]
    fields = [FieldName(key=key, label=_field_label(key, record)) for key in body.fields]
    return ExplainResponse(claims=claims, fields=fields)


def _field_label(key: str, record: ProductRecord) -> str:
    """A notice key's full label ("food_type" -> "식품의 유형"), else the Q&A's field name."""
    spec = spec_fields(record).get(key)
    return spec.label if spec else field_label(key, record)


# ------------------------------------------------------------------ wiring
def install_console(app: FastAPI) -> None:
    """Serve the console on ``app`` and count its descriptions per shop (call once, in
    ``create_app``, after ``app.state.services`` is set)."""
    registry = app.state.services.metrics.registry
    counter = Counter(DESCRIPTIONS_METRIC, "Descriptions returned per shop (console counters)",
                      ["shop"], registry=registry)
    app.add_middleware(DescriptionCounter, counter=counter,
                       label=app.state.services.metrics.shop_label)
    app.include_router(router)

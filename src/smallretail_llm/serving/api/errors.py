"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Messages are Korean and say what was wrong and where. Bad input is always a 4xx; an unexpected
exception is logged with its traceback and answered with a generic 500 (no stack trace leaves
the server; the catch-all lives in ``middleware.Guard``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from smallretail_llm.serving.engines.engine import EngineUnavailable, QueueFull, UnknownAdapter


class ApiError(StarletteHTTPException):
    """An error answered as-is. A subclass of Starlette's HTTPException so that FastAPI passes it
    through unchanged even when it is raised while the request body is being read."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


class ErrorJSONResponse(JSONResponse):
    """An error answer may echo the caller's text, and a JSON or YAML escape such as "\\ud800"
    gives text UTF-8 cannot encode: such a character is sent as "?" instead of ending in a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8", errors="replace")


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return ErrorJSONResponse(error_body(code, message, details), status_code=status,
                             headers=headers)


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


class ErrorInfo(BaseModel):
    code: str = Field(description="오류 코드 (예: product_not_found, validation_error)")
    message: str = Field(description="무엇이 어디서 잘못됐는지 설명하는 한국어 문장")
    details: Any = Field(description="오류별 추가 정보 (없으면 null)")


class ErrorResponse(BaseModel):
    """The body of every error answer (what ``error_body`` builds), for the OpenAPI schema."""

    error: ErrorInfo


_SECONDS = {"description": "다시 시도하기 전에 기다릴 초", "required": True,
            "schema": {"type": "integer", "minimum": 1}}
_ERROR_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "required": True,
                               "schema": {"type": "string"}}},
    429: {"Retry-After": _SECONDS},
    503: {"Retry-After": _SECONDS},
}


AUTH_ERRORS = {401: "API 키 없음/오류", 429: "요청 한도 초과 (Retry-After)"}
"""What every route behind an API key may answer."""
BODY_ERRORS = {400: "본문이 올바른 JSON 이 아님", 413: "요청 본문이 너무 큼", 422: "요청 값 오류"}
"""What every route that reads a JSON body may answer."""


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: each status with the error body and the headers that status
    always carries, so clients (and schema checks) see every answer the route can give."""
    return {status: {"model": ErrorResponse, "description": text,
                     **({"headers": _ERROR_HEADERS[status]} if status in _ERROR_HEADERS else {})}
            for status, text in descriptions.items()}


# Starlette's own HTTP errors (unknown route, wrong method …) in Korean.
_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "요청이 올바르지 않습니다."),
    401: ("unauthorized", "인증이 필요합니다."),
    403: ("forbidden", "이 작업을 할 권한이 없습니다."),
    404: ("not_found", "요청한 주소를 찾을 수 없습니다"),
    405: ("method_not_allowed", "이 주소에서 허용되지 않는 메서드입니다"),
    406: ("not_acceptable", "요청한 응답 형식을 제공할 수 없습니다."),
    413: ("payload_too_large", "요청 본문이 너무 큽니다."),
    415: ("unsupported_media_type", "지원하지 않는 Content-Type 입니다. application/json 으로 보내 주세요."),
}

_WHERE = {"body": "요청 본문", "query": "쿼리 매개변수", "path": "경로", "header": "헤더",
          "cookie": "쿠키"}

_TYPE_NAMES = {"string": "문자열", "int": "정수", "float": "숫자", "bool": "참/거짓(true/false)",
               "list": "목록(배열)", "dict": "객체", "model": "객체", "date": "날짜(YYYY-MM-DD)"}


def korean_error(error: dict[str, Any]) -> str:
    """A pydantic error as a Korean sentence (without the location)."""
    kind: str = error.get("type", "")
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return "필수 항목이 없습니다."
    if kind == "json_invalid":
        return f"JSON 형식이 잘못되었습니다 ({ctx.get('error', '구문 오류')})."
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "값이 비어 있습니다."
        return f"너무 짧습니다 (최소 {ctx.get('min_length')}자)."
    if kind == "string_too_long":
        return f"너무 깁니다 (최대 {ctx.get('max_length')}자)."
    if kind == "too_short":
        return f"항목이 너무 적습니다 (최소 {ctx.get('min_length')}개)."
    if kind == "too_long":
        return f"항목이 너무 많습니다 (최대 {ctx.get('max_length')}개)."
    if kind == "literal_error" or kind == "enum":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return f"허용되지 않는 값입니다: {_short(error.get('input'))} (가능한 값: {expected})."
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        words = {"greater_than_equal": "이상", "greater_than": "초과",
                 "less_than_equal": "이하", "less_than": "미만"}
        return f"{bound} {words[kind]}이어야 합니다."
    if kind in ("model_attributes_type", "model_type", "dict_type") and len(error.get("loc", ())) <= 1:
        return ("JSON 객체여야 합니다. 'Content-Type: application/json' 헤더와 함께 "
                "JSON 객체를 보내세요.")
    if kind == "extra_forbidden":
        return "알 수 없는 항목입니다."
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        return "형식이 맞지 않습니다."
    for prefix, name in _TYPE_NAMES.items():
        if kind.startswith(prefix + "_") or kind == prefix + "_type":
            return f"{name} 값이어야 합니다."
    return f"값이 올바르지 않습니다 ({kind})."


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _place(loc: tuple[Any, ...]) -> tuple[str, str]:
    """("body", "product", "price_krw") -> ("body", "product.price_krw")."""
    if not loc:
        return "body", ""
    where = str(loc[0]) if loc[0] in _WHERE else "body"
    rest = loc[1:] if loc[0] in _WHERE else loc
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in rest).replace(".[", "[")
    return where, field


def validation_errors(errors: list[dict[str, Any]]) -> tuple[int, str, str, list[dict[str, str]]]:
    """(status, code, message, details) for a RequestValidationError. Malformed JSON is a 400,
    anything else a 422; the message names the first problem and how many more there are."""
    items = []
    for error in errors:
        where, field = _place(tuple(error.get("loc") or ()))
        if error.get("type") == "json_invalid":
            field = ""
        items.append({"in": where, "field": field, "type": error.get("type", ""),
                      "message": korean_error(error)})
    if any(e["type"] == "json_invalid" for e in items):
        first = next(e for e in items if e["type"] == "json_invalid")
        return 400, "invalid_json", f"요청 본문의 {first['message']}", items
    first = items[0]
    place = f"{_WHERE[first['in']]}의 '{first['field']}'" if first["field"] else _WHERE[first["in"]]
    message = f"{place}: {first['message']}"
    if len(items) > 1:
        message += f" (그 밖에 {len(items) - 1}건)"
    return 422, "validation_error", message, items


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "요청을 처리할 수 없습니다."))
    return error_response(exc.status_code, code, message, None, exc.headers)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ApiError):
        return await _api_error(request, exc)
    return error_response(404, "not_found", f"요청한 주소를 찾을 수 없습니다: {request.url.path}")


async def _method(request: Request, exc: Exception) -> JSONResponse:
    headers = getattr(exc, "headers", None)
    return error_response(405, "method_not_allowed",
                          f"{request.method} 메서드는 {request.url.path} 에서 허용되지 않습니다.",
                          None, headers)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, code, message, details = validation_errors(list(exc.errors()))
    return error_response(status, code, message, {"errors": details})


async def _queue_full(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueueFull)
    return error_response(503, "overloaded", str(exc), {"max_queue": exc.max_queue},
                          retry_after(exc.retry_after_s))


async def _engine_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Only routes without a model-free answer let this through (the OpenAI-compatible one)."""
    assert isinstance(exc, EngineUnavailable)
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.metrics.engine_unavailable.labels("chat").inc()
    return error_response(503, "engine_unavailable", str(exc), {"reason": exc.reason},
                          retry_after(exc.retry_after_s))


async def _unknown_adapter(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownAdapter)
    return error_response(404, "model_not_found", str(exc), {"model": exc.name})


DB_RETRY_AFTER_S = 5


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    """The database went away (stopped, restarting, unreachable): 503 with Retry-After, never a
    500 with the driver's text. The pool pre-pings, so the first request after it is back works."""
    import logging

    logging.getLogger(__name__).warning("database unavailable: %s", type(exc).__name__,
                                        extra={"path": request.url.path})
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.metrics.rejected.labels("database_unavailable").inc()
    return error_response(503, "database_unavailable", "데이터베이스에 잠시 연결할 수 없습니다. "
                          f"{DB_RETRY_AFTER_S}초 후 다시 시도하세요.", None,
                          retry_after(DB_RETRY_AFTER_S))


def install_error_handlers(app: FastAPI) -> None:
    from sqlalchemy.exc import DBAPIError

    app.add_exception_handler(DBAPIError, _database_down)
    app.add_exception_handler(StarletteHTTPException, _api_error)
    app.add_exception_handler(404, _not_found)
    app.add_exception_handler(405, _method)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(QueueFull, _queue_full)
    app.add_exception_handler(UnknownAdapter, _unknown_adapter)
    app.add_exception_handler(EngineUnavailable, _engine_unavailable)

"""OpenAI-compatible POST /v1/chat/completions (plain or SSE stream) and GET /v1/models.

Raw model access for tools that speak the OpenAI API: no grounding here (that is what
/v1/descriptions and /v1/answers add), unless the request names a ``product_id`` (an extra body
field, the way vLLM takes extra parameters): then the last user message is a customer question
about that product, answered exactly as /v1/answers answers it (prompted, constrained, checked,
handed off), and a stream sends the checked answer. ``model`` may name only the base model, the
caller's own adapters or shared ones. Without ``temperature`` decoding is greedy
(reproducible), unlike OpenAI's default of 1.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from smallretail_llm.baseline.followup import resolve_followup
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.serving import assistant
from smallretail_llm.serving.api.deps import (
    Services,
    ServicesDep,
    Shop,
    ShopDep,
    model_choice,
    product_or_404,
    shop_policy,
)
from smallretail_llm.serving.api.errors import (
    AUTH_ERRORS,
    BODY_ERRORS,
    ApiError,
    error_body,
    error_responses,
)
from smallretail_llm.serving.api.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    CompletionUsage,
    Delta,
    Grounded,
    ModelCard,
    ModelList,
    stream_event_schema,
)
from smallretail_llm.serving.api.routes_generation import generation_options
from smallretail_llm.serving.engines.engine import (
    EngineUnavailable,
    GenerationRequest,
    GenerationResult,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["OpenAI 호환"])

_ERRORS = error_responses({**AUTH_ERRORS, **BODY_ERRORS, 404: "모델 또는 상품 없음",
                           409: "상점 정책이 등록되지 않음 (product_id 상담)",
                           503: "대기열 가득 참, 또는 생성 모델 서버에 연결할 수 없음 (Retry-After)",
                           504: "생성 시간 초과"})

_STREAM: dict[int | str, dict[str, Any]] = {200: {"description": "`stream: true` 이면 SSE: `data: {청크 JSON}` … `data: [DONE]`",
                 "content": {"text/event-stream": {
                     "itemSchema": stream_event_schema("#/components/schemas/ErrorResponse")}}}}



_Finish = Literal["stop", "length"]  # an OpenAI choice's finish_reason


def _finish(result: GenerationResult | None) -> _Finish:
    return "length" if result is not None and result.finish_reason in ("length", "timeout") \
        else "stop"


def _usage(result: GenerationResult) -> CompletionUsage:
    return CompletionUsage(prompt_tokens=result.prompt_tokens,
                           completion_tokens=result.completion_tokens,
                           total_tokens=result.prompt_tokens + result.completion_tokens)


def _request(body: ChatCompletionRequest, services: Services, adapter: str | None) -> GenerationRequest:
    cap = services.settings.max_new_tokens
    wanted = body.max_completion_tokens or body.max_tokens or cap
    try:
        return GenerationRequest(
            messages=[m.as_engine_message() for m in body.messages], max_new_tokens=min(wanted, cap),
            temperature=body.temperature or 0.0, top_p=body.top_p or 1.0, adapter=adapter,
            stop=tuple(body.stop or ()), seed=body.seed, timeout_s=services.settings.request_timeout_s)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from exc


def _sse(payload: Any) -> str:
    """One server-sent event. Each event is a whole JSON text, so a multi-byte character is
    never split across events."""
    if hasattr(payload, "model_dump"):
        payload = payload.model_dump(exclude_none=True)
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


@router.post("/chat/completions", response_model=ChatCompletion, responses=_ERRORS | _STREAM,
             summary="OpenAI 호환 채팅 (stream: true 이면 SSE)")
async def chat_completions(body: ChatCompletionRequest, services: ServicesDep, shop: ShopDep):
    """OpenAI Chat Completions 형식. `stream: true` 이면 `data: {...}` 청크를 SSE 로 보내고
    `data: [DONE]` 으로 끝냅니다."""
    adapter = model_choice(services, shop, body.model)
    if body.product_id is not None:
        return await _product_chat(body, services, shop, adapter)
    request = _request(body, services, adapter)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        try:
            stream = services.engine.stream(request)  # QueueFull etc. raise here, before any byte
            accepted = getattr(stream, "accepted", None)
            if accepted is not None:  # a remote engine: its server's failure is a 503 too
                try:
                    await accepted()
                except BaseException:  # failed, or the client left: stop the generation
                    await stream.aclose()
                    raise
        except ValueError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from exc
        events = _events(stream, services, shop, completion_id, created, body.model, include_usage)
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    try:
        result = await services.engine.generate(request)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from exc
    if result.finish_reason == "timeout" and not result.text:
        raise ApiError(504, "generation_timeout", "생성 시간이 초과되었습니다. 잠시 후 다시 시도하세요.")
    await services.offload(services.metrics.count_tokens, result.prompt_tokens,
                           result.completion_tokens)  # the token quota writes to the database
    return ChatCompletion(
        id=completion_id, created=created, model=body.model,
        choices=[Choice(message=AssistantMessage(content=result.text), finish_reason=_finish(result))],
        usage=_usage(result))


def _chat_inputs(body: ChatCompletionRequest, services: Services, shop: Shop,
                 adapter: str | None
                 ) -> tuple[ProductRecord, ShopPolicy, str, assistant.GenerationOptions]:
    """The record, policy, question and options of a product chat (database reads: run off
    the loop)."""
    record = product_or_404(services, shop, body.product_id or "")
    policy = shop_policy(services, shop)
    if policy is None:
        raise ApiError(409, "policy_missing", "이 상점의 정책(배송·교환·고객센터)이 등록되지 않아 "
                       "상품 상담을 할 수 없습니다.", {"shop_id": shop.shop_id})
    turns = [m.as_engine_message()["content"] for m in body.messages if m.role == "user"]
    question = turns[-1] if turns else ""
    if not question.strip():
        raise ApiError(400, "invalid_request", "상품 상담에는 사용자 메시지(고객 질문)가 필요합니다.")
    question = resolve_followup(question, turns[:-1], record.category)  # "그럼 대두는요?"
    options = generation_options(services, shop, adapter,
                                 body.max_completion_tokens or body.max_tokens)
    return record, policy, question, options


async def _product_chat(body: ChatCompletionRequest, services: Services, shop: Shop,
                        adapter: str | None):
    """A chat about one product: the last user message answered like POST /v1/answers, an
    elliptical follow-up made whole from the customer's earlier turns (followup.py)."""
    record, policy, question, options = await services.offload(_chat_inputs, body, services,
                                                               shop, adapter)
    result = await assistant.answer(services.engine, record, question, policy, options=options)
    await services.offload(services.metrics.count_tokens, result.usage.prompt_tokens,
                           result.usage.completion_tokens)
    grounded = Grounded(product_id=record.sku, needs_human=result.needs_human,
                        evidence=result.evidence, source=result.source,
                        grounding=result.grounding.model_dump())
    usage = CompletionUsage(prompt_tokens=result.usage.prompt_tokens,
                            completion_tokens=result.usage.completion_tokens,
                            total_tokens=result.usage.total_tokens)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not body.stream:
        return ChatCompletion(
            id=completion_id, created=created, model=body.model, usage=usage, smallretail=grounded,
            choices=[Choice(message=AssistantMessage(content=result.answer), finish_reason="stop")])

    def events():
        def chunk(delta: Delta, finish: _Finish | None = None, **extra) -> str:
            return _sse(ChatCompletionChunk(id=completion_id, created=created, model=body.model,
                                            choices=[ChunkChoice(delta=delta, finish_reason=finish)],
                                            **extra))
        yield chunk(Delta(role="assistant", content=""))
        yield chunk(Delta(content=result.answer))
        yield chunk(Delta(), "stop", smallretail=grounded)
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(stream: AsyncIterator[str], services: Services, shop: Shop, completion_id: str,
                  created: int, model: str, include_usage: bool) -> AsyncIterator[str]:
    def chunk(delta: Delta, finish: _Finish | None = None) -> str:
        return _sse(ChatCompletionChunk(id=completion_id, created=created, model=model,
                                        choices=[ChunkChoice(delta=delta, finish_reason=finish)]))

    try:
        yield chunk(Delta(role="assistant", content=""))
        async for delta in stream:
            if delta:
                yield chunk(Delta(content=delta))
        result: GenerationResult | None = getattr(stream, "result", None)
        yield chunk(Delta(), _finish(result))
        if result is not None:
            await services.offload(services.metrics.count_tokens, result.prompt_tokens,
                                   result.completion_tokens)
            if include_usage:
                yield _sse(ChatCompletionChunk(id=completion_id, created=created, model=model,
                                               choices=[], usage=_usage(result)))
        yield "data: [DONE]\n\n"
    except EngineUnavailable as exc:  # a remote server failed mid-stream
        log.warning("stream failed: %s", exc.reason, extra={"shop": shop.shop_id})
        services.metrics.engine_unavailable.labels("chat").inc()
        yield _sse(error_body("engine_unavailable", str(exc), {"reason": exc.reason}))
        yield "data: [DONE]\n\n"
    except Exception:  # the status line is already sent: report the error in the stream
        log.exception("stream failed", extra={"shop": shop.shop_id})
        yield _sse(error_body("internal_error", "생성 중 서버 오류가 발생했습니다."))
        yield "data: [DONE]\n\n"
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()  # frees the batch slot when the client went away


@router.get("/models", response_model=ModelList, responses=error_responses(AUTH_ERRORS),
            summary="쓸 수 있는 모델 목록")
async def list_models(services: ServicesDep, shop: ShopDep) -> ModelList:
    names = services.engine.model_names()
    allowed = services.settings.models_for(shop.shop_id, names[0], names)
    created = int(services.started_at)
    owners = services.settings.adapter_shops
    return ModelList(data=[
        ModelCard(id=name, created=created,
                  owned_by="smallretail" if i == 0 else owners.get(name, "shared"))
        for i, name in enumerate(allowed)])

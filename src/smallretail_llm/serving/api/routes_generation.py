"""POST /v1/descriptions and POST /v1/answers: thin wrappers around ``assistant``. The routes
are async (the model call streams); their database reads and writes and the grounding checks run
in ``services.offload``, off the event loop."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter

from smallretail_llm.core.pii import redact_pii
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding.record_rules import RecordWarning, record_warnings
from smallretail_llm.serving import assistant
from smallretail_llm.serving.api.deps import (
    Services,
    ServicesDep,
    Shop,
    ShopDep,
    category_code,
    model_choice,
    product_or_404,
    shop_policy,
)
from smallretail_llm.serving.api.errors import AUTH_ERRORS, BODY_ERRORS, ApiError, error_responses
from smallretail_llm.serving.api.schemas import (
    AnswerRequest,
    AnswerResponse,
    DescriptionRequest,
    DescriptionResponse,
    FilledSlot,
    Usage,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["생성"])

_ERRORS = error_responses({**AUTH_ERRORS, **BODY_ERRORS, 404: "상품 또는 모델 없음",
                           503: "생성 대기열이 가득 참 (Retry-After)"})


def _record(services: Services, shop: Shop, body: DescriptionRequest | AnswerRequest) -> ProductRecord:
    if body.product is not None:
        record = body.product.for_shop(shop.shop_id)
        return record.model_copy(update={"category": category_code(record.category)})
    assert body.product_id is not None
    return product_or_404(services, shop, body.product_id)


def generation_options(services: Services, shop: Shop, adapter: str | None,
                       max_new_tokens: int | None = None) -> assistant.GenerationOptions:
    """How every grounded route asks the engine (descriptions, answers, chat with a product).
    Reads the database: call it in ``services.offload``."""
    settings = services.settings
    return assistant.GenerationOptions(
        adapter=adapter, max_new_tokens=min(max_new_tokens or settings.max_new_tokens,
                                            settings.max_new_tokens),
        timeout_s=settings.request_timeout_s,
        foreign_names=tuple(services.store.foreign_names(shop.shop_id)),
        constrain=settings.constrained_decoding, fail_fast=settings.fail_fast,
        offload=services.offload)


def _description_inputs(services: Services, shop: Shop, body: DescriptionRequest
                        ) -> tuple[ProductRecord, ShopPolicy | None, assistant.GenerationOptions]:
    """The record, policy and options of a description (database reads: run off the loop)."""
    record = _record(services, shop, body)
    adapter = model_choice(services, shop, body.model)
    return record, shop_policy(services, shop), generation_options(services, shop, adapter)


def _answer_inputs(services: Services, shop: Shop, body: AnswerRequest
                   ) -> tuple[ProductRecord, ShopPolicy, assistant.GenerationOptions]:
    """The record, policy and options of an answer (database reads: run off the loop)."""
    record = _record(services, shop, body)
    policy = body.policy.for_shop(shop.shop_id) if body.policy else shop_policy(services, shop)
    if policy is None:
        raise ApiError(409, "policy_missing",
                       "이 상점의 정책(배송·교환·고객센터)이 등록되지 않아 답변할 수 없습니다. "
                       "`smallretail catalog policy` 로 등록하거나 요청에 policy 를 넣어 주세요.",
                       {"shop_id": shop.shop_id})
    adapter = model_choice(services, shop, body.model)
    return record, policy, generation_options(services, shop, adapter)


def _after_model(services: Services, usage: assistant.Usage, record: ProductRecord,
                 policy: ShopPolicy | None) -> list[RecordWarning]:
    """After the model: its tokens counted (the token quota writes them to the database) and
    the record's warnings (claim extraction: CPU). Blocking: run it in ``services.offload``."""
    services.metrics.count_tokens(usage.prompt_tokens, usage.completion_tokens)
    return record_warnings(record, policy)


def _slots(pairs: list[tuple[str, str]]) -> list[FilledSlot]:
    return [FilledSlot(field=name, value=value) for name, value in pairs]


def _usage(usage: assistant.Usage) -> Usage:
    return Usage(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                 total_tokens=usage.total_tokens)


@router.post("/descriptions", response_model=DescriptionResponse, responses=_ERRORS,
             summary="상품 설명 생성 (근거 검사 포함)")
async def create_description(body: DescriptionRequest, services: ServicesDep,
                             shop: ShopDep) -> DescriptionResponse:
    """상품 기록에 있는 사실만으로 설명을 만듭니다. 모델 초안이 근거 검사를 통과하지 못하면 최대 N번
    다시 생성하고, 그래도 안 되면 규칙 기반 문구(fallback)를 돌려줍니다. 생성 모델 서버에 연결할 수
    없으면 규칙 기반 문구와 함께 engine_down: true 를 돌려줍니다."""
    record, policy, options = await services.offload(_description_inputs, services, shop, body)
    started = time.perf_counter()
    result = await assistant.describe(
        services.engine, record, body.style, body.tone, policy,
        max_chars=body.max_chars, max_regenerations=services.settings.max_regenerations,
        options=options)
    metrics = services.metrics
    metrics.generation_latency.labels("description").observe(time.perf_counter() - started)
    warnings = await services.offload(_after_model, services, result.usage, record, policy)
    if result.drafts and result.drafts[0].passed and result.source == "model":
        metrics.grounding.labels("pass").inc()
    metrics.grounding.labels("regenerate").inc(result.regenerations)
    if result.source == "fallback":
        metrics.grounding.labels("fallback").inc()
    if result.engine_down:
        metrics.engine_unavailable.labels("description").inc()
    log.info("description", extra={"shop": shop.shop_id, "sku": record.sku, "style": body.style,
                                    "source": result.source, "drafts": len(result.drafts),
                                    "passed": result.grounding.passed,
                                    "engine_down": result.engine_down})
    return DescriptionResponse(
        text=result.text, style=body.style, tone=result.tone, source=result.source,
        product_id=record.sku, regenerations=result.regenerations, grounding=result.grounding,
        model=result.model, usage=_usage(result.usage), slots=_slots(result.slots),
        engine_down=result.engine_down, record_warnings=warnings)


@router.post("/answers", response_model=AnswerResponse,
             responses=_ERRORS | error_responses({409: "상점 정책이 등록되지 않음"}),
             summary="고객 질문 답변 (개인정보 가림, 근거 검사, 담당자 연결)")
async def create_answer(body: AnswerRequest, services: ServicesDep, shop: ShopDep) -> AnswerResponse:
    """상품 기록과 상점 정책에 있는 사실로만 답합니다. 답할 수 없으면 담당자 연결 문구와 함께
    needs_human: true 를 돌려줍니다. 질문의 개인정보는 모델에 보내기 전에 가려집니다. 생성 모델
    서버에 연결할 수 없으면 규칙 기반 답변이나 담당자 연결 문구와 함께 engine_down: true 를
    돌려줍니다."""
    limit = services.settings.max_question_chars
    if len(body.question) > limit:
        raise ApiError(422, "question_too_long",
                       f"질문이 너무 깁니다: {len(body.question):,}자 (최대 {limit:,}자).",
                       {"max_chars": limit, "chars": len(body.question)})
    record, policy, options = await services.offload(_answer_inputs, services, shop, body)
    started = time.perf_counter()
    result = await assistant.answer(services.engine, record, body.question, policy,
                                    options=options)
    metrics = services.metrics
    metrics.generation_latency.labels("answer").observe(time.perf_counter() - started)
    warnings = await services.offload(_after_model, services, result.usage, record, policy)
    metrics.answers.labels(metrics.shop_label(shop.shop_id), "handoff" if result.needs_human else "automatic").inc()
    if result.engine_down:
        metrics.engine_unavailable.labels("answer").inc()
    log.info("answer", extra={"shop": shop.shop_id, "sku": record.sku, "source": result.source,
                              "needs_human": result.needs_human, "engine_down": result.engine_down,
                              "question": redact_pii(body.question).text[:200]})
    return AnswerResponse(
        answer=result.answer, needs_human=result.needs_human, evidence=result.evidence,
        source=result.source, product_id=record.sku, grounding=result.grounding,
        model=result.model, usage=_usage(result.usage), slots=_slots(result.slots),
        engine_down=result.engine_down, record_warnings=warnings)

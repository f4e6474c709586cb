"""Request and response bodies of the HTTP API (kept apart from the logic; the examples are
what /docs shows)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.core.vocab import Style, Tone
from smallretail_llm.grounding.check import GroundingReport
from smallretail_llm.grounding.record_rules import RecordWarning

PRODUCT_EXAMPLE: dict[str, Any] = {
    "sku": "TOFU-300", "name": "국산콩 두부 300g", "category": "processed_food", "brand": "맑은콩",
    "manufacturer": "맑은식품", "origin": "국내산", "price_krw": 3500,
    "net_content": {"value": 300, "unit": "g"}, "allergens": ["대두"],
    "storage": "냉장 보관 (0~10℃)", "use_by": {"label": "소비기한", "date": "2026-03-01"},
    "certifications": ["HACCP"], "notice": {"food_type": "두부"},
}
POLICY_EXAMPLE: dict[str, Any] = {
    "shop_name": "맑은콩 상회", "shipping_fee_krw": 3000, "free_shipping_threshold_krw": 30000,
    "shipping_days": "결제 후 1~2일 내 출고", "return_policy": "수령 후 7일 이내 교환·반품 가능",
    "cs_phone": "02-123-4567", "cs_hours": "평일 10시~17시", "tone": "polite",
}


class InlineProduct(ProductRecord):
    """A product sent with the request (ad-hoc use); its shop is always the caller's."""

    model_config = ConfigDict(json_schema_extra={"examples": [PRODUCT_EXAMPLE]})
    shop_id: str | None = Field(default=None, description="무시됨: 항상 API 키의 상점")  # type: ignore[assignment]

    def for_shop(self, shop_id: str) -> ProductRecord:
        return ProductRecord.model_validate({**self.model_dump(), "shop_id": shop_id})


class InlinePolicy(ShopPolicy):
    model_config = ConfigDict(json_schema_extra={"examples": [POLICY_EXAMPLE]})
    shop_id: str | None = Field(default=None, description="무시됨: 항상 API 키의 상점")  # type: ignore[assignment]

    def for_shop(self, shop_id: str) -> ShopPolicy:
        return ShopPolicy.model_validate({**self.model_dump(), "shop_id": shop_id})


class _ProductRef(BaseModel):
    product_id: str | None = Field(default=None, min_length=1, max_length=64,
                                   description="등록된 상품의 상품코드(sku)")
    product: InlineProduct | None = Field(default=None, description="등록하지 않은 상품을 바로 보낼 때")
    model: str | None = Field(default=None, description="기본 모델 또는 이 상점이 쓸 수 있는 어댑터 이름")

    @model_validator(mode="after")
    def _one_product(self) -> _ProductRef:
        if (self.product_id is None) == (self.product is None):
            raise ValueError("product_id(상품코드)와 product(상품 정보) 중 정확히 하나를 보내세요.")
        return self


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class DescriptionRequest(_ProductRef):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"product_id": "TOFU-300", "style": "detail", "tone": "friendly", "max_chars": 400},
        {"product": PRODUCT_EXAMPLE, "style": "seo"},
    ]})
    style: Style = Field(default="detail", description="detail(상세설명) intro(한줄소개) "
                         "bullets(핵심 특징) seo(SEO 제목)")
    tone: Tone | None = Field(default=None, description="friendly(친근) polite(정중) concise(간결); "
                              "기본은 상점 정책의 말투")
    max_chars: int | None = Field(default=None, ge=10, le=5000, description="최대 글자 수")


class FilledSlot(BaseModel):
    """A value the record filled into the model's draft (the model wrote the words)."""

    field: str = Field(description="상품 기록·정책의 항목 (예: price_krw, policy.shipping_fee)")
    value: str = Field(description="기록에서 채운 값 그대로")


# Fields every generated response carries (descriptions and answers alike), defined once.
FilledSlots = Annotated[list[FilledSlot], Field(
    default_factory=list, description="모델 초안의 값 자리에 상품 기록이 채운 값 (source: model일 때)")]
EngineDown = Annotated[bool, Field(
    default=False, description="true: 생성 모델 서버에 연결할 수 없어 모델 없이 답함 "
    "(잠시 뒤 다시 요청하면 모델 답변을 받을 수 있음)")]
RecordWarnings = Annotated[list[RecordWarning], Field(
    default_factory=list, description="상품 기록 자체가 어긴 규칙 (예: 인증 없이 상품명에 '유기농', "
    "상품 필드에 적힌 상점 정책): 어느 필드를 어떻게 고칠지 안내합니다. 이런 기록의 설명은 근거 "
    "검사에서 떨어질 수 있습니다")]


class DescriptionResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "text": "맑은콩에서 선보이는 국산콩 두부입니다. 원산지는 국내산입니다.", "style": "detail",
        "tone": "polite", "source": "model", "product_id": "TOFU-300", "regenerations": 0,
        "grounding": {"passed": True, "unsupported_claims": [], "missing_required": [],
                      "compliance_violations": []},
        "model": "nano", "usage": {"prompt_tokens": 180, "completion_tokens": 42, "total_tokens": 222},
        "engine_down": False,
    }, {
        "text": "국산콩 두부 300g (맑은콩). 원산지: 국내산. 알레르기 유발 성분: 대두.",
        "style": "detail", "tone": "polite", "source": "fallback", "product_id": "TOFU-300",
        "regenerations": 0,
        "grounding": {"passed": True, "unsupported_claims": [], "missing_required": [],
                      "compliance_violations": []},
        "model": "nano", "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "engine_down": True,
    }]})
    text: str
    style: Style
    tone: Tone
    source: Literal["model", "fallback"] = Field(
        description="model: 모델 초안이 근거 검사를 통과함; fallback: 규칙 기반 문구로 대체함")
    product_id: str
    regenerations: int = Field(description="다시 생성한 횟수")
    grounding: GroundingReport
    model: str
    usage: Usage
    slots: FilledSlots
    engine_down: EngineDown
    record_warnings: RecordWarnings


class AnswerRequest(_ProductRef):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"product_id": "TOFU-300", "question": "소비기한이 언제까지예요?"},
        {"product_id": "TOFU-300", "question": "배송비 얼마예요? 제 번호는 010-1234-5678 이에요"},
    ]})
    question: str = Field(description="고객 질문 (개인정보는 모델에 보내기 전에 가려집니다)")
    policy: InlinePolicy | None = Field(default=None, description="상점 정책 (기본: 등록된 정책)")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("질문이 비어 있습니다.")
        return value


class AnswerResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "answer": "소비기한은 2026-03-01까지입니다.", "needs_human": False, "evidence": ["use_by"],
        "source": "model", "product_id": "TOFU-300",
        "grounding": {"passed": True, "unsupported_claims": [], "missing_required": [],
                      "compliance_violations": []},
        "model": "nano", "usage": {"prompt_tokens": 210, "completion_tokens": 15, "total_tokens": 225},
        "engine_down": False,
    }, {
        "answer": "소비기한은 2026-03-01까지입니다.", "needs_human": False, "evidence": ["use_by"],
        "source": "fallback", "product_id": "TOFU-300",
        "grounding": {"passed": True, "unsupported_claims": [], "missing_required": [],
                      "compliance_violations": []},
        "model": "nano", "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "engine_down": True,
    }]})
    answer: str
    needs_human: bool = Field(description="담당자 확인이 필요한 질문이면 true")
    evidence: list[str] = Field(description="답변이 근거로 삼은 필드 이름")
    source: Literal["model", "fallback", "handoff", "refusal"] = Field(
        description="model: 모델 답변; fallback: 규칙 기반 답변; handoff: 담당자 연결 문구; "
        "refusal: 답할 수 없는 요청(지시문 조작 등)")
    product_id: str
    grounding: GroundingReport
    model: str
    usage: Usage
    slots: FilledSlots
    engine_down: EngineDown
    record_warnings: RecordWarnings


class MissingField(BaseModel):
    key: str
    label: str


class ProductOut(BaseModel):
    product: ProductRecord
    missing_required: list[MissingField] = Field(description="비어 있는 상품정보제공고시 필수 항목")
    warnings: list[RecordWarning] = Field(
        default_factory=list, description="상품 기록 자체가 어긴 규칙: 필드, 규칙, 고칠 방법")


class ProductList(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int
    category: str | None


class ProductPut(InlineProduct):
    """PUT body: the product; ``sku`` may be left out (the path has it) but must match if sent."""

    sku: str | None = Field(default=None, min_length=1, max_length=64)  # type: ignore[assignment]


class RejectedCell(BaseModel):
    row: int
    column: str
    reason: str
    value: str


class WarnedRow(RecordWarning):
    row: int
    sku: str


class ImportReport(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "rows": 3, "imported": 2, "updated": 0, "changed": 0, "rejected": 1, "missing_required": 1,
        "reasons": {"가격 형식 오류": 1}, "encoding": "cp949",
        "rejects": [{"row": 4, "column": "가격", "reason": "가격 형식 오류: 숫자가 없습니다",
                     "value": "문의"}]}]})
    rows: int
    imported: int
    updated: int
    changed: int
    rejected: int
    missing_required: int
    reasons: dict[str, int]
    encoding: str | None
    rejects: list[RejectedCell]
    warnings: int = Field(default=0, description="등록됐지만 기록 자체가 규칙을 어긴 상품 수")
    warning_rules: dict[str, int] = Field(default_factory=dict, description="규칙별 경고 수")
    warning_examples: list[WarnedRow] = Field(default_factory=list,
                                              description="처음 몇 개 경고: 행, 상품코드, 필드, 규칙, 안내")


class Health(BaseModel):
    status: str
    model: str | None = None

"""The subset of the OpenAI Chat Completions and Models wire format this server speaks.
Unknown request fields are ignored (clients send many optional ones), as OpenAI-compatible
servers do."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart]

    def as_engine_message(self) -> dict[str, str]:
        text = self.content if isinstance(self.content, str) else "".join(
            part.text for part in self.content)
        return {"role": "system" if self.role == "developer" else self.role, "content": text}


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


MIN_TEMPERATURE = 0.01  # below this, logits / temperature overflows float32 (1e-300: inf, NaN)
MIN_TOP_P = 1e-3


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{
        "model": "nano", "stream": False, "max_tokens": 128,
        "messages": [{"role": "system", "content": "너는 쇼핑몰 상품 설명을 쓰는 도우미다."},
                     {"role": "user", "content": "국산콩 두부 300g을 한 줄로 소개해 줘."}],
    }]})
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1,
                             description="샘플링 재현용 64비트 정수 (더 큰 수는 torch 가 거부)")
    n: int = Field(default=1, ge=1, le=1, description="1만 지원")
    product_id: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="상품코드 (확장 필드): 주면 마지막 사용자 메시지를 이 상품에 대한 고객 질문으로 보고 "
        "/v1/answers 와 똑같이 프롬프트·제약 디코딩·근거 검사를 거쳐 답합니다.")

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, value: float | None) -> float | None:
        """0 stays greedy; any other value the schema accepts is clamped to a safe range."""
        return value if not value else max(MIN_TEMPERATURE, value)

    @field_validator("top_p")
    @classmethod
    def _top_p(cls, value: float | None) -> float | None:
        return value if value is None else max(MIN_TOP_P, value)

    @field_validator("stop")
    @classmethod
    def _stops(cls, value: str | list[str] | None) -> list[str]:
        stops = [value] if isinstance(value, str) else list(value or [])
        if any(not s for s in stops):
            raise ValueError("stop 에 빈 문자열은 쓸 수 없습니다.")
        if len(stops) > 4:
            raise ValueError("stop 은 최대 4개까지 쓸 수 있습니다.")
        return stops


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Grounded(BaseModel):
    """What a chat with a product adds (extension field ``smallretail``; OpenAI clients ignore
    it): the same verdict /v1/answers returns."""

    product_id: str
    needs_human: bool
    evidence: list[str]
    source: Literal["model", "fallback", "handoff", "refusal"]
    grounding: dict[str, Any]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    smallretail: Grounded | None = None


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop", "length"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None
    smallretail: Grounded | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def stream_event_schema(error_ref: str) -> dict[str, Any]:
    """One server-sent event of a streamed completion, for OpenAPI's ``itemSchema``: its ``data``
    is a ChatCompletionChunk (or the error body at ``error_ref``) as JSON, or the final
    ``[DONE]``. The chunk schema is inlined, since it is not a component of the app's schema."""
    chunk = ChatCompletionChunk.model_json_schema(mode="serialization")
    payload = {"anyOf": [_inline(chunk, chunk.get("$defs", {})), {"$ref": error_ref}]}
    data = {"anyOf": [{"const": "[DONE]"}, {"type": "string", "contentMediaType": "application/json",
                                            "contentSchema": payload}]}
    return {"type": "object", "required": ["data"], "properties": {"data": data}}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with each ``#/$defs/…`` reference replaced by its definition (none is recursive)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {key: _inline(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(value, defs) for value in schema]
    return schema

"""Server settings from the environment (``SMALLRETAIL_*``), read once at start-up by the caller
and passed to ``create_app`` as plain values: nothing here is read at import time."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from smallretail_llm.db.store import default_db_url

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pairs(value: Any, what: str) -> dict[str, str]:
    """ "a=x,b=y" (or a JSON object, or a dict) -> {"a": "x", "b": "y"}."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    text = str(value).strip()
    if text.startswith("{"):
        import json

        return {str(k): str(v) for k, v in json.loads(text).items()}
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, target = item.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise ValueError(f"{what} 항목은 '이름=값' 형식이어야 합니다: '{item}'")
        pairs[name.strip()] = target.strip()
    return pairs


class Settings(BaseSettings):
    """Everything the server can be told. Each field is ``SMALLRETAIL_<NAME>`` in the environment
    (e.g. ``SMALLRETAIL_DB``, ``SMALLRETAIL_MODEL``, ``SMALLRETAIL_RATE_LIMIT_PER_MINUTE``)."""

    model_config = SettingsConfigDict(env_prefix="SMALLRETAIL_", extra="ignore", env_ignore_empty=True)

    db: str = Field(default_factory=default_db_url, description="SQLAlchemy URL of the product DB")
    model: str = Field("nano", description='hub id, local model dir, or "nano" (built offline)')
    adapter: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='LoRA adapters: "DIR" or "name=DIR,name2=DIR2" (name defaults to the dir name)')
    adapter_shops: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='adapter owners: "adapter=shop,…"; an adapter not listed is shared by all shops')
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    demo: bool = Field(False, description="serve without API keys (only on a loopback host)")
    demo_shop: str = Field("demo", description="shop used for keyless requests in demo mode")
    rate_limit_per_minute: float = Field(120.0, gt=0, description="sustained requests per key")
    rate_limit_burst: int = Field(30, ge=1, description="requests a key may make at once")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="JSON request body limit (413)")
    max_upload_bytes: int = Field(20_971_520, ge=1024, description="catalog upload limit (413)")
    max_question_chars: int = Field(1000, ge=1, description="longest customer question")
    max_new_tokens: int = Field(512, ge=1, description="cap on generated tokens per request")
    max_regenerations: int = Field(2, ge=0, description="re-drafts before the renderer fallback")
    constrained_decoding: bool = Field(
        True, description="numbers and value slots in drafts only from the record (local engines)")
    fail_fast: bool = Field(
        True, description="stop a draft at the first sentence with an unsupported claim")
    queue_size: int = Field(64, ge=1, description="waiting generations before 503")
    batch_size: int = Field(8, ge=1)
    batch_wait_ms: float = Field(5.0, ge=0)
    request_timeout_s: float = Field(60.0, gt=0, description="per generation, queue included")
    retry_after_s: float = Field(1.0, ge=0, description="Retry-After sent with 503 queue-full")
    # Few: kiwipiepy holds the GIL while it analyses, so more threads check no faster and the
    # loop waits longer for the GIL (issue 17 notes); database waits release it.
    blocking_threads: int = Field(4, ge=1, description="threads for a request's blocking work "
                                  "(database, grounding checks), so the event loop stays free")
    device: str = "auto"
    num_threads: int | None = Field(None, ge=1)
    engine_process: bool = Field(
        True, description="local engines: run the model in a process of its own, so the API's "
        "Python and the decode loop never wait on one GIL (engine_process.py); its threads "
        "default to every core but one")
    engine: Literal["transformers", "llama_cpp", "remote"] = Field(
        "transformers", description="transformers (model + adapters in this process), llama_cpp "
        "(a GGUF file, CPU), remote (an OpenAI-compatible server: vLLM, llama.cpp, TGI)")
    quantize: Literal["none", "int8"] = Field(
        "none", description="transformers on CPU: int8 weights (faster, slightly different text)")
    prefix_cache_mb: float = Field(256, ge=0, description="transformers: memory for reused "
                                   "prompt KV (0: off)")
    gguf: str | None = Field(None, description="llama_cpp: the GGUF file (`smallretail export "
                             "--gguf`); SMALLRETAIL_MODEL is the folder with its tokenizer")
    remote_url: str | None = Field(None, description="remote: the server's URL, e.g. "
                                   "http://vllm:8000/v1")
    remote_api_key: SecretStr | None = Field(None, description="remote: sent as Bearer token")
    remote_models: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description='remote: adapters as served, "adapter=served_model,…"; '
        "SMALLRETAIL_MODEL is the served base model's name")
    remote_timeout_s: float = Field(60.0, gt=0, description="remote: longest wait for the next byte")
    remote_connect_timeout_s: float = Field(5.0, gt=0, description="remote: connecting")
    remote_retries: int = Field(2, ge=0, description="remote: retries before the first token "
                                "(connection errors, 5xx, 429)")
    breaker_failures: int = Field(5, ge=1, description="remote: failed requests in a row that "
                                  "open the circuit breaker")
    breaker_reset_s: float = Field(30.0, gt=0, description="remote: seconds the breaker stays "
                                   "open before one probe request")
    admin_token: SecretStr | None = Field(None, description="operator routes /admin/* (keys, "
                                          "usage): Bearer token; unset: those routes are off")
    metrics_token: SecretStr | None = Field(None, description="/metrics needs this Bearer token; "
                                            "unset: /metrics answers only on a loopback host")
    metrics_shop_labels: bool = Field(False, description="shop ids as metric label values "
                                      "(default: a keyed hash of them)")
    metrics_salt: SecretStr = Field(SecretStr(""), description="key of the shop-label hash "
                                    "(set it: shop ids are guessable)")
    quota_per_minute: int | None = Field(None, ge=1, description="requests per key per minute, "
                                         "shared by every replica (counted in the DB)")
    quota_requests_per_day: int | None = Field(None, ge=1, description="requests per shop a day")
    quota_requests_per_month: int | None = Field(None, ge=1, description="requests per shop a month")
    quota_tokens_per_day: int | None = Field(None, ge=1, description="tokens per shop a day")
    quota_tokens_per_month: int | None = Field(None, ge=1, description="tokens per shop a month")
    auth_failures_per_minute: float = Field(60.0, gt=0, description="failed authentications "
                                            "per client address before 429")
    auth_failures_burst: int = Field(100, ge=1)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="demo mode: Host/Origin names accepted besides "
        "localhost, 127.0.0.1 and ::1 (comma-separated)")
    read_timeout_s: float = Field(15.0, gt=0, description="a client must send its whole request "
                                  "head (line and headers) within this time")
    body_timeout_s: float = Field(120.0, gt=0, description="a client must send its whole body "
                                  "within this time after its headers")
    idle_timeout_s: float = Field(5.0, gt=0, description="keep-alive connections idle this long "
                                  "are closed")
    max_connections: int = Field(256, ge=1, description="open connections; more are refused (503)")
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("adapter", mode="before")
    @classmethod
    def _adapters(cls, value: Any) -> dict[str, str]:
        if isinstance(value, str) and value.strip() and "=" not in value and "{" not in value:
            from pathlib import Path

            return {Path(p.strip()).name: p.strip() for p in value.split(",") if p.strip()}
        return _pairs(value, "SMALLRETAIL_ADAPTER")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            return [h.strip().lower() for h in value.split(",") if h.strip()]
        return list(value or [])

    @field_validator("adapter_shops", mode="before")
    @classmethod
    def _adapter_shops(cls, value: Any) -> dict[str, str]:
        return _pairs(value, "SMALLRETAIL_ADAPTER_SHOPS")

    @field_validator("remote_models", mode="before")
    @classmethod
    def _remote_models(cls, value: Any) -> dict[str, str]:
        return _pairs(value, "SMALLRETAIL_REMOTE_MODELS")

    @model_validator(mode="after")
    def _engine_choice(self) -> Settings:
        if self.engine == "remote":
            if not self.remote_url:
                raise ValueError("SMALLRETAIL_ENGINE=remote 에는 SMALLRETAIL_REMOTE_URL(생성 서버 "
                                 "주소, 예: http://vllm:8000/v1)이 필요합니다.")
            if not self.remote_url.startswith(("http://", "https://")):
                raise ValueError("SMALLRETAIL_REMOTE_URL 은 http:// 또는 https:// 로 시작해야 "
                                 f"합니다: '{self.remote_url}'")
        if self.engine == "llama_cpp" and not self.gguf:
            raise ValueError("SMALLRETAIL_ENGINE=llama_cpp 에는 SMALLRETAIL_GGUF(GGUF 파일 경로)가 "
                             "필요합니다. `smallretail export --gguf` 로 만드세요.")
        if self.engine != "transformers" and self.adapter:
            where = ("SMALLRETAIL_REMOTE_MODELS 에 '어댑터=서버 모델 이름'으로" if self.engine == "remote"
                     else "GGUF 에 병합해서")
            raise ValueError(f"SMALLRETAIL_ADAPTER 는 engine=transformers 에서만 씁니다 "
                             f"(지금 engine={self.engine}). 어댑터는 {where} 지정하세요.")
        if self.engine != "transformers" and self.quantize != "none":
            raise ValueError(f"SMALLRETAIL_QUANTIZE 는 engine=transformers 에서만 씁니다 "
                             f"(지금 engine={self.engine}).")
        if self.engine != "remote" and self.remote_models:
            raise ValueError("SMALLRETAIL_REMOTE_MODELS 는 SMALLRETAIL_ENGINE=remote 에서만 씁니다.")
        return self

    def served_adapters(self) -> list[str]:
        """Adapter names this configuration serves (what SMALLRETAIL_ADAPTER_SHOPS may name)."""
        return list(self.remote_models if self.engine == "remote" else self.adapter)

    @model_validator(mode="after")
    def _keyless_only_on_loopback(self) -> Settings:
        if self.demo and not is_loopback(self.host):
            raise ValueError(
                f"API 키 없는 데모 모드는 127.0.0.1 에서만 쓸 수 있습니다 (지금 host: {self.host}). "
                "SMALLRETAIL_DEMO 를 끄고 `smallretail keys create --shop 상점` 으로 키를 만드세요."
            )
        unknown = sorted(set(self.adapter_shops) - set(self.served_adapters()))
        if unknown:
            raise ValueError(f"SMALLRETAIL_ADAPTER_SHOPS 에 없는 어댑터가 있습니다: {', '.join(unknown)}")
        return self

    def models_for(self, shop_id: str, base: str, loaded: list[str]) -> list[str]:
        """Model names a shop may use: the base, its own adapters and shared ones."""
        adapters = [a for a in loaded if a != base]
        return [base, *(a for a in adapters if self.adapter_shops.get(a, shop_id) == shop_id)]

    def default_adapter(self, shop_id: str, loaded: list[str]) -> str | None:
        """The adapter descriptions and answers use: the shop's own, else a shared one, else none."""
        adapters = loaded[1:]
        own = [a for a in adapters if self.adapter_shops.get(a) == shop_id]
        shared = [a for a in adapters if a not in self.adapter_shops]
        return own[0] if own else shared[0] if shared else None

    def limits(self):
        """The database-counted quotas (smallretail_llm.db.usage.Limits)."""
        from smallretail_llm.db.usage import Limits

        return Limits(self.quota_per_minute, self.quota_requests_per_day,
                      self.quota_requests_per_month, self.quota_tokens_per_day,
                      self.quota_tokens_per_month)

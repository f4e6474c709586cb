"""The generation engine contract: request/result types, errors, and the ``Engine`` protocol.

The HTTP layer, the assistant, eval and bench talk to an ``Engine`` only, so a transformers
engine (``hf_engine.TransformersEngine``), a remote OpenAI-compatible engine (vLLM, llama.cpp)
or a test fake can stand behind the same API.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from smallretail_llm.core.tenant import TENANT

if TYPE_CHECKING:
    from smallretail_llm.serving.decoding.value_constraint import ValueConstraint

logger = logging.getLogger(__name__)

FinishReason = Literal["stop", "length", "cancelled", "timeout", "rejected"]
""""rejected": the request's ``check`` stopped a draft that already failed (fail fast)."""

# Row label peft uses for "no adapter" in a mixed-adapter batch.
BASE_ADAPTER = "__base__"


class QueueFull(RuntimeError):
    """The bounded request queue is full; the API answers 503/429 with Retry-After."""

    def __init__(self, max_queue: int, retry_after_s: float) -> None:
        self.max_queue = max_queue
        self.retry_after_s = retry_after_s
        super().__init__(
            f"생성 대기열이 가득 찼습니다 (최대 {max_queue}건). "
            f"{math.ceil(retry_after_s)}초 후 다시 시도하세요."
        )

    def __reduce__(self) -> tuple:  # (pickles: raised in an engine process, see engine_process)
        return type(self), (self.max_queue, self.retry_after_s)


class EngineUnavailable(RuntimeError):
    """The generation backend cannot be reached (a remote server down, failing or its circuit
    breaker open). The assistant answers without the model (renderer, rules, hand-off); the
    OpenAI-compatible route answers 503 with Retry-After."""

    def __init__(self, reason: str, retry_after_s: float = 5.0) -> None:
        self.reason = reason
        self.retry_after_s = retry_after_s
        super().__init__(
            f"생성 모델 서버를 쓸 수 없습니다: {reason}. "
            f"{math.ceil(retry_after_s)}초 후 다시 시도하세요."
        )

    def __reduce__(self) -> tuple:
        return type(self), (self.reason, self.retry_after_s)


class UnknownAdapter(KeyError):
    """A request named an adapter the engine has not loaded."""

    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        self.available = list(available)
        listed = ", ".join(self.available) or "없음"
        super().__init__(f"알 수 없는 어댑터입니다: '{name}' (사용 가능: {listed})")

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])

    def __reduce__(self) -> tuple:
        return type(self), (self.name, self.available)




@dataclass(frozen=True)
class GenerationRequest:
    """One generation. Exactly one of ``messages`` (chat, rendered with the model's own chat
    template) or ``prompt`` (raw text) is set. ``temperature == 0`` means greedy (the default).
    ``timeout_s`` counts from submission, queue time included. ``ignore_eos`` keeps generating
    past EOS up to ``max_new_tokens`` (benchmarks that need a fixed output length).

    ``constraint`` (local engines) keeps numbers and value slots to the record's
    (``value_constraint.py``). ``check`` is called with the text so far each time a sentence
    or line ends; a returned reason stops the row at once with finish_reason "rejected", so a
    draft that already states something false costs no more tokens."""

    messages: Sequence[Mapping[str, str]] | None = None
    prompt: str | None = None
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    adapter: str | None = None
    stop: Sequence[str] = ()
    seed: int | None = None
    timeout_s: float | None = None
    ignore_eos: bool = False
    constraint: ValueConstraint | None = field(default=None, compare=False)
    check: Callable[[str], str | None] | None = field(default=None, compare=False, repr=False)
    # Whose request this is: engines keep per-tenant state (the prompt prefix cache) apart, so
    # one shop's prompts never speed up (or time) another's. None: no tenant (eval, bench).
    tenant: str | None = field(default_factory=TENANT.get)

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("messages 와 prompt 중 정확히 하나만 지정해야 합니다.")
        if self.messages is not None:
            if not self.messages:
                raise ValueError("messages 가 비어 있습니다.")
            for i, message in enumerate(self.messages):
                if not isinstance(message.get("role"), str) or not isinstance(
                    message.get("content"), str
                ):
                    raise ValueError(  # noqa: TRY004 - bad user input: the API answers 400
                        f"messages[{i}] 에 문자열 role 과 content 가 있어야 합니다."
                    )
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens 는 1 이상이어야 합니다: {self.max_new_tokens}")
        if not self.temperature >= 0:
            raise ValueError(f"temperature 는 0 이상이어야 합니다: {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p 는 0 초과 1 이하여야 합니다: {self.top_p}")
        if self.timeout_s is not None and not self.timeout_s >= 0:
            raise ValueError(f"timeout_s 는 0 이상이어야 합니다: {self.timeout_s}")
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        object.__setattr__(self, "stop", tuple(self.stop))
        if any(not s for s in self.stop):
            raise ValueError("stop 에 빈 문자열은 쓸 수 없습니다.")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass(frozen=True)
class GenerationResult:
    """What one request produced. ``model`` is the adapter name, or the base model's name."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: FinishReason
    model: str
    token_ids: tuple[int, ...] = field(default=(), repr=False)


_END = object()


class TextStream:
    """Async iterator of text deltas for one request; ``result`` is set once it is exhausted.

    Stopping early (``aclose()``, or the consuming task being cancelled, e.g. on a client
    disconnect) cancels the generation, which frees its batch slot.
    """

    def __init__(self, deltas: asyncio.Queue, task: asyncio.Task[GenerationResult]) -> None:
        self._deltas = deltas
        self._task = task
        self.result: GenerationResult | None = None
        task.add_done_callback(lambda _: deltas.put_nowait(_END))

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> str:
        try:
            item = await self._deltas.get()
        except asyncio.CancelledError:
            self._task.cancel()
            raise
        if item is _END:
            if self._task.cancelled():  # by the engine (e.g. shutting down), not by our consumer
                raise RuntimeError("생성이 중단되었습니다 (엔진 종료 중). 잠시 후 다시 시도하세요.")
            self.result = self._task.result()  # re-raises the generation's error, if any
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """Cancel the generation (if still running) and wait until it has let go of it."""
        if not self._task.done():
            self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception:  # the caller no longer wants the outcome, error or not
            logger.debug("stream closed after its generation failed", exc_info=True)


@runtime_checkable
class Engine(Protocol):
    """What the API needs from a generation backend."""

    @property
    def ready(self) -> bool:
        """True once the model is loaded and requests can be served."""
        ...

    def model_names(self) -> list[str]:
        """The base model's name first, then every loaded adapter's name."""
        ...

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Generate the whole answer. Raises QueueFull, UnknownAdapter, ValueError, and
        EngineUnavailable (remote engines: backend down or circuit open)."""
        ...

    def stream(self, request: GenerationRequest) -> TextStream:
        """Start generating now (errors are raised here) and return the text deltas. A remote
        engine may raise EngineUnavailable while iterating, when the backend fails before or
        during the first delta."""
        ...

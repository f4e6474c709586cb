"""What every local engine (transformers, llama.cpp) shares: the ``Engine`` protocol over a
``Batcher``, prompt tokenization with the model's chat template, and incremental decoding.

It imports neither torch nor transformers (the tokenizer is passed in), so the llama.cpp image
serves without torch installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from smallretail_llm.serving.engines.batcher import Batcher
from smallretail_llm.serving.engines.batching import BatcherMetrics, BatchingConfig, Job
from smallretail_llm.serving.engines.engine import (
    GenerationRequest,
    GenerationResult,
    TextStream,
    UnknownAdapter,
)

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

_REPLACEMENT = "\ufffd"


class IncrementalDecoder:
    """Turns a growing list of token ids into text deltas.

    A delta never ends inside a character: byte-fallback and byte-level tokens can stop in the
    middle of a Korean syllable, which decodes to U+FFFD until the rest arrives, so such a tail is
    held back. Text that could be the start of a stop string is held back as well, and the text
    is cut before the first stop string. Decoding uses a short window (the method of TGI/vLLM),
    so it stays cheap for long outputs and keeps SentencePiece's leading-space handling right.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, stop: Sequence[str] = ()) -> None:
        self._tokenizer = tokenizer
        self._stop = tuple(stop)
        self._longest_stop = max(map(len, self._stop), default=0)
        self._ids: list[int] = []
        self._prefix = 0  # window start: tokens kept only as decoding context
        self._read = 0  # tokens before this are already turned into text
        self._text = ""
        self._sent = 0  # characters of _text already returned
        self.stopped = False

    @property
    def text(self) -> str:
        """All text returned so far (after ``finish``: the whole answer)."""
        return self._text[: self._sent]

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        piece = self._new_piece(final=False)
        return self._release(piece, final=False) if piece else ""

    def finish(self) -> str:
        """Flush what is left; an incomplete character at the very end is dropped."""
        if self.stopped:
            return ""
        return self._release(self._new_piece(final=True), final=True)

    def _decode(self, start: int, end: int) -> str:
        # one flat list of ids decodes to one str (transformers types batches in too)
        return cast(str, self._tokenizer.decode(
            self._ids[start:end], skip_special_tokens=True, clean_up_tokenization_spaces=False
        ))

    def _new_piece(self, *, final: bool) -> str:
        before = self._decode(self._prefix, self._read)
        after = self._decode(self._prefix, len(self._ids))
        if final:
            after = after.rstrip(_REPLACEMENT)
        elif after.endswith(_REPLACEMENT):
            return ""
        if len(after) <= len(before):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return after[len(before) :]

    def _release(self, piece: str, *, final: bool) -> str:
        search_from = max(0, len(self._text) - self._longest_stop + 1)
        self._text += piece
        hits = [i for s in self._stop if (i := self._text.find(s, search_from)) >= 0]
        if hits:
            self._text = self._text[: min(hits)]
            self.stopped = final = True
        end = len(self._text) if final else len(self._text) - self._held_back()
        if end <= self._sent:
            return ""
        delta = self._text[self._sent : end]
        self._sent = end
        return delta

    def _held_back(self) -> int:
        """Length of the longest tail of the text that may still become a stop string."""
        for k in range(min(self._longest_stop - 1, len(self._text)), 0, -1):
            tail = self._text[-k:]
            if any(s.startswith(tail) for s in self._stop):
                return k
        return 0


def shared_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading token ids two sequences have in common."""
    n = 0
    for x, y in zip(a, b, strict=False):  # up to the shorter one
        if x != y:
            break
        n += 1
    return n


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    limit: int  # this row's max_new_tokens after the engine cap and the context size


def tokenize_prompt(tokenizer: PreTrainedTokenizerBase, request: GenerationRequest,
                    template_kwargs: Mapping[str, Any], max_new_tokens: int,
                    context: int | None) -> Prompt:
    """The request's prompt ids (chat template applied to messages) and its token limit.
    Raises ValueError when the prompt leaves no room in the context. Shared by every local
    engine, so they all render prompts exactly as training did."""
    if request.messages is not None:
        text = tokenizer.apply_chat_template(
            [dict(m) for m in request.messages], add_generation_prompt=True, tokenize=False,
            **template_kwargs,
        )
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    else:
        ids = tokenizer(request.prompt)["input_ids"]
    limit = min(request.max_new_tokens, max_new_tokens)
    if context is not None:
        if len(ids) >= context:
            raise ValueError(f"프롬프트가 너무 깁니다: {len(ids)} 토큰 (모델 최대 {context} 토큰)")
        limit = min(limit, context - len(ids))
    return Prompt(ids=list(ids), limit=limit)


@dataclass(frozen=True)
class PromptRules:
    """How one engine turns a request into a ``Prompt``: its tokenizer and chat template, its
    token caps and the adapters a request may name. It pickles (the tokenizer with it), so an
    engine in its own process hands its rules to the API process, which then refuses a bad
    request before queueing it, exactly as the engine would (``engine_process.py``)."""

    tokenizer: PreTrainedTokenizerBase
    template_kwargs: Mapping[str, object]
    max_new_tokens: int
    context: int | None
    adapters: tuple[str, ...]  # names a request may pick; no name is the base model

    def prepare(self, request: GenerationRequest) -> Prompt:
        """Raises UnknownAdapter, or ValueError when the prompt leaves no room in the context."""
        if request.adapter is not None and request.adapter not in self.adapters:
            raise UnknownAdapter(request.adapter, self.adapters)
        return tokenize_prompt(self.tokenizer, request, self.template_kwargs, self.max_new_tokens,
                               self.context)


class BatchedEngine:
    """The ``Engine`` protocol over a ``Batcher``: a subclass sets ``_batcher``, ``_ready`` and
    ``rules`` (request -> Prompt, raising before anything is queued)."""

    _batcher: Batcher
    _ready: bool
    rules: PromptRules

    def _prepare(self, request: GenerationRequest) -> Prompt:
        return self.rules.prepare(request)

    @property
    def ready(self) -> bool:
        return self._ready

    def model_names(self) -> list[str]:
        """The base model's name first, then every loaded adapter's name (each engine's own)."""
        raise NotImplementedError

    @property
    def metrics(self) -> BatcherMetrics:
        return self._batcher.metrics

    @property
    def batching(self) -> BatchingConfig:
        return self._batcher.config

    def enqueue(self, request: GenerationRequest, prompt: Prompt,
                on_text: Callable[[str], None] | None = None) -> Job:
        """Queue a request already prepared (``rules.prepare``, e.g. in the API process)."""
        return self._batcher.enqueue(request, data=prompt, on_text=on_text)

    async def result(self, job: Job) -> GenerationResult:
        return await self._batcher.result(job)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        return await self._batcher.submit(request, data=self._prepare(request))

    def stream(self, request: GenerationRequest) -> TextStream:
        """Queue the request now (QueueFull/UnknownAdapter/ValueError are raised here, before a
        response starts) and return its text deltas; ``.result`` has the usage at the end."""
        data = self._prepare(request)
        deltas: asyncio.Queue[str] = asyncio.Queue()
        job = self._batcher.enqueue(request, data=data, on_text=deltas.put_nowait)
        return TextStream(deltas, asyncio.get_running_loop().create_task(self._batcher.result(job)))

    async def aclose(self) -> None:
        self._ready = False
        await self._batcher.aclose()

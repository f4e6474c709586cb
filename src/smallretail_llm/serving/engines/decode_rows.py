"""A row of a running batch, shared by the local engines' decode loops (``step_loop.py`` for
transformers, ``llama_steps.py`` for llama.cpp), so both end a row the same way: one token at a
time (``Row.push``), at EOS, a stop string, its own ``max_new_tokens``, a failed draft check,
cancellation or timeout. No torch (the llama.cpp image has none)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from smallretail_llm.serving.decoding.row_masks import RowMasks
from smallretail_llm.serving.engines.batching import Job
from smallretail_llm.serving.engines.engine import BASE_ADAPTER, FinishReason, GenerationResult
from smallretail_llm.serving.engines.local_engine import IncrementalDecoder, Prompt

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def job_prompt(job: Job) -> Prompt:
    """The tokenized prompt a local engine queues as ``job.data`` (``BatchedEngine.enqueue``)."""
    return cast(Prompt, job.data)


@dataclass(eq=False)
class Row:
    """One request in the running batch: its tokens, its text so far, and why it ended."""

    job: Job
    decoder: IncrementalDecoder
    eos_ids: frozenset[int]
    tokens: list[int] = field(default_factory=list)
    reason: FinishReason | None = None

    @classmethod
    def start(cls, job: Job, tokenizer: PreTrainedTokenizerBase, eos_ids: frozenset[int]) -> Row:
        """A new row for ``job``: nothing generated yet, its own stop strings."""
        return cls(job, IncrementalDecoder(tokenizer, job.request.stop), eos_ids)

    @property
    def prompt(self) -> Prompt:
        return job_prompt(self.job)

    @property
    def adapter(self) -> str:
        return self.job.request.adapter or BASE_ADAPTER

    def push(self, token: int) -> None:
        """Record the next token, stream its text, and decide whether the row ends."""
        job = self.job
        reason = job.should_stop()
        if reason is None and token in self.eos_ids and not job.request.ignore_eos:
            reason = "stop"
        if reason is None:
            self.tokens.append(token)
            delta = self.decoder.push(token)
            job.emit(delta)
            if self.decoder.stopped:
                reason = "stop"
            elif job.request.check is not None and delta.rstrip(" ").endswith((".", "!", "?", "\n")):
                if job.request.check(self.decoder.text):  # fail fast: already a failed draft
                    reason = "rejected"
            elif len(self.tokens) >= self.prompt.limit:
                reason = "length"
        if reason is not None:
            self.reason = reason
            job.emit(self.decoder.finish())

    def result(self, model_name: str) -> GenerationResult:
        return GenerationResult(
            text=self.decoder.text,
            prompt_tokens=len(self.prompt.ids),
            completion_tokens=len(self.tokens),
            finish_reason=self.reason or "length",
            model=self.job.request.adapter or model_name,
            token_ids=tuple(self.tokens),
        )


def row_masks(rows: Sequence[Row], table: Callable, greedy: bool) -> RowMasks | None:
    """The record constraints of a batch's ``rows`` as one ``RowMasks`` (None: no row has one).
    A row that has ended is not masked (its tokens are thrown away)."""
    if all(row.job.request.constraint is None for row in rows):
        return None
    return RowMasks([row.job.request.constraint for row in rows], table(),
                    lambda i: rows[i].tokens if rows[i].reason is None else None, greedy=greedy)

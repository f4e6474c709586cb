"""An ``Engine`` backed by llama.cpp (llama-cpp-python) for CPU deployments: a GGUF file made by
``smallretail export --gguf`` (LoRA merged in), served behind the same API.

Why: on CPU, decoding reads every weight once per token; llama.cpp's Q8_0/Q4_0 kernels read
int8/int4 weights at close to the memory bandwidth with no Python per layer, which is 1.5-2x
the transformers int8 path and 7-10x its fp32 path on the same machine (eval/reports/bench.md).

- Prompts are rendered and tokenized with the model folder's own Hugging Face tokenizer and chat
  template (the GGUF sits in the merged model's folder), so they are token-for-token the prompts
  the transformers engine and training use; text deltas come from the same
  ``IncrementalDecoder`` (stop strings, no split Korean characters).
- One request at a time (llama-cpp-python's ``Llama`` holds one sequence); the ``Batcher`` still
  gives the bounded queue, timeouts and cancellation. Batch throughput is the transformers
  engine's job.
- Shared prefixes: ``Llama.generate`` keeps the previous prompt's KV and evaluates only what
  differs from it, so consecutive requests with the same system prompt or product block reuse it.
- Adapters are merged into the GGUF: the engine serves one model under one name; ``adapter``
  in a request must be that name or empty.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from smallretail_llm.batcher import Batcher, BatchingConfig, Job
from smallretail_llm.engine import (
    FinishReason,
    GenerationRequest,
    GenerationResult,
    UnknownAdapter,
)
from smallretail_llm.local_engine import BatchedEngine, IncrementalDecoder, Prompt, tokenize_prompt

logger = logging.getLogger(__name__)


class LlamaCppEngine(BatchedEngine):
    """An ``Engine`` over one GGUF model. Loading happens in the constructor."""

    def __init__(
        self,
        gguf: str | Path,
        *,
        tokenizer: str | Path | None = None,
        name: str | None = None,
        n_ctx: int = 4096,
        num_threads: int | None = None,
        max_new_tokens: int = 1024,
        batching: BatchingConfig | None = None,
        chat_template_kwargs: dict[str, object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``tokenizer``: folder with the HF tokenizer and chat template (default: the GGUF's
        folder). ``name``: what requests may name as ``adapter`` (default: the folder name)."""
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise RuntimeError(
                "llama-cpp-python 이 설치되어 있지 않습니다: pip install 'smallretail-llm[llama]'"
            ) from exc
        from transformers import AutoTokenizer

        gguf = Path(gguf)
        if not gguf.is_file():
            raise FileNotFoundError(f"GGUF 파일이 없습니다: {gguf}")
        tokenizer_dir = Path(tokenizer) if tokenizer else gguf.parent
        self.name = name or tokenizer_dir.name
        self.max_new_tokens = max_new_tokens
        self._template_kwargs = dict(chat_template_kwargs or {"enable_thinking": False})
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
        threads = num_threads or os.cpu_count() or 1
        self._llm = Llama(str(gguf), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                          n_batch=512, verbose=False)
        self._context = min(self._llm.n_ctx(), self._llm._model.n_ctx_train())
        self._eos_ids = frozenset(
            i for i in (self._llm.token_eos(), self.tokenizer.eos_token_id) if i is not None and i >= 0
        )
        config = replace(batching or BatchingConfig(), max_batch_size=1)
        self._batcher = Batcher(self._run_batch, model_name=self.name, config=config, clock=clock)
        self._token_table = None  # built on the first constrained request
        self._ready = True
        logger.info("loaded %s (%s) with llama.cpp, %d threads", self.name, gguf.name, threads)

    # -- Engine protocol --------------------------------------------------------------------

    def model_names(self) -> list[str]:
        return [self.name]

    def clear_prefix_cache(self) -> None:
        """Forget the kept prompt KV (the bench uses it to time uncached prompts)."""
        self._llm.reset()

    # -- internals ------------------------------------------------------------------------------

    def _constraint(self, constraint, tokens: list[int]):
        """llama.cpp's logits processor for one request's ``ValueConstraint`` (the same per-step
        decision the transformers engine makes; ``tokens`` grows as the row generates)."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        from smallretail_llm.value_constraint import TokenTable, step_ban

        if self._token_table is None:
            self._token_table = TokenTable.for_tokenizer(self.tokenizer, self._eos_ids)
        table = self._token_table

        def apply(_input_ids, scores):
            ban = step_ban(tokens, constraint, table)
            only = ban.only
            if ban.only_numeric:
                keep = np.full(scores.shape[0], True)
                keep[[i for i in table.numeric_start_ids if i < scores.shape[0]]] = False
                scores[keep] = -np.inf
            if only is not None:
                keep = np.full(scores.shape[0], True)
                keep[[i for i in only if i < scores.shape[0]]] = False
                scores[keep] = -np.inf
            ids = [i for i in ban.ids if i < scores.shape[0]]
            if ids:
                scores[ids] = -np.inf
            return scores

        return LogitsProcessorList([apply])

    def _prepare(self, request: GenerationRequest) -> Prompt:
        if request.adapter not in (None, self.name):
            raise UnknownAdapter(request.adapter, [self.name])
        return tokenize_prompt(self.tokenizer, request, self._template_kwargs, self.max_new_tokens,
                               self._context)

    def _run_batch(self, jobs: Sequence[Job]) -> list[GenerationResult]:
        (job,) = jobs  # max_batch_size is 1
        request, prompt = job.request, job.data
        assert isinstance(prompt, Prompt)
        if request.seed is not None:
            self._llm.set_seed(request.seed)
        decoder = IncrementalDecoder(self.tokenizer, request.stop)
        tokens: list[int] = []
        reason: FinishReason | None = job.should_stop()
        sampling = (
            {"temp": 0.0, "top_k": 1}
            if request.greedy
            else {"temp": request.temperature, "top_p": request.top_p, "top_k": 0}
        )
        if request.constraint is not None:
            sampling["logits_processor"] = self._constraint(request.constraint, tokens)
        if reason is None:
            for token in self._llm.generate(prompt.ids, min_p=0.0, repeat_penalty=1.0,
                                            reset=True, **sampling):
                reason = job.should_stop()
                if reason is None and token in self._eos_ids and not request.ignore_eos:
                    reason = "stop"
                if reason is not None:
                    break
                tokens.append(token)
                delta = decoder.push(token)
                job.emit(delta)
                if decoder.stopped:
                    reason = "stop"
                elif (request.check is not None and delta.rstrip(" ").endswith((".", "!", "?", "\n"))
                      and request.check(decoder.text)):
                    reason = "rejected"  # fail fast: the draft already states something false
                elif len(tokens) >= prompt.limit:
                    reason = "length"
                if reason is not None:
                    break
        job.emit(decoder.finish())
        return [
            GenerationResult(
                text=decoder.text,
                prompt_tokens=len(prompt.ids),
                completion_tokens=len(tokens),
                finish_reason=reason or "length",
                model=self.name,
                token_ids=tuple(tokens),
            )
        ]

"""An ``Engine`` backed by llama.cpp (llama-cpp-python) for CPU deployments: a GGUF file made by
``smallretail export --gguf`` (LoRA merged in), served behind the same API.

Why: on CPU, decoding reads every weight once per token; llama.cpp's Q8_0/Q4_0 kernels read
int8/int4 weights at close to the memory bandwidth with no Python per layer, which is 1.5-2x
the transformers int8 path and 7-10x its fp32 path on the same machine (eval/reports/bench.md).

- Prompts are rendered and tokenized with the model folder's own Hugging Face tokenizer and chat
  template (the GGUF sits in the merged model's folder), so they are token-for-token the prompts
  the transformers engine and training use; text deltas come from the same
  ``IncrementalDecoder`` (stop strings, no split Korean characters).
- Several requests at once: continuous batching over one llama.cpp context with one sequence
  per row (``llama_steps.py``: rows join and leave at every step, one ``llama_decode`` per step
  with the GIL released); the ``Batcher`` gives the bounded queue, timeouts and cancellation.
- Shared prefixes: a sequence keeps its last request's KV, and a new prompt starts from the
  longest prefix any sequence of the same tenant holds (the system prompt, the product block).
- Row ends and token choice are the transformers engine's (``llama_steps.py``): the model's
  repetition penalty and top-k from the ``generation_config.json`` beside the tokenizer, the
  record constraint, then greedy or sampling.
- Adapters are merged into the GGUF: the engine serves one model under one name; ``adapter``
  in a request must be that name or empty.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from smallretail_llm.serving.engines.batcher import Batcher, Intake
from smallretail_llm.serving.engines.batching import BatchingConfig, Job
from smallretail_llm.serving.engines.local_engine import BatchedEngine, PromptRules

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
        folder). ``name``: what requests may name as ``adapter`` (default: the folder name).
        ``n_ctx``: context per row (capped at the model's); the batch size sets the rows."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise RuntimeError(
                "llama-cpp-python 이 설치되어 있지 않습니다: pip install 'smallretail-llm[llama]'")
        from transformers import AutoTokenizer

        from smallretail_llm.serving.engines.llama_steps import (
            LlamaContext,
            LlamaStepLoop,
            generation_defaults,
        )

        gguf = Path(gguf)
        if not gguf.is_file():
            raise FileNotFoundError(f"GGUF 파일이 없습니다: {gguf}")
        tokenizer_dir = Path(tokenizer) if tokenizer else gguf.parent
        self.name = name or tokenizer_dir.name
        self.max_new_tokens = max_new_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
        threads = num_threads or os.cpu_count() or 1
        self._batcher = Batcher(self._run_batch, model_name=self.name, config=batching,
                                clock=clock, joins=True)
        rows = self._batcher.config.max_batch_size
        self._llama = LlamaContext(str(gguf), rows=rows, row_context=n_ctx, threads=threads)
        self.rules = PromptRules(
            self.tokenizer, dict(chat_template_kwargs or {"enable_thinking": False}),
            max_new_tokens, self._llama.row_context, (self.name,))
        self._eos_ids = frozenset(
            i for i in (self._llama.eos, self.tokenizer.eos_token_id) if i is not None and i >= 0
        )
        self._steps = LlamaStepLoop(self._llama, name=self.name, tokenizer=self.tokenizer,
                                    eos_ids=self._eos_ids, max_rows=rows,
                                    token_table=lambda: self.token_table,
                                    defaults=generation_defaults(tokenizer_dir))
        self._ready = True
        logger.info("loaded %s (%s) with llama.cpp, %d rows, %d threads", self.name, gguf.name,
                    rows, threads)

    # -- Engine protocol --------------------------------------------------------------------

    def model_names(self) -> list[str]:
        return [self.name]

    @functools.cached_property
    def token_table(self):
        """How this tokenizer spells digits and slots (built once, on first constrained use)."""
        from smallretail_llm.serving.decoding.value_constraint import TokenTable

        return TokenTable.for_tokenizer(self.tokenizer, self._eos_ids)

    def clear_prefix_cache(self) -> None:
        """Forget the kept prompt KV (call while no batch runs; the bench times cold prompts)."""
        self._steps.clear()

    async def aclose(self) -> None:
        await super().aclose()
        self._llama.close()

    # -- internals ------------------------------------------------------------------------------

    def _run_batch(self, jobs: Sequence[Job], intake: Intake) -> None:
        self._steps.run(jobs, intake)

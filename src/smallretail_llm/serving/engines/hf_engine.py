"""The transformers implementation of ``Engine``: a causal LM (hub id or local dir) plus any
number of LoRA adapters, served through the dynamic ``Batcher``.

- Prompts use the model's own chat template (``add_generation_prompt=True``); EOS ids come from
  the model's generation config and the tokenizer, pad falls back to EOS. Both are passed
  explicitly to ``generate``.
- Requests run through the ``Batcher`` with continuous batching (``step_loop.py``): rows join
  and leave the running batch at every decode step, over a pre-allocated KV cache
  (``kv_slots.py``). Rows may use different adapters (``mixed_lora.py``: two matmuls per layer
  for all of them; base rows are ``"__base__"``) when every adapter is plain LoRA on Linear
  layers; otherwise the batch key also groups requests by adapter.
- Each row's end is decided one token at a time: EOS, a stop string, its own
  ``max_new_tokens``, a failed draft check, cancellation or timeout; streaming feeds an
  ``IncrementalDecoder`` per row.
- fp32 on CPU (bf16 is several times slower on the target CPUs), bf16 on CUDA (fp16 without bf16
  support); ``quantize="int8"`` puts int8 weights on CPU (``quantize.py``).
- Prompt KV is reused across requests (``prefix_cache.py``): a row whose prompt starts with a
  stored prompt prefills only the rest; every prompt's KV is stored after its prefill.
  ``prefix_cache_mb=0`` turns it off.
- Settings not exposed by ``GenerationRequest`` (top_k, repetition_penalty) come from the
  model's own ``generation_config.json``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from smallretail_llm.serving.engines.batcher import Batcher, Intake
from smallretail_llm.serving.engines.batching import BatchingConfig, Job, sampling_key
from smallretail_llm.serving.engines.engine import BASE_ADAPTER, GenerationRequest
from smallretail_llm.serving.engines.local_engine import (
    BatchedEngine,
    IncrementalDecoder,
    Prompt,
    PromptRules,
    tokenize_prompt,
)
from smallretail_llm.serving.engines.mixed_lora import MixedLora, mixable
from smallretail_llm.serving.engines.prefix_cache import PrefixCache, supports
from smallretail_llm.serving.engines.step_loop import StepLoop

if TYPE_CHECKING:
    from transformers import PreTrainedModel

__all__ = ["BatchedEngine", "IncrementalDecoder", "Prompt", "TransformersEngine", "tokenize_prompt"]

logger = logging.getLogger(__name__)


class TransformersEngine(BatchedEngine):
    """An ``Engine`` backed by transformers + peft. Loading happens in the constructor."""

    def __init__(
        self,
        model: str | Path,
        *,
        adapters: Mapping[str, str | Path] | None = None,
        name: str | None = None,
        device: str = "auto",
        dtype: torch.dtype | None = None,
        num_threads: int | None = None,
        max_new_tokens: int = 1024,
        batching: BatchingConfig | None = None,
        chat_template_kwargs: Mapping[str, object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        quantize: str | None = None,
        prefix_cache_mb: float = 256,
        tokenizer: str | Path | None = None,
    ) -> None:
        """``model``: hub id or local dir (a dir that exists is loaded with local_files_only).
        ``adapters``: adapter name -> adapter dir. ``max_new_tokens``: engine-wide cap on every
        request. ``chat_template_kwargs`` go to the template (default: ``enable_thinking=False``,
        which turns off Qwen3's thinking mode and is ignored by other templates).
        ``quantize``: ``"int8"`` for int8 weights (CPU only). ``prefix_cache_mb``: memory for
        reused prompt KV (0: off; models with sliding-window layers never use it).
        ``tokenizer``: load the tokenizer from this dir instead of ``model``."""
        local = Path(model).exists()
        self.name = name or (Path(model).name if local else str(model))
        self.device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        )
        self.dtype = dtype or _default_dtype(self.device)
        self.max_new_tokens = max_new_tokens
        self._adapters = list(adapters or {})
        for adapter in self._adapters:
            if not adapter or adapter in (BASE_ADAPTER, self.name):
                raise ValueError(f"어댑터 이름으로 쓸 수 없습니다: '{adapter}'")
        self._num_threads = num_threads
        if num_threads:
            torch.set_num_threads(num_threads)

        source = tokenizer if tokenizer is not None else model
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=Path(source).exists())
        self._batcher = Batcher(
            self._run_batch,
            model_name=self.name,
            config=batching,
            batch_key=self._batch_key,
            clock=clock,
            joins=True,
        )
        # Loaded in the worker thread that will run it (see Batcher.run_in_worker).
        base = self._batcher.run_in_worker(self._load, model, adapters, quantize, local)
        self._eos_ids = _eos_ids(base, self.tokenizer)
        pad = self.tokenizer.pad_token_id
        self._pad_id = pad if pad is not None else min(self._eos_ids)
        text_config = base.config.get_text_config()
        self.rules = PromptRules(
            self.tokenizer, dict(chat_template_kwargs or {"enable_thinking": False}), max_new_tokens,
            getattr(text_config, "max_position_embeddings", None), tuple(self._adapters))
        self.quantize = quantize
        self.prefix_cache: PrefixCache | None = None
        if prefix_cache_mb > 0 and supports(text_config):
            self.prefix_cache = PrefixCache(max_bytes=int(prefix_cache_mb * 2**20))
        self._steps = StepLoop(
            self._model, name=self.name, tokenizer=self.tokenizer, eos_ids=self._eos_ids,
            max_rows=self._batcher.config.max_batch_size, prefix_cache=self.prefix_cache,
            token_table=lambda: self.token_table,
            mixed=MixedLora(self._model, BASE_ADAPTER) if self._mixed_ok else None,
            dtype=self.dtype, device=self.device, pad_id=self._pad_id)
        self._ready = True
        logger.info(
            "loaded %s on %s (%s), adapters: %s", self.name, self.device, self.dtype, self._adapters
        )

    def _load(self, model: str | Path, adapters: Mapping[str, str | Path] | None,
              quantize: str | None, local: bool) -> PreTrainedModel:
        """Load the base, wrap the adapters, quantize; sets ``_model``, returns the base."""
        if self._num_threads:
            torch.set_num_threads(self._num_threads)
        base = AutoModelForCausalLM.from_pretrained(model, dtype=self.dtype, local_files_only=local)
        self._model, self._mixed_ok = _with_adapters(base, adapters) if adapters else (base, False)
        self._model.to(self.device).eval()
        if quantize:
            from smallretail_llm.models.quantize import quantize_model

            quantize_model(self._model, quantize)
        return base

    # -- Engine protocol (the rest is BatchedEngine's) -------------------------------------------

    def model_names(self) -> list[str]:
        return [self.name, *self._adapters]

    @functools.cached_property
    def token_table(self):
        """How this tokenizer spells digits and slots (built once, on first constrained use)."""
        from smallretail_llm.serving.decoding.value_constraint import TokenTable

        return TokenTable.for_tokenizer(self.tokenizer, self._eos_ids)

    def clear_prefix_cache(self) -> None:
        """Forget all stored prompt KV (call while no batch runs, e.g. between bench runs)."""
        if self.prefix_cache is not None:
            self.prefix_cache.clear()

    # -- running (worker thread) ---------------------------------------------------------------

    def _batch_key(self, request: GenerationRequest) -> Hashable:
        if self._adapters and not self._mixed_ok:
            return (sampling_key(request), request.adapter)
        return sampling_key(request)

    def _run_batch(self, jobs: Sequence[Job], intake: Intake) -> None:
        if self._num_threads and torch.get_num_threads() != self._num_threads:
            torch.set_num_threads(self._num_threads)  # OpenMP keeps a count per thread
        self._steps.run(jobs, intake)


def _default_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _eos_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> frozenset[int]:
    """Every id that ends a turn: the model's generation config may list several (Qwen: both
    <|im_end|> and <|endoftext|>); the tokenizer's EOS is the chat template's end marker."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = set(configured if isinstance(configured, list) else [configured])
    ids.add(tokenizer.eos_token_id)
    ids.discard(None)
    if not ids:
        raise ValueError("모델과 토크나이저 어디에도 EOS 토큰이 없습니다.")
    return frozenset(ids)


def _with_adapters(
    base: torch.nn.Module, adapters: Mapping[str, str | Path]
) -> tuple[torch.nn.Module, bool]:
    """The base wrapped with every adapter, and whether rows may mix adapters in one batch
    (``mixed_lora`` batches plain LoRA on Linear layers only, not DoRA or other methods)."""
    from peft import LoraConfig, PeftModel  # heavy; only needed when adapters are served

    items = list(adapters.items())
    first_name, first_path = items[0]
    model = PeftModel.from_pretrained(base, str(first_path), adapter_name=first_name)
    for adapter, path in items[1:]:
        model.load_adapter(str(path), adapter_name=adapter)
    lora = all(isinstance(cfg, LoraConfig) for cfg in model.peft_config.values())
    return model, lora and mixable(model)  # (mixable refuses DoRA and other LoRA variants)

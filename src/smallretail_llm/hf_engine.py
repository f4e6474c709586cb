"""The transformers implementation of ``Engine``: a causal LM (hub id or local dir) plus any
number of LoRA adapters, served through the dynamic ``Batcher``.

- Prompts use the model's own chat template (``add_generation_prompt=True``); EOS ids come from
  the model's generation config and the tokenizer, pad falls back to EOS. Both are passed
  explicitly to ``generate``.
- A batch is left-padded and run by one ``model.generate`` call with an attention mask. Rows may
  use different adapters (``mixed_lora.py``: two matmuls per layer for all of them; base rows
  are ``"__base__"``) when every adapter is plain LoRA on Linear layers; otherwise the batch key
  also groups requests by adapter.
- Each row's end is decided here, one token at a time, by a stopping criterion (``_Rows``): EOS,
  a stop string, its own ``max_new_tokens``, cancellation or timeout. ``generate`` itself gets no
  EOS (``eos_token_id=[]``) so that ``ignore_eos`` rows can share a batch with ordinary rows.
- Streaming works for batched rows too: the same per-token hook feeds an ``IncrementalDecoder``.
- fp32 on CPU (bf16 is several times slower on the target CPUs), bf16 on CUDA (fp16 without bf16
  support); ``quantize="int8"`` puts int8 weights on CPU (``quantize.py``).
- Prompt KV is reused across requests (``prefix_cache.py``): a batch whose rows start with a
  stored prompt prefills only the rest (``[cached][pad][rest]`` layout); after each batch every
  row's prompt KV is stored. ``prefix_cache_mb=0`` turns it off.
- Settings not exposed by ``GenerationRequest`` (top_k, repetition_penalty) come from the
  model's own ``generation_config.json``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessorList,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from smallretail_llm.batcher import Batcher, BatchingConfig, Job, sampling_key
from smallretail_llm.engine import (
    BASE_ADAPTER,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    UnknownAdapter,
)
from smallretail_llm.local_engine import BatchedEngine, IncrementalDecoder, Prompt, tokenize_prompt
from smallretail_llm.mixed_lora import mixable, mixed_adapters
from smallretail_llm.prefix_cache import PrefixCache, pad_rows, supports

__all__ = ["BatchedEngine", "IncrementalDecoder", "Prompt", "TransformersEngine", "tokenize_prompt"]

logger = logging.getLogger(__name__)


class _Rows(StoppingCriteria):
    """Per-token bookkeeping for every row of a batch: records tokens, streams text, and says
    which rows are finished (the rest keep generating)."""

    def __init__(
        self, jobs: Sequence[Job], tokenizer: PreTrainedTokenizerBase, eos_ids: frozenset[int]
    ) -> None:
        self.jobs = jobs
        self.eos_ids = eos_ids
        self.tokens: list[list[int]] = [[] for _ in jobs]
        self.reasons: list[FinishReason | None] = [None] * len(jobs)
        self.decoders = [IncrementalDecoder(tokenizer, job.request.stop) for job in jobs]

    def __call__(self, input_ids: torch.LongTensor, scores: object, **kwargs) -> torch.BoolTensor:
        for row, token in enumerate(input_ids[:, -1].tolist()):
            if self.reasons[row] is None:
                self._step(row, token)
        return torch.tensor([r is not None for r in self.reasons], device=input_ids.device)

    def _step(self, row: int, token: int) -> None:
        job = self.jobs[row]
        reason = job.should_stop()
        if reason is None and token in self.eos_ids and not job.request.ignore_eos:
            reason = "stop"
        if reason is None:
            self.tokens[row].append(token)
            delta = self.decoders[row].push(token)
            job.emit(delta)
            if self.decoders[row].stopped:
                reason = "stop"
            elif job.request.check is not None and delta.rstrip(" ").endswith((".", "!", "?", "\n")):
                if job.request.check(self.decoders[row].text):  # fail fast: already a failed draft
                    reason = "rejected"
            elif len(self.tokens[row]) >= job.data.limit:  # type: ignore[attr-defined]
                reason = "length"
        if reason is not None:
            self.finish(row, reason)

    def finish(self, row: int, reason: FinishReason) -> None:
        self.reasons[row] = reason
        self.jobs[row].emit(self.decoders[row].finish())


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
        self._template_kwargs = dict(chat_template_kwargs or {"enable_thinking": False})
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
        )
        # Loaded in the worker thread that will run it (see Batcher.run_in_worker).
        base = self._batcher.run_in_worker(self._load, model, adapters, quantize, local)
        self._eos_ids = _eos_ids(base, self.tokenizer)
        pad = self.tokenizer.pad_token_id
        self._pad_id = pad if pad is not None else min(self._eos_ids)
        text_config = base.config.get_text_config()
        self._context = getattr(text_config, "max_position_embeddings", None)
        self.quantize = quantize
        self.prefix_cache: PrefixCache | None = None
        if prefix_cache_mb > 0 and supports(text_config):
            self.prefix_cache = PrefixCache(max_bytes=int(prefix_cache_mb * 2**20))
        self._ready = True
        logger.info(
            "loaded %s on %s (%s), adapters: %s", self.name, self.device, self.dtype, self._adapters
        )

    def _load(self, model: str | Path, adapters: Mapping[str, str | Path] | None,
              quantize: str | None, local: bool) -> torch.nn.Module:
        """Load the base, wrap the adapters, quantize; sets ``_model``, returns the base."""
        if self._num_threads:
            torch.set_num_threads(self._num_threads)
        base = AutoModelForCausalLM.from_pretrained(model, dtype=self.dtype, local_files_only=local)
        self._model, self._mixed_ok = _with_adapters(base, adapters) if adapters else (base, False)
        self._model.to(self.device).eval()
        if quantize:
            from smallretail_llm.quantize import quantize_model

            quantize_model(self._model, quantize)
        return base

    # -- Engine protocol (the rest is BatchedEngine's) -------------------------------------------

    def model_names(self) -> list[str]:
        return [self.name, *self._adapters]

    @functools.cached_property
    def token_table(self):
        """How this tokenizer spells digits and slots (built once, on first constrained use)."""
        from smallretail_llm.value_constraint import TokenTable

        return TokenTable.for_tokenizer(self.tokenizer, self._eos_ids)

    def clear_prefix_cache(self) -> None:
        """Forget all stored prompt KV (call while no batch runs, e.g. between bench runs)."""
        if self.prefix_cache is not None:
            self.prefix_cache.clear()

    # -- preparing (event loop thread) --------------------------------------------------------

    def _prepare(self, request: GenerationRequest) -> Prompt:
        if request.adapter is not None and request.adapter not in self._adapters:
            raise UnknownAdapter(request.adapter, self._adapters)
        return tokenize_prompt(self.tokenizer, request, self._template_kwargs, self.max_new_tokens,
                               self._context)

    def _batch_key(self, request: GenerationRequest) -> Hashable:
        if self._adapters and not self._mixed_ok:
            return (sampling_key(request), request.adapter)
        return sampling_key(request)

    # -- running (worker thread) ---------------------------------------------------------------

    def _run_batch(self, jobs: Sequence[Job]) -> list[GenerationResult]:
        if self._num_threads and torch.get_num_threads() != self._num_threads:
            torch.set_num_threads(self._num_threads)  # OpenMP keeps a count per thread
        prompts: list[Prompt] = [job.data for job in jobs]  # type: ignore[misc]
        # cache entries per (adapter, shop): no cross-tenant prefix reuse (a timing oracle)
        keys = [((job.request.adapter or BASE_ADAPTER, job.request.tenant), p.ids)
                for job, p in zip(jobs, prompts)]
        cached, past = 0, None
        if self.prefix_cache is not None:
            cached, past = self.prefix_cache.batch_prefix(keys)
        ids, mask = pad_rows([p.ids for p in prompts], self._pad_id, cached)
        input_ids = torch.tensor(ids, device=self.device)
        attention_mask = torch.tensor(mask, device=self.device)
        first = jobs[0].request  # the batch key makes sampling settings equal across rows
        config = GenerationConfig(
            max_new_tokens=max(p.limit for p in prompts),
            do_sample=not first.greedy,
            # greedy: neutral values, so the model's own sampling defaults do not leak in
            temperature=1.0 if first.greedy else first.temperature,
            top_p=1.0 if first.greedy else first.top_p,
            eos_token_id=[],
            pad_token_id=self._pad_id,
            return_dict_in_generate=self.prefix_cache is not None,  # to store the prompt KV
        )
        rows = _Rows(jobs, self.tokenizer, self._eos_ids)
        context, kwargs = self._adapter_context(jobs)
        if any(job.request.constraint is not None for job in jobs):
            from smallretail_llm.constrained_logits import RowConstraints

            kwargs["logits_processor"] = LogitsProcessorList([RowConstraints(
                [job.request.constraint for job in jobs], self.token_table,
                lambda row: rows.tokens[row] if rows.reasons[row] is None else None,
                greedy=first.greedy)])
        with torch.inference_mode(), context:
            if first.seed is not None and not first.greedy:
                torch.manual_seed(first.seed)  # seeded requests run alone (sampling_key)
            out = self._model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                generation_config=config,
                stopping_criteria=StoppingCriteriaList([rows]),
                cache=past,
                **kwargs,
            )
        if self.prefix_cache is not None and out.cache is not None:
            self.prefix_cache.add_from_batch(
                out.cache, attention_mask, input_ids.shape[1], keys
            )
        results = []
        for row, (job, prompt) in enumerate(zip(jobs, prompts, strict=True)):
            if rows.reasons[row] is None:  # generate ended first (cannot happen, but be safe)
                rows.finish(row, "length")
            results.append(
                GenerationResult(
                    text=rows.decoders[row].text,
                    prompt_tokens=len(prompt.ids),
                    completion_tokens=len(rows.tokens[row]),
                    finish_reason=rows.reasons[row] or "length",
                    model=job.request.adapter or self.name,
                    token_ids=tuple(rows.tokens[row]),
                )
            )
        return results

    def _adapter_context(self, jobs: Sequence[Job]) -> tuple[AbstractContextManager, dict]:
        if not self._adapters:
            return nullcontext(), {}
        names = [job.request.adapter or BASE_ADAPTER for job in jobs]
        if self._mixed_ok and names != [BASE_ADAPTER] * len(names):  # one adapter or several
            return mixed_adapters(self._model, names, BASE_ADAPTER), {}
        # not mixable: the batch key grouped the batch by adapter
        if names[0] == BASE_ADAPTER:
            return self._model.disable_adapter(), {}
        self._model.set_adapter(names[0])
        return nullcontext(), {}


def _default_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _eos_ids(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase) -> frozenset[int]:
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

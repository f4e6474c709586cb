"""The transformers engine's decode loop: continuous batching over a ``SlotCache``.

A run starts with the batch the ``Batcher`` gathered and then, between decode steps, takes in
requests that arrived meanwhile (``Intake.take``) and answers every row the moment it ends
(``Intake.answer``): iteration-level scheduling, as vLLM and llama.cpp's server do it.

- Joining rows are prefilled together (each one's cached prompt prefix copied in first, the
  rests right-padded into one forward, up to ``PREFILL_TOKENS`` padded tokens per forward; the
  LM head sees only each row's last real position), then decode with the others: one forward
  per step for every row, each at its own position (``kv_slots.py``).
- Each row's end is decided as in every local engine (``decode_rows.Row``). Token choice
  follows transformers' ``generate``: the model's repetition penalty, then the per-row record
  constraint (``row_masks.RowMasks``), then for sampling temperature, the model's top-k and the
  request's top-p. Settings not in ``GenerationRequest`` come from the model's own
  ``generation_config.json``.
- Adapters per row: ``MixedLora`` when every adapter is plain LoRA (rows of any adapters share
  a step); otherwise the batch key keeps one adapter per run and peft's own forward runs.

Why not transformers' own continuous batching (``generate_batch``): it takes no per-row logits
processors, stopping checks or adapters, which every request here has.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, cast

import torch
from transformers import (
    LogitsProcessorList,
    PreTrainedTokenizerBase,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from smallretail_llm.serving.decoding.constrained_logits import mask_scores
from smallretail_llm.serving.decoding.row_masks import RowMasks
from smallretail_llm.serving.engines.batcher import Intake
from smallretail_llm.serving.engines.batching import Job
from smallretail_llm.serving.engines.decode_rows import Row, job_prompt, row_masks
from smallretail_llm.serving.engines.engine import GenerationRequest
from smallretail_llm.serving.engines.kv_slots import SlotCache
from smallretail_llm.serving.engines.mixed_lora import MixedLora
from smallretail_llm.serving.engines.prefix_cache import PrefixCache

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel

PREFILL_TOKENS = 2048  # padded prompt tokens per joining forward (rows x longest rest)


class Chooser:
    """Picks each row's next token from its logits (see the module docstring for the order)."""

    def __init__(self, request: GenerationRequest, defaults: object, table: Callable) -> None:
        self.greedy = request.greedy
        penalty = getattr(defaults, "repetition_penalty", None)
        self._penalty = (RepetitionPenaltyLogitsProcessor(penalty)
                         if penalty not in (None, 1.0) else None)
        self._warpers = LogitsProcessorList()
        if not self.greedy:
            top_k = getattr(defaults, "top_k", None)
            if request.temperature != 1.0:
                self._warpers.append(TemperatureLogitsWarper(request.temperature))
            if top_k:
                self._warpers.append(TopKLogitsWarper(top_k))
            if request.top_p < 1.0:
                self._warpers.append(TopPLogitsWarper(request.top_p))
        self._table = table
        self._masks: RowMasks | None = None  # built when the rows change
        self._rows: Sequence[Row] = ()

    def rows_changed(self, rows: Sequence[Row]) -> None:
        self._rows = rows
        self._masks = row_masks(rows, self._table, self.greedy)

    def __call__(self, logits: torch.Tensor) -> list[int]:
        """``logits``: float32 [rows, vocabulary], one row per ``rows_changed`` row."""
        if self._penalty is not None:
            for i, row in enumerate(self._rows):  # each row's own prompt and tokens
                ids = torch.tensor([[*row.prompt.ids, *row.tokens]], device=logits.device)
                logits[i : i + 1] = self._penalty(ids, logits[i : i + 1])
        if self._masks is not None:
            logits = mask_scores(self._masks, logits)
        if self.greedy:
            return logits.argmax(dim=-1).tolist()
        # the warpers (temperature, top-k, top-p) never read input_ids, typed LongTensor for all
        logits = self._warpers(None, logits)  # type: ignore[arg-type]
        probs = torch.softmax(logits, dim=-1)
        return torch.multinomial(probs, num_samples=1)[:, 0].tolist()


class StepLoop:
    """Runs batches for one loaded model (``run``, in the Batcher's worker thread)."""

    def __init__(self, model: torch.nn.Module, *, name: str, tokenizer: PreTrainedTokenizerBase,
                 eos_ids: frozenset[int], max_rows: int, prefix_cache: PrefixCache | None,
                 token_table: Callable, mixed: MixedLora | None, dtype: torch.dtype,
                 device: torch.device, pad_id: int) -> None:
        self._model = model
        self._name = name
        self._tokenizer = tokenizer
        self._eos_ids = eos_ids
        self._max_rows = max_rows
        self.prefix_cache = prefix_cache
        self._token_table = token_table
        self._mixed = mixed
        self._device = device
        self._pad_id = pad_id
        hf_model = cast("PreTrainedModel", model)  # the base, or a PeftModel that forwards to it
        self._head = hf_model.get_output_embeddings()
        self._config = hf_model.config.get_text_config()
        self._defaults = getattr(model, "generation_config", None)
        # (refuses unsupported attention now; allocates on first use)
        self._cache = SlotCache(self._config, max_rows, dtype=dtype, device=device)

    def run(self, jobs: Sequence[Job], intake: Intake) -> None:
        first = jobs[0].request  # the batch key makes sampling settings equal across rows
        choose = Chooser(first, self._defaults, self._token_table)
        cache = self._cache
        cache.clear()
        rows: list[Row] = []
        joining = list(jobs)
        with torch.inference_mode(), self._adapter_context(first):
            if first.seed is not None and not first.greedy:
                torch.manual_seed(first.seed)  # seeded requests run alone (sampling_key)
            while True:
                room = self._max_rows - len(rows) - len(joining)
                if room > 0 and intake.waiting():
                    joining += intake.take(room)
                if joining:
                    for chunk in _chunks(joining):
                        self._join(chunk, rows, cache, choose)
                    joining = []
                    self._leave(rows, cache, intake, choose, joined=True)
                if not rows:
                    if intake.waiting() and (joining := intake.take(self._max_rows)):
                        continue
                    return
                self._step(rows, cache, choose)
                intake.stepped(len(rows))
                self._leave(rows, cache, intake, choose)

    def _join(self, jobs: Sequence[Job], rows: list[Row], cache: SlotCache,
              choose: Chooser) -> None:
        """Prefill requests into new rows (one forward) and choose their first tokens."""
        first = len(rows)
        new, rests, keys = [], [], []
        for job in jobs:
            row = Row.start(job, self._tokenizer, self._eos_ids)
            index = cache.add_row(len(row.prompt.ids) + row.prompt.limit)
            rows.append(row)
            new.append(row)
            # cache entries per (adapter, shop): no cross-tenant prefix reuse (a timing oracle)
            key: Hashable = (row.adapter, job.request.tenant)
            cached = 0
            if self.prefix_cache is not None:
                cached, layers = self.prefix_cache.lookup(key, row.prompt.ids)
                if cached:
                    cache.write_prefix(index, layers, cached)
            rests.append(row.prompt.ids[cached:])
            keys.append(key)
        if self._mixed is not None:
            self._mixed.select([row.adapter for row in new])
        positions, mask = cache.prefill(first, [len(rest) for rest in rests])
        width = positions.shape[1]
        ids = torch.tensor([rest + [self._pad_id] * (width - len(rest)) for rest in rests],
                           device=self._device)
        last = torch.tensor([len(rest) - 1 for rest in rests], device=self._device)
        logits = self._forward(ids, positions, mask, cache, last)
        if self.prefix_cache is not None:
            for i, (row, key) in enumerate(zip(new, keys, strict=True)):
                if (key, row.prompt.ids) not in self.prefix_cache:
                    self.prefix_cache.add(key, row.prompt.ids, cache.row_kv(first + i))
        choose.rows_changed(new)
        for row, token in zip(new, choose(logits), strict=True):
            row.push(token)

    def _step(self, rows: list[Row], cache: SlotCache, choose: Chooser) -> None:
        """One decode step: every row's last token in, every row's next token out."""
        ids = torch.tensor([[row.tokens[-1]] for row in rows], device=self._device)
        positions, mask = cache.decode()
        tokens = choose(self._forward(ids, positions, mask, cache, None))
        for row, token in zip(rows, tokens, strict=True):
            row.push(token)

    def _forward(self, ids: torch.Tensor, positions: torch.Tensor, mask: object,
                 cache: SlotCache, last: torch.Tensor | None) -> torch.Tensor:
        """Each row's next-token logits as float32 (a copy the chooser may write): at the last
        position, or at ``last[i]`` for row ``i`` (a right-padded prefill), where only those
        positions reach the LM head (a hook picks them out of its input)."""
        hook = None
        if last is not None:
            rows = torch.arange(len(last), device=last.device)
            hook = self._head.register_forward_pre_hook(
                lambda _, args: (args[0][rows, last][:, None], *args[1:]))
        try:
            out = self._model(input_ids=ids, position_ids=positions, attention_mask=mask,
                              cache=cache, use_cache=True, logits_to_keep=0 if hook else 1)
        finally:
            if hook is not None:
                hook.remove()
        return out.logits[:, -1].to(dtype=torch.float32, copy=True)

    def _leave(self, rows: list[Row], cache: SlotCache, intake: Intake,
               choose: Chooser, joined: bool = False) -> None:
        """Answer the rows that ended and free their slots (the last row moves in)."""
        ended = [i for i, row in enumerate(rows) if row.reason is not None]
        for i in reversed(ended):  # highest first: the row that moves in has not ended
            intake.answer(rows[i].job, rows[i].result(self._name))
            cache.remove_row(i)
            rows[i] = rows[-1]
            rows.pop()
        if ended or joined:  # (the rows changed: the chooser and the adapters see them once)
            self._rows_changed(rows, choose)

    def _rows_changed(self, rows: list[Row], choose: Chooser) -> None:
        choose.rows_changed(rows)
        if self._mixed is not None and rows:
            self._mixed.select([row.adapter for row in rows])

    def _adapter_context(self, request: GenerationRequest) -> contextlib.AbstractContextManager:
        """Adapters peft must run itself (not mixable): one per run, set by the batch key."""
        if self._mixed is not None or not hasattr(self._model, "peft_config"):
            return contextlib.nullcontext()
        peft_model = cast("PeftModel", self._model)  # it has a peft_config: _with_adapters' wrap
        if request.adapter is None:
            return peft_model.disable_adapter()
        peft_model.set_adapter(request.adapter)
        return contextlib.nullcontext()


def _chunks(jobs: Sequence[Job]) -> list[list[Job]]:
    """Joining jobs in arrival order, cut so that a chunk's rows x its longest prompt stays
    within ``PREFILL_TOKENS`` (a prompt is counted whole: its cached prefix is not known yet)."""
    chunks: list[list[Job]] = []
    width = 0
    for job in jobs:
        tokens = len(job_prompt(job).ids)
        if chunks and (len(chunks[-1]) + 1) * max(width, tokens) <= PREFILL_TOKENS:
            chunks[-1].append(job)
            width = max(width, tokens)
        else:
            chunks.append([job])
            width = tokens
    return chunks

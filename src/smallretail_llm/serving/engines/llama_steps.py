"""The llama.cpp engine's decode loop: continuous batching over one llama.cpp context that holds
up to ``max_rows`` sequences, one sequence id per row.

- One ``llama_decode`` call per step takes every running row's last token and every joining
  row's prompt (llama.cpp cuts it into micro-batches itself), so a request joins at the next
  step and no decode waits for a separate prefill, as in llama.cpp's own server. The call runs
  in C with the GIL released: the API's Python (grounding, HTTP) runs meanwhile.
- Prompt KV is reused: a sequence keeps its last request's tokens after the row ends, and a
  joining row starts from the longest prefix any sequence of the same tenant holds
  (``llama_memory_seq_cp`` in a unified KV cache shares the cells, it copies nothing). Cached
  prefixes never cross tenants (a timing oracle), as in the transformers engine.
- A row ends as in the transformers loop (``decode_rows.Row``) and its token is chosen the same
  way, on numpy: the model's repetition penalty (its ``generation_config.json``), the record
  constraint (``RowMasks``), then greedy argmax, or temperature, the model's top-k and the
  request's top-p. Greedy, the two local engines write the same tokens from the same logits.
  No torch (the llama.cpp image has none).
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smallretail_llm.serving.decoding.row_masks import RowMasks
from smallretail_llm.serving.engines.batcher import Intake
from smallretail_llm.serving.engines.batching import Job
from smallretail_llm.serving.engines.decode_rows import Row, job_prompt, row_masks
from smallretail_llm.serving.engines.engine import GenerationRequest
from smallretail_llm.serving.engines.local_engine import shared_prefix

BATCH_TOKENS = 2048  # tokens per llama_decode call (running rows + joining prompts), at least
UBATCH_TOKENS = 512  # tokens per micro-batch inside it (llama.cpp's default)


class LlamaCppError(RuntimeError):
    """llama.cpp refused a call (out of KV cells, or an internal error)."""


@dataclass
class _Sequence:
    """What one llama.cpp sequence id holds: the tokens at positions 0.. and whose they are."""

    owner: Hashable = None
    tokens: list[int] = field(default_factory=list)
    busy: bool = False


class LlamaContext:
    """A GGUF model and a context with ``rows`` sequences in one unified KV cache of
    ``rows * row_context`` cells (each row may fill its own context; shared prefixes share
    cells). Frees both on ``close``."""

    def __init__(self, gguf: str, *, rows: int, row_context: int, threads: int) -> None:
        import llama_cpp

        self.lib = llama_cpp
        quiet = logging.getLogger("llama-cpp-python")  # llama.cpp's C log goes through it
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.ERROR)  # (its load report is pages of DEBUG lines)
        llama_cpp.llama_backend_init()
        self.model = llama_cpp.llama_model_load_from_file(gguf.encode(),
                                                          llama_cpp.llama_model_default_params())
        if not self.model:
            raise LlamaCppError(f"GGUF 를 읽을 수 없습니다: {gguf}")
        self.row_context = min(row_context, llama_cpp.llama_model_n_ctx_train(self.model))
        params = llama_cpp.llama_context_default_params()
        params.n_seq_max = rows
        params.n_ctx = rows * self.row_context
        # a step holds every running row's token and at least one whole prompt
        self.batch_tokens = max(BATCH_TOKENS, self.row_context + rows)
        params.n_batch = self.batch_tokens
        params.n_ubatch = UBATCH_TOKENS
        params.n_threads = params.n_threads_batch = threads
        params.kv_unified = True
        params.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)
        if not self.ctx:
            llama_cpp.llama_model_free(self.model)
            raise LlamaCppError(f"llama.cpp 컨텍스트를 만들 수 없습니다 ({rows}개 시퀀스)")
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
        self.eos = llama_cpp.llama_vocab_eos(vocab)
        size = (self.batch_tokens,)
        self._batch = llama_cpp.llama_batch_init(self.batch_tokens, 0, 1)
        self._token = np.ctypeslib.as_array(self._batch.token, shape=size)
        self._pos = np.ctypeslib.as_array(self._batch.pos, shape=size)
        self._logits = np.ctypeslib.as_array(self._batch.logits, shape=size)
        self._n_seq = np.ctypeslib.as_array(self._batch.n_seq_id, shape=size)
        self._n_seq[:] = 1

    def decode(self, parts: Sequence[tuple[int, int, Sequence[int]]]) -> np.ndarray:
        """One ``llama_decode`` of ``parts`` = (sequence, first position, tokens); returns the
        logits after each part's last token, float32 [len(parts), vocabulary]."""
        n = 0
        for seq, start, tokens in parts:
            end = n + len(tokens)
            self._token[n:end] = tokens
            self._pos[n:end] = np.arange(start, start + len(tokens))
            self._logits[n:end] = 0
            self._logits[end - 1] = 1
            for i in range(n, end):
                self._batch.seq_id[i][0] = seq
            n = end
        self._batch.n_tokens = n
        status = self.lib.llama_decode(self.ctx, self._batch)  # (ctypes drops the GIL)
        if status != 0:
            raise LlamaCppError(f"llama_decode 실패 (코드 {status}): KV 캐시가 부족하거나 내부 오류")
        out = ctypes.cast(self.lib.llama_get_logits(self.ctx), ctypes.POINTER(ctypes.c_float))
        return np.ctypeslib.as_array(out, shape=(len(parts), self.n_vocab)).copy()

    def forget(self, seq: int, start: int = 0) -> bool:
        """Drop the sequence's KV from position ``start`` on."""
        return bool(self.lib.llama_memory_seq_rm(self.memory, seq, start, -1))

    def share(self, source: int, target: int, length: int) -> None:
        """Give ``target`` the first ``length`` positions of ``source`` (shared cells)."""
        self.lib.llama_memory_seq_cp(self.memory, source, target, 0, length)

    def clear(self) -> None:
        self.lib.llama_memory_clear(self.memory, True)

    def close(self) -> None:
        if self.ctx:
            self.lib.llama_batch_free(self._batch)
            self.lib.llama_free(self.ctx)
            self.lib.llama_model_free(self.model)
            self.ctx = self.model = None


def generation_defaults(folder: Path) -> dict:
    """The model's own decoding settings (``generation_config.json`` beside its tokenizer),
    as transformers' ``generate`` would read them; {} when there is none."""
    path = folder / "generation_config.json"
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


class Chooser:
    """Each row's next token from its logits (see the module docstring for the order)."""

    def __init__(self, request: GenerationRequest, defaults: dict, table: Callable) -> None:
        self.greedy = request.greedy
        self._temperature, self._top_p = request.temperature, request.top_p
        self._penalty = defaults.get("repetition_penalty") or 1.0
        self._top_k = defaults.get("top_k") or 0
        self._random = np.random.default_rng(request.seed)  # (a seeded request runs alone)
        self._table = table
        self._masks: RowMasks | None = None
        self._rows: Sequence[Row] = ()

    def rows_changed(self, rows: Sequence[Row]) -> None:
        self._rows = rows
        self._masks = row_masks(rows, self._table, self.greedy)

    def __call__(self, logits: np.ndarray) -> list[int]:
        """``logits``: float32 [rows, vocabulary], one row per ``rows_changed`` row."""
        if self._penalty != 1.0:  # as transformers: every prompt and generated token, once
            for i, row in enumerate(self._rows):
                seen = np.unique([*row.prompt.ids, *row.tokens])
                scores = logits[i, seen]
                logits[i, seen] = np.where(scores < 0, scores * self._penalty,
                                           scores / self._penalty)
        if self._masks is not None:
            self._masks.apply(logits)
        if self.greedy:
            return logits.argmax(axis=1).tolist()
        chosen = []
        for row in logits / self._temperature:
            order = np.argsort(-row)
            if self._top_k:
                order = order[: self._top_k]
            probs = np.exp(row[order] - row[order[0]])
            probs /= probs.sum()
            nucleus = int(np.searchsorted(np.cumsum(probs), self._top_p)) + 1  # top-p
            keep = min(nucleus, len(probs))
            probs = probs[:keep] / probs[:keep].sum()
            chosen.append(int(order[self._random.choice(keep, p=probs)]))
        return chosen


class LlamaStepLoop:
    """Runs batches for one ``LlamaContext`` (``run``, in the Batcher's worker thread)."""

    def __init__(self, context: LlamaContext, *, name: str, tokenizer, eos_ids: frozenset[int],
                 max_rows: int, token_table: Callable, defaults: dict) -> None:
        self._context = context
        self._defaults = defaults
        self._name = name
        self._tokenizer = tokenizer
        self._eos_ids = eos_ids
        self._max_rows = max_rows
        self._token_table = token_table
        self._sequences = [_Sequence() for _ in range(max_rows)]

    def clear(self) -> None:
        """Forget every kept prompt (while no batch runs)."""
        self._context.clear()
        self._sequences = [_Sequence() for _ in range(self._max_rows)]

    def run(self, jobs: Sequence[Job], intake: Intake) -> None:
        first = jobs[0].request  # the batch key makes sampling settings equal across rows
        choose = Chooser(first, self._defaults, self._token_table)
        rows: list[Row] = []
        seqs: list[int] = []  # rows[i] decodes in sequence seqs[i]
        joining = list(jobs)
        while True:
            room = self._max_rows - len(rows) - len(joining)
            if room > 0 and intake.waiting():
                joining += intake.take(room)
            parts = [(seq, len(self._sequences[seq].tokens), [row.tokens[-1]])
                     for row, seq in zip(rows, seqs, strict=True)]
            budget = self._context.batch_tokens - len(parts)
            new: list[Row] = []
            while joining and len(job_prompt(joining[0]).ids) <= budget:
                job = joining.pop(0)
                seq, start = self._claim(job)
                rest = job_prompt(job).ids[start:]
                parts.append((seq, start, rest))
                budget -= len(rest)
                new.append(Row.start(job, self._tokenizer, self._eos_ids))
                seqs.append(seq)
            if not parts:
                return
            rows += new
            if new:
                choose.rows_changed(rows)
            try:
                logits = self._context.decode(parts)
            except LlamaCppError:
                self.clear()  # nothing the failed call touched can be trusted; the Batcher
                raise  # fails every request of the run with the error
            for (seq, _, tokens) in parts:
                self._sequences[seq].tokens += tokens
            for row, token in zip(rows, choose(logits), strict=True):
                row.push(token)
            intake.stepped(len(rows))
            ended = [i for i, row in enumerate(rows) if row.reason is not None]
            for i in reversed(ended):
                intake.answer(rows[i].job, rows[i].result(self._name))
                self._release(seqs.pop(i))
                rows.pop(i)
            if ended:
                choose.rows_changed(rows)

    def _claim(self, job: Job) -> tuple[int, int]:
        """A free sequence for the job, holding the longest cached prefix of its prompt that
        any sequence of its tenant has; returns (sequence, positions already there)."""
        ids, owner = job_prompt(job).ids, job.request.tenant
        held = [shared_prefix(s.tokens, ids) if s.owner == owner else 0 for s in self._sequences]
        target = max((s for s, seq in enumerate(self._sequences) if not seq.busy),
                     key=held.__getitem__)
        source = max(range(len(held)), key=lambda s: (held[s], s == target))
        shared = held[source]
        shared = min(shared, len(ids) - 1)  # at least one token to decode: its logits
        context = self._context
        if source != target:
            context.forget(target)
            if shared:
                context.share(source, target, shared)
        elif not context.forget(target, shared):
            context.forget(target)
            shared = 0
        self._sequences[target] = _Sequence(owner, list(ids[:shared]), busy=True)
        return target, shared

    def _release(self, seq: int) -> None:
        """The row in ``seq`` ended: its tokens stay cached for the next prompt."""
        self._sequences[seq].busy = False

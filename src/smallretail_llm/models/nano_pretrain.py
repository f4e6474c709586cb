"""The nano model's from-scratch training loop.

- **Shared prompts are computed once.** Every question about one product repeats the same
  ~450-token prompt (system, shop policy, record) before a ~50-token question and answer. The
  corpus groups documents by their common prompt prefix; a step runs the prefix once, repeats its
  KV cache for each member and runs only the members' own tokens on top. Attention is exactly that
  of separate sequences (a test checks the logits), at about a tenth of the tokens.
- **No packing across documents**: a conversation never attends to another product's record.
  Documents without a shared prefix are batched by similar length and padded.
- **Loss weights**: a conversation's prompt tokens count `prompt_weight` (default 0: the reply
  is what is learned, and the output layer runs on reply positions only), its reply 1.
- **Schedule**: AdamW, warmup-stable-decay, bounded by steps and wall time; the step count is
  re-planned from the measured speed, so a busy machine still anneals and finishes on time.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

MIN_SHARED_CHARS = 200
"""A common prompt prefix shorter than this is not worth a group of its own."""


@dataclass(frozen=True)
class NanoTraining:
    """Pretraining loop settings. A build trains `max_steps` steps (fewer when `epochs` of the
    corpus take fewer), so two builds of one corpus train alike; `time_budget_s` only caps a
    machine too slow for that, which trains fewer steps and says so in the model card.

    A step holds at most `batch_size * seq_len` tokens and `max_rows` documents (of similar
    length, padded, or sharing one prompt prefix); a document longer than `seq_len` is cut
    (plain text) or dropped (a conversation: a cut one would lose its end marker).
    `prompt_weight` is the loss weight of a conversation's non-assistant tokens: the prompt is
    read, the reply is what is learned."""

    seq_len: int = 1024
    batch_size: int = 4
    max_rows: int = 12  # many small steps learn more in a fixed budget than few large ones
    learning_rate: float = 3e-3
    epochs: float = 3.0
    max_steps: int = 5000  # ~400 s on 2 quiet cores
    time_budget_s: float = 600.0
    prompt_weight: float = 0.0
    seed: int = 0


@dataclass
class Unit:
    """Documents that share `prefix` (possibly empty): each member is the rest of one document,
    with how many of its first tokens are still prompt (weighted like the prefix)."""

    prefix: array
    members: list[array] = field(default_factory=list)
    member_prompt: list[int] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return len(self.prefix) + sum(len(m) for m in self.members)


@dataclass
class EncodedCorpus:
    units: list[Unit]
    prompt_weight: float
    dropped: int
    documents: int

    @property
    def tokens(self) -> int:
        """Tokens a full pass computes (shared prefixes once)."""
        return sum(u.tokens for u in self.units)


def _shared_prefix(a: str, b: str) -> str:
    """The longest common prefix of two texts, cut after its last line break (a line break is
    its own token, so both texts tokenize the prefix identically)."""
    n = 0
    limit = min(len(a), len(b))
    while n < limit and a[n] == b[n]:
        n += 1
    cut = a.rfind("\n", 0, n)
    return a[:cut + 1] if cut >= 0 else ""


def encode_documents(documents: Sequence, tokenizer: PreTrainedTokenizerBase, max_len: int,
                     prompt_weight: float) -> EncodedCorpus:
    """Encode documents into units: a plain text is one assistant turn (cut to `max_len`); a
    conversation goes through the chat template, its prompt weighted `prompt_weight`, and is
    dropped when longer than `max_len` (a cut one would lose its end marker). Conversations that
    share a long prompt prefix become one unit."""
    units: list[Unit] = []
    plain = [d for d in documents if isinstance(d, str)]
    rendered = [tokenizer.apply_chat_template([{"role": "assistant", "content": t}], tokenize=False)
                for t in plain]
    for row in tokenizer(rendered, add_special_tokens=False)["input_ids"] if rendered else []:
        units.append(Unit(array("i"), [array("i", row[:max_len])], [0]))
    chats = [d for d in documents if not isinstance(d, str)]
    # tokenize=False renders one conversation to one str (the stub lists every return kind)
    fulls = [cast(str, tokenizer.apply_chat_template(m, tokenize=False)) for m in chats]
    prompts = [cast(str, tokenizer.apply_chat_template(m[:-1], tokenize=False,
                                                       add_generation_prompt=True))
               for m in chats]
    order = sorted(range(len(chats)), key=lambda i: fulls[i])
    groups: list[tuple[str, list[int]]] = []
    for i in order:
        if groups:
            # Up to the line before "<|im_start|>assistant": a member keeps at least that line,
            # so its first reply token is predicted (and learned) inside its own row.
            shared = _shared_prefix(groups[-1][0] or fulls[groups[-1][1][0]], prompts[i][:-1])
            if len(shared) >= MIN_SHARED_CHARS and (not groups[-1][0] or shared == groups[-1][0]):
                groups[-1] = (shared, groups[-1][1] + [i])
                continue
        groups.append(("", [i]))
    prefixes = [g[0] if len(g[1]) > 1 else "" for g in groups]
    prefix_ids = tokenizer(prefixes, add_special_tokens=False)["input_ids"] if groups else []
    whole_ids = tokenizer(fulls, add_special_tokens=False)["input_ids"] if chats else []
    head_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"] if chats else []
    dropped = 0
    for (_, members), pre in zip(groups, prefix_ids, strict=True):
        unit = Unit(array("i", pre))
        for i in members:
            whole, head = whole_ids[i], head_ids[i]
            if len(whole) > max_len or whole[:len(head)] != head or whole[:len(pre)] != pre:
                dropped += 1
                continue
            unit.members.append(array("i", whole[len(pre):]))
            unit.member_prompt.append(len(head) - len(pre))
        if unit.members:
            units.append(unit)
    return EncodedCorpus(units, prompt_weight, dropped, len(documents))


@dataclass
class Step:
    """One optimizer step's data: a shared prefix (maybe empty) and the rows run on top of it."""

    prefix: array
    rows: list[tuple[array, int]]


def _cut(rows: list[tuple[array, int]], fixed: int, token_budget: int,
         max_rows: int) -> list[list]:
    """Consecutive rows in batches of at most `max_rows` whose padded size (plus `fixed` prefix
    tokens) fits."""
    batches: list[list] = []
    batch: list[tuple[array, int]] = []
    for row in rows:
        longest = max([len(row[0])] + [len(r[0]) for r in batch])
        if batch and (fixed + longest * (len(batch) + 1) > token_budget or len(batch) == max_rows):
            batches.append(batch)
            batch = []
        batch.append(row)
    return batches + [batch] if batch else batches


def plan_steps(corpus: EncodedCorpus, token_budget: int, generator, max_rows: int = 12
               ) -> list[Step]:
    """One epoch of steps in random order. A unit with a prefix gives steps of its members
    (at most `max_rows`, as many as fit the budget beside the prefix); prefix-less documents are
    batched by length. Few rows a step means more steps for the same tokens: on a budget of
    minutes a small model learns more from many small steps than from few large ones."""
    import torch

    steps: list[Step] = []
    loose: list[tuple[array, int]] = []
    for unit in corpus.units:
        rows = list(zip(unit.members, unit.member_prompt, strict=True))
        if not len(unit.prefix):
            loose += rows
            continue
        order = torch.randperm(len(rows), generator=generator).tolist()
        steps += [Step(unit.prefix, b) for b in _cut([rows[i] for i in order], len(unit.prefix),
                                                      token_budget, max_rows)]
    order = torch.randperm(len(loose), generator=generator).tolist()
    for start in range(0, len(order), 256):  # similar lengths together, within a shuffled chunk
        part = sorted(order[start:start + 256], key=lambda i: len(loose[i][0]))
        steps += [Step(array("i"), b) for b in _cut([loose[i] for i in part], 0, token_budget,
                                                    max_rows)]
    shuffled = torch.randperm(len(steps), generator=generator).tolist()
    return [steps[i] for i in shuffled]


def step_loss(model: PreTrainedModel, step: Step, prompt_weight: float, pad_id: int):
    """Weighted next-token loss of one step, and the number of tokens it computed. The output
    layer runs only where the loss has weight (with `prompt_weight` 0, the replies): with an
    8k vocabulary and a 128-wide model it is most of the compute."""
    import torch
    import torch.nn.functional as F

    rows = step.rows
    longest = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), longest), pad_id, dtype=torch.long)
    weights = torch.zeros((len(rows), longest))
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    for r, (row, prompt) in enumerate(rows):
        ids[r, :len(row)] = torch.frombuffer(row, dtype=torch.int32)
        mask[r, :len(row)] = 1
        weights[r, :len(row)] = 1.0
        weights[r, :prompt] = prompt_weight
    hidden_states = []
    targets = []
    target_weights = []
    cache, prefix_len = None, len(step.prefix)
    if prefix_len:
        prefix = torch.frombuffer(step.prefix, dtype=torch.int32).long()[None]
        pre = model.model(input_ids=prefix, use_cache=True)
        if prefix_len > 1 and prompt_weight > 0:
            hidden_states.append(pre.last_hidden_state[0, :-1])
            targets.append(prefix[0, 1:])
            target_weights.append(torch.full((prefix_len - 1,), prompt_weight))
        cache = pre.past_key_values  # the prompt KV every row attends to
        cache.batch_repeat_interleave(len(rows))
        mask = torch.cat([torch.ones((len(rows), prefix_len), dtype=torch.long), mask], dim=1)
    out = model.model(input_ids=ids, attention_mask=mask, cache=cache) if cache is not None else \
        model.model(input_ids=ids, attention_mask=mask)
    w = weights[:, 1:]
    kept = w > 0
    hidden_states.append(out.last_hidden_state[:, :-1][kept])
    targets.append(ids[:, 1:][kept])
    target_weights.append(w[kept])
    logits = model.lm_head(torch.cat(hidden_states)).float()
    ce = F.cross_entropy(logits, torch.cat(targets), reduction="none")
    weight = torch.cat(target_weights)
    computed = prefix_len + sum(len(row) for row, _ in rows)
    return (ce * weight).sum() / weight.sum().clamp_min(1e-9), computed


def wsd(step: int, total: int) -> float:
    """Warmup-stable-decay learning-rate multiplier: linear warmup over 5% of the steps, flat,
    then linear decay over the last 25% down to 5%. A fixed budget gets most of its progress
    at the full rate and still anneals at the end, whatever `total` is re-planned to."""
    warmup = max(1, total // 20)
    if step < warmup:
        return (step + 1) / warmup
    decay_from = int(total * 0.75)
    if step < decay_from:
        return 1.0
    return max(0.05, 1.0 - 0.95 * (step - decay_from) / max(1, total - decay_from))


def pretrain(model: PreTrainedModel, corpus: EncodedCorpus, training: NanoTraining,
             spent_s: float, progress: bool) -> dict:
    """Train `model` on `corpus`; returns the figures the model card reports."""
    import torch
    from tqdm.auto import tqdm

    if not corpus.units:
        raise ValueError("nano 모델을 학습할 문서가 없습니다 (모두 너무 길어 빠졌습니다).")
    generator = torch.Generator().manual_seed(training.seed)
    budget_tokens = training.batch_size * training.seq_len
    epoch = plan_steps(corpus, budget_tokens, generator, training.max_rows)
    planned = max(1, min(training.max_steps, int(training.epochs * len(epoch))))
    plan = {"total": planned}
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=training.learning_rate, betas=(0.9, 0.95))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: wsd(s, plan["total"]))
    budget = max(1.0, training.time_budget_s - spent_s)
    pad_id = model.config.pad_token_id or 0
    model.train()
    losses: list[float] = []
    tokens = 0
    started = time.perf_counter()
    step = 0
    queue = list(epoch)
    bar = tqdm(total=plan["total"], desc="nano pretraining", unit="step", disable=not progress)
    threads = torch.get_num_threads()
    timings: dict[int, float] = {}
    tick = started
    try:
        while step < plan["total"]:
            if step in (1, 3) and threads > 1:  # try all threads, then one: busy cores favour one
                torch.set_num_threads(threads if step == 1 else 1)
                tick = time.perf_counter()
            if not queue:
                queue = plan_steps(corpus, budget_tokens, generator, training.max_rows)
            loss, computed = step_loss(model, queue.pop(), training.prompt_weight, pad_id)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            tokens += computed
            step += 1
            if step in (3, 5) and threads > 1:
                timings[torch.get_num_threads()] = time.perf_counter() - tick
                if step == 5:
                    torch.set_num_threads(min(timings, key=timings.__getitem__))
            elapsed = time.perf_counter() - started
            if step % 5 == 0:  # re-plan from the measured speed, both ways
                fits = int(budget / (elapsed / step))
                plan["total"] = max(step, min(planned, fits))
                bar.total = plan["total"]
            if elapsed > 1.1 * budget:  # the machine slowed down after the last re-plan
                break
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        used_threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(threads)
        bar.close()
    elapsed = time.perf_counter() - started
    tail = losses[-max(1, len(losses) // 10):]
    return {
        "steps": step,
        "planned_steps": planned,
        "epochs_done": round(step / max(1, len(epoch)), 2),
        "train_tokens": tokens,
        "tokens_per_second": round(tokens / max(elapsed, 1e-9), 1),
        "first_loss": round(losses[0], 4),
        "final_loss": round(sum(tail) / len(tail), 4),
        "pretrain_seconds": round(elapsed, 2),
        "torch_threads": used_threads,
    }

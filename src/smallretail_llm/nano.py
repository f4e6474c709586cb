"""The offline default base model, "nano": a SentencePiece Korean tokenizer and a small
Llama-architecture model trained from scratch on the shop's own catalog text.

It exists so the whole pipeline (LoRA training, export, serving) runs on a fresh machine with no
network in minutes. It is not a general language model. The built folder loads through
`AutoTokenizer` / `AutoModelForCausalLM` like a hub model and carries its own chat template and
EOS (the chat end marker), which serving uses unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # heavy imports stay inside the functions that need them
    from transformers import LlamaForCausalLM, PreTrainedTokenizerBase

from smallretail_llm.paths import home_dir, make_readable

logger = logging.getLogger(__name__)

NANO_NAME = "nano"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"  # the chat end marker is the EOS: generation stops on it
UNK, BOS, PAD = "<unk>", "<s>", "<pad>"

# ChatML, like Qwen2.5. Newlines are string literals: Jinja trims the newline after a block tag.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Always part of the tokenizer corpus: role names and ASCII must be real pieces, not bytes.
_SEED_TEXT = (
    "system user assistant\n"
    "The quick brown fox jumps over the lazy dog. 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
    "상품명 가격 원산지 용량 소비기한 보관방법 알레르기 배송 교환 반품 문의 고객센터\n"
)


@dataclass(frozen=True)
class NanoShape:
    """Model and tokenizer size. The default builds in a few minutes on 2 CPU cores."""

    vocab_size: int = 8000  # an upper bound: a small corpus gives fewer pieces
    hidden_size: int = 256
    intermediate_size: int = 704
    num_layers: int = 6
    num_heads: int = 4
    num_kv_heads: int = 2
    context: int = 512


@dataclass(frozen=True)
class NanoTraining:
    """Pretraining loop settings; `time_budget_s` caps the wall time whatever the corpus size."""

    seq_len: int = 256
    batch_size: int = 16
    learning_rate: float = 3e-3
    epochs: float = 8.0
    max_steps: int = 2000
    time_budget_s: float = 300.0
    seed: int = 0


def default_nano_dir() -> Path:
    return home_dir() / "models" / NANO_NAME


def resolve_model(name_or_path: str) -> str:
    """Map the name "nano" to its built folder; hub ids and other paths pass through."""
    if name_or_path != NANO_NAME:
        return name_or_path
    path = default_nano_dir()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"nano 모델이 아직 없습니다: {path}. 먼저 `smallretail model build-nano`를 실행하세요."
        )
    return str(path)


def read_corpus(path: str | Path) -> list[str]:
    """Read corpus texts: `.jsonl` rows with a "text" field, otherwise one text per line."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".jsonl":
        return [json.loads(line)["text"] for line in lines if line.strip()]
    return [line for line in lines if line.strip()]


def train_tokenizer(
    texts: Iterable[str], out_dir: str | Path, vocab_size: int = 8000
) -> PreTrainedTokenizerBase:
    """Train a byte-fallback SentencePiece BPE and save it as a transformers tokenizer.

    Identity normalization, no dummy prefix and kept whitespace make decode(encode(x)) == x
    for any text; bytes cover characters the corpus never showed (emoji, rare syllables).
    The folder also keeps `tokenizer.model`, which llama.cpp's GGUF converter reads.
    """
    import sentencepiece as spm
    from transformers import AutoTokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sentences = [_SEED_TEXT] * 20 + [t for t in texts if t]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # a small templated corpus cannot fill 8k pieces
        byte_fallback=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=False,
        allow_whitespace_only_pieces=True,
        split_digits=True,
        character_coverage=0.9995,
        unk_id=0, bos_id=1, eos_id=2, pad_id=3,
        unk_piece=UNK, bos_piece=BOS, eos_piece=IM_END, pad_piece=PAD,
        user_defined_symbols=[IM_START, "\n"],
        max_sentence_length=1 << 16,
        input_sentence_size=2_000_000,
        shuffle_input_sentence=True,
        num_threads=2,
        minloglevel=2,
    )
    (out_dir / "tokenizer.model").write_bytes(model.getvalue())
    config = {
        "tokenizer_class": "LlamaTokenizer",
        "add_prefix_space": False,
        "legacy": False,
        "add_bos_token": False,
        "add_eos_token": False,
        "bos_token": BOS,
        "eos_token": IM_END,
        "unk_token": UNK,
        "pad_token": PAD,
        "additional_special_tokens": [IM_START],
        "model_max_length": 1 << 30,
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "right"
    save_tokenizer(tokenizer, out_dir)
    return tokenizer


def save_tokenizer(tokenizer: PreTrainedTokenizerBase, out_dir: str | Path) -> None:
    """save_pretrained, then state add_bos_token/add_eos_token explicitly: transformers 5
    leaves them out, and llama.cpp's GGUF converter then assumes a Llama-style leading BOS."""
    tokenizer.save_pretrained(out_dir)
    path = Path(out_dir) / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    probe = tokenizer("a")["input_ids"]
    for kind, index in (("bos", 0), ("eos", -1)):
        special = getattr(tokenizer, f"{kind}_token_id")
        config.setdefault(f"add_{kind}_token", special is not None and probe[index] == special)
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")


def new_model(tokenizer: PreTrainedTokenizerBase, shape: NanoShape = NanoShape()) -> LlamaForCausalLM:
    """A randomly initialised Llama sized by `shape`, with the tokenizer's special ids."""
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_layers,
        num_attention_heads=shape.num_heads,
        num_key_value_heads=shape.num_kv_heads,
        max_position_embeddings=shape.context,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_new_tokens=256,
    )
    return model


def build_nano(
    corpus_texts: Sequence[str],
    out_dir: str | Path | None = None,
    *,
    shape: NanoShape = NanoShape(),
    training: NanoTraining = NanoTraining(),
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Build (or reuse) the nano model folder and return its path.

    The folder is reused when it was built from the same corpus and settings, unless `force`.
    It is written to a temporary sibling and renamed, so an interrupted build leaves no
    half-built model behind.
    """
    if not corpus_texts:
        raise ValueError("nano 모델을 만들 말뭉치가 비어 있습니다 (문장이 하나도 없음).")
    out_dir = Path(out_dir) if out_dir is not None else default_nano_dir()
    fingerprint = _fingerprint(corpus_texts, shape, training)
    info_path = out_dir / "build_info.json"
    built = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    if not force and built.get("fingerprint") == fingerprint:
        logger.info("nano model already built at %s (same corpus and settings)", out_dir)
        return out_dir

    from transformers import set_seed

    set_seed(training.seed)
    started = time.perf_counter()
    texts = list(dict.fromkeys(corpus_texts))  # catalog corpora repeat their prompts verbatim
    tmp_dir = out_dir.with_name(out_dir.name + ".building")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tokenizer = train_tokenizer(texts, tmp_dir, vocab_size=shape.vocab_size)
    tokenizer_s = time.perf_counter() - started
    model = new_model(tokenizer, shape)
    blocks = _pack(texts, tokenizer, training.seq_len)
    pack_s = time.perf_counter() - started - tokenizer_s
    stats = _pretrain(model, blocks, training, time.perf_counter() - started, progress)
    model.eval()
    model.save_pretrained(tmp_dir)
    n_params = sum(p.numel() for p in model.parameters())
    info = {
        "fingerprint": fingerprint,
        "documents": len(corpus_texts),
        "unique_documents": len(texts),
        "corpus_tokens": int(blocks.numel()),
        "vocab_size": len(tokenizer),
        "parameters": n_params,
        "size_mb": round(_dir_size(tmp_dir) / 2**20, 2),
        "tokenizer_seconds": round(tokenizer_s, 2),
        "pack_seconds": round(pack_s, 2),
        "build_seconds": round(time.perf_counter() - started, 2),
        "shape": asdict(shape),
        "training": asdict(training),
        **stats,
    }
    (tmp_dir / "build_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    (tmp_dir / "README.md").write_text(_model_card(info), encoding="utf-8")
    make_readable(tmp_dir)  # mounted into a container as another user (serving/README.md)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir.rename(out_dir)
    logger.info("nano model built at %s in %.1f s", out_dir, info["build_seconds"])
    return out_dir


def _pack(texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, seq_len: int):
    """Render each text as one assistant turn (so the model learns to end with EOS, the way
    serving prompts it) and pack all tokens into rows of `seq_len`."""
    import torch

    rendered = [
        tokenizer.apply_chat_template([{"role": "assistant", "content": t}], tokenize=False)
        for t in texts
    ]
    ids: list[int] = []
    for row in tokenizer(rendered, add_special_tokens=False)["input_ids"]:
        ids.extend(row)
    n_rows = max(1, len(ids) // seq_len)
    ids = (ids * math.ceil(n_rows * seq_len / max(len(ids), 1)))[: n_rows * seq_len]
    return torch.tensor(ids, dtype=torch.long).view(n_rows, seq_len)


def _pretrain(model, blocks, training: NanoTraining, spent_s: float, progress: bool) -> dict:
    """Plain next-token training: AdamW, warmup + cosine decay, bounded by steps and time.

    Every 5 steps the step count is re-planned to what fits the time budget
    (never above the epoch plan) and the schedule follows, so a slow or busy machine still
    warms up, anneals and finishes on time. Steps 2-5 time all threads against one thread
    and keep the faster: on cores shared with other jobs one thread is often quicker."""
    import torch
    from tqdm.auto import tqdm

    rows = blocks.shape[0]
    steps_per_epoch = max(1, math.ceil(rows / training.batch_size))
    planned = max(1, min(training.max_steps, int(training.epochs * steps_per_epoch)))
    plan = {"total": planned}

    def lr_lambda(step: int) -> float:  # warmup 5% of the current plan, then cosine to 10%
        warmup = max(1, plan["total"] // 20)
        if step < warmup:
            return (step + 1) / warmup
        done = min(1.0, (step - warmup) / max(1, plan["total"] - warmup))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=training.learning_rate, betas=(0.9, 0.95), weight_decay=0.1
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    generator = torch.Generator().manual_seed(training.seed)
    budget = max(1.0, training.time_budget_s - spent_s)
    model.train()
    losses: list[float] = []
    started = time.perf_counter()
    step = 0
    bar = tqdm(total=plan["total"], desc="nano pretraining", unit="step", disable=not progress)
    order = torch.randperm(rows, generator=generator)
    cursor = 0
    threads = torch.get_num_threads()
    timings: dict[int, float] = {}
    try:
        while step < plan["total"]:
            if step in (1, 3) and threads > 1:  # try all threads, then one: busy cores favour one
                torch.set_num_threads(threads if step == 1 else 1)
                tick = time.perf_counter()
            if cursor >= rows:
                order, cursor = torch.randperm(rows, generator=generator), 0
            batch = blocks[order[cursor : cursor + training.batch_size]]
            cursor += training.batch_size
            loss = model(input_ids=batch, labels=batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            if step in (3, 5) and threads > 1:
                timings[torch.get_num_threads()] = time.perf_counter() - tick
                if step == 5:
                    torch.set_num_threads(min(timings, key=timings.get))
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
    tokens = step * training.batch_size * training.seq_len
    tail = losses[-max(1, len(losses) // 10) :]
    return {
        "steps": step,
        "epochs_done": round(step / steps_per_epoch, 2),
        "train_tokens": tokens,
        "tokens_per_second": round(tokens / max(elapsed, 1e-9), 1),
        "first_loss": round(losses[0], 4),
        "final_loss": round(sum(tail) / len(tail), 4),
        "pretrain_seconds": round(elapsed, 2),
        "torch_threads": used_threads,
    }


def _fingerprint(texts: Sequence[str], shape: NanoShape, training: NanoTraining) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    digest.update(json.dumps([asdict(shape), asdict(training), CHAT_TEMPLATE]).encode())
    return digest.hexdigest()


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _model_card(info: dict) -> str:
    shape = info["shape"]
    return f"""---
language: ko
library_name: transformers
tags: [smallretail, nano, from-scratch, offline, test-model]
---
# smallretail nano (from-scratch catalog model)

**What it is:** a small Llama-architecture model ({info["parameters"]:,} parameters,
{info["size_mb"]} MB on disk) and a SentencePiece tokenizer ({info["vocab_size"]} pieces),
both trained from scratch by `smallretail model build-nano` on {info["unique_documents"]} distinct
texts ({info["corpus_tokens"]:,} tokens) derived from this shop's catalog.

**What it is for:** offline use and tests, so that LoRA training, export and serving run end
to end on a fresh machine with no network. It knows only the catalog text it was built from.

**What it is not:** a general language model. It cannot follow arbitrary instructions, its
Korean is limited to catalog phrasing, and its output is never trusted without the grounding
check. For real use pick a hub model (see `training/README.md`).

- Architecture: LlamaForCausalLM, hidden {shape["hidden_size"]}, {shape["num_layers"]} layers,
  {shape["num_heads"]} heads / {shape["num_kv_heads"]} KV heads, context {shape["context"]},
  tied embeddings.
- Chat template: ChatML (`<|im_start|>role\\n…<|im_end|>\\n`); EOS and stop token is
  `<|im_end|>`; pad is `<pad>`. Each training text was one assistant turn.
- Pretraining: {info["steps"]} steps ({info["epochs_done"]} epochs), loss
  {info["first_loss"]} → {info["final_loss"]}, {info["tokens_per_second"]} tokens/s,
  built in {info["build_seconds"]} s on {info["torch_threads"]} CPU threads.
"""

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
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # heavy imports stay inside the functions that need them
    from transformers import LlamaForCausalLM, PreTrainedTokenizerBase

from smallretail_llm.core.paths import home_dir, make_readable
from smallretail_llm.models.nano_pretrain import NanoTraining

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
    """Model and tokenizer size. Small on purpose: on 2 CPU cores a build has minutes, and a
    narrow model takes about three times as many steps as the 256-wide one in the same time,
    which is what teaches it the task (measured in training/README.md)."""

    vocab_size: int = 8000  # an upper bound: a small corpus gives fewer pieces
    hidden_size: int = 128
    intermediate_size: int = 352
    num_layers: int = 4
    num_heads: int = 2
    num_kv_heads: int = 1
    context: int = 1024  # the median answer prompt is ~480 tokens; detail prompt + target ~600


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


def read_corpus(path: str | Path) -> list:
    """Read pretraining documents: `.jsonl` rows with "messages" (a conversation) or "text",
    otherwise one text per line. A bad row raises ValueError naming its line."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix != ".jsonl":
        return [line for line in lines if line.strip()]
    documents = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} {number}번째 줄: JSON 형식 오류 ({exc.msg})") from None
        document = row.get("messages", row.get("text")) if isinstance(row, dict) else None
        if not (isinstance(document, str) and document.strip()) and not _is_conversation(document):
            raise ValueError(f"{path} {number}번째 줄: \"messages\"(대화) 또는 \"text\"(문자열)가 "
                             f"있어야 합니다")
        documents.append(document)
    return documents


def _is_conversation(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value)


def _document_text(document) -> str:
    """A document as the model sees it: conversations through the chat template's markup."""
    if isinstance(document, str):
        return document
    return "".join(f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n" for m in document)


def train_tokenizer(
    texts: Iterable[str], out_dir: str | Path, vocab_size: int = 8000,
    symbols: Sequence[str] = (),
) -> PreTrainedTokenizerBase:
    """Train a byte-fallback SentencePiece BPE and save it as a transformers tokenizer.

    Identity normalization, no dummy prefix and kept whitespace make decode(encode(x)) == x
    for any text; bytes cover characters the corpus never showed (emoji, rare syllables).
    Digits are single pieces (split_digits), and each of `symbols` (the value slots) is one.
    The folder also keeps `tokenizer.model`, which llama.cpp's GGUF converter reads.
    """
    import sentencepiece as spm
    from transformers import AddedToken, AutoTokenizer

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
        user_defined_symbols=[IM_START, "\n", *symbols],
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
    # The converted tokenizer does not split on SentencePiece's user-defined symbols: declare
    # them as added tokens (they keep their ids), so "⟦price_krw⟧" is one token, as in llama.cpp.
    tokenizer.add_tokens([AddedToken(s, normalized=False, special=False) for s in symbols])
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
    corpus_texts: Sequence,
    out_dir: str | Path | None = None,
    *,
    shape: NanoShape = NanoShape(),
    training: NanoTraining = NanoTraining(),
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Build (or reuse) the nano model folder and return its path.

    `corpus_texts` are documents: plain strings, or conversations (lists of messages) such as
    `dataset.corpus_conversations` gives, whose slot targets teach the task itself. The folder
    is reused when it was built from the same corpus and settings, unless `force`. It is written
    to a temporary sibling and renamed, so an interrupted build leaves no half-built model."""
    from smallretail_llm.baseline.slots import all_slot_names, slot, slot_names_in
    from smallretail_llm.models.nano_pretrain import encode_documents, pretrain

    if not corpus_texts:
        raise ValueError("nano 모델을 만들 말뭉치가 비어 있습니다 (문장이 하나도 없음).")
    out_dir = Path(out_dir) if out_dir is not None else default_nano_dir()
    fingerprint = _fingerprint([_document_text(d) for d in corpus_texts], shape, training)
    info_path = out_dir / "build_info.json"
    built = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    if not force and built.get("fingerprint") == fingerprint:
        logger.info("nano model already built at %s (same corpus and settings)", out_dir)
        return out_dir

    from transformers import set_seed

    set_seed(training.seed)
    started = time.perf_counter()
    documents = list({_document_text(d): d for d in corpus_texts}.values())  # drop repeats
    tmp_dir = out_dir.with_name(out_dir.name + ".building")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    texts = [_document_text(d) for d in documents]
    used = slot_names_in(texts)  # one piece per slot the corpus uses (unused ones add nothing)
    tokenizer = train_tokenizer(texts, tmp_dir, vocab_size=shape.vocab_size,
                                symbols=[slot(n) for n in all_slot_names() if n in used])
    tokenizer_s = time.perf_counter() - started
    model = new_model(tokenizer, shape)
    encoded = encode_documents(documents, tokenizer, min(training.seq_len, shape.context),
                               training.prompt_weight)
    pack_s = time.perf_counter() - started - tokenizer_s
    stats = pretrain(model, encoded, training, time.perf_counter() - started, progress)
    model.eval()
    model.save_pretrained(tmp_dir)
    n_params = sum(p.numel() for p in model.parameters())
    info = {
        "fingerprint": fingerprint,
        "documents": len(corpus_texts),
        "unique_documents": len(documents),
        "conversations": sum(not isinstance(d, str) for d in documents),
        "dropped_too_long": encoded.dropped,
        "corpus_tokens": encoded.tokens,
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
    planned = info["planned_steps"]
    cut = (f" of {planned} planned (the machine was too slow for them inside the "
           f"{info['training']['time_budget_s']:.0f} s cap)" if info["steps"] < planned else "")
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

**What it can and cannot do** (measured in `eval/reports/nano`, held-out products): it answers
customer questions from the `[질문 관련 정보]` lines the rules put under the question (the right
field, the shop's tone, a hand-off when a line says "상품 정보에 없음"; it writes those lines'
values and labels as slots by line, `⟦ask.1.label⟧은 ⟦ask.1⟧이에요`, so also for fields its
catalog never had), and writes short copy
(intro, seo, bullets) with slots the record fills. It does not understand questions on its own
(without those lines it answers the most common field), cannot copy text it has not seen as a
slot, and its long detail copy is the least reliable: what fails the checks is replaced by the
rule-based text.

- Architecture: LlamaForCausalLM, hidden {shape["hidden_size"]}, {shape["num_layers"]} layers,
  {shape["num_heads"]} heads / {shape["num_kv_heads"]} KV heads, context {shape["context"]},
  tied embeddings.
- Chat template: ChatML (`<|im_start|>role\\n…<|im_end|>\\n`); EOS and stop token is
  `<|im_end|>`; pad is `<pad>`.
- Task: {info["conversations"]} of its documents are whole train-split conversations (record
  prompt -> reply) whose replies carry value slots (`⟦price_krw⟧`, one token each): the model
  writes the words and picks the fields, the record fills every value at serving time
  (`slots.py`). It has never seen the test split's products.
- Pretraining: {info["steps"]} steps{cut} ({info["epochs_done"]} epochs), loss
  {info["first_loss"]} → {info["final_loss"]}, {info["tokens_per_second"]} tokens/s,
  built in {info["build_seconds"]} s on {info["torch_threads"]} CPU threads.
"""

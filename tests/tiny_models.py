"""Tiny offline stand-ins for hub models, for engine and serving tests.

Everything is built from random weights and saved to a directory, so tests load it through
``from_pretrained`` exactly like a downloaded hub model (no network, a few seconds of CPU).

- ``build_tokenizer``: a byte-level BPE with a ChatML template, EOS ``<|im_end|>`` and pad
  ``<|endoftext|>``. Its vocabulary is small on purpose, so most Korean syllables span several
  tokens and a decode that stops between them ends in U+FFFD.
- ``build_tiny_model``: a 2-layer ``LlamaForCausalLM`` plus that tokenizer; with ``reply`` it is
  first fitted (a few hundred Adam steps) to answer ``REPLY_PROMPT`` with ``reply`` and then EOS.
- ``build_lora_adapter``: a LoRA (or DoRA) adapter with random non-zero weights, so it changes
  outputs.
- ``build_nano_tiny``: a random-weight nano-style model with a SentencePiece tokenizer, which
  llama.cpp's converter can turn into a GGUF.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}{{ '\\n' }}{{ m['content'] }}"
    "<|im_end|>{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant{{ '\\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
REPLY_PROMPT = [{"role": "user", "content": "사과 소개해 주세요"}]

_CORPUS = [
    "국내산 사과 1kg 냉장 보관하세요. 신선한 과일을 빠르게 보내 드립니다.",
    "유기농 현미 4kg, 서늘하고 건조한 곳에 보관. 알레르기 유발 성분: 없음.",
    "The quick brown fox jumps over the lazy dog. user assistant system",
    "배송비 3,000원, 50,000원 이상 무료배송. 고객센터 평일 10시~17시.",
    "hello world 123 456 product description answer question",
]


def build_tokenizer(vocab_size: int = 300) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer with a chat template; any text round-trips."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def build_tiny_model(
    out_dir: str | Path, *, seed: int = 0, reply: str | None = None, steps: int = 200
) -> Path:
    """Save a tiny random Llama + tokenizer to ``out_dir`` (optionally fitted to ``reply``)."""
    out = Path(out_dir)
    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if reply is not None:
        _fit_reply(model, tokenizer, reply, steps)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_lora_adapter(
    base_dir: str | Path, out_dir: str | Path, *, seed: int, use_dora: bool = False
) -> Path:
    """Save a LoRA (or DoRA) adapter for the model in ``base_dir`` with random, non-zero weights."""
    torch.manual_seed(seed)
    base = LlamaForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(
        r=4,
        lora_alpha=16,
        target_modules=["q_proj", "v_proj", "o_proj", "down_proj"],
        init_lora_weights=False,
        use_dora=use_dora,
    )
    peft_model = get_peft_model(base, config)
    peft_model.save_pretrained(out_dir)
    return Path(out_dir)


def _fit_reply(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, reply: str, steps: int
) -> None:
    """Overfit the model on one chat so that greedy decoding returns ``reply`` then EOS."""
    prompt = tokenizer.apply_chat_template(REPLY_PROMPT, add_generation_prompt=True, tokenize=False)
    ids = tokenizer(prompt + reply + "<|im_end|>", add_special_tokens=False)["input_ids"]
    input_ids = torch.tensor([ids])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: extra threads only add sync cost (30x on busy CPUs)
    try:
        model.train()
        for _ in range(steps):
            loss = model(input_ids=input_ids, labels=input_ids).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny matrices: extra threads only add sync cost (30x slower on a busy 2-core machine).
    A test module that imports this fixture runs its tests with one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)



NANO_CORPUS = [f"상품명: 사과 {i}kg 가격: {i * 1000}원 보관: 냉장 배송비: 3,000원 문의: 고객센터"
               for i in range(1, 60)]


def build_nano_tiny(out: Path) -> Path:
    """A 2-layer nano-style model with random weights and a SentencePiece tokenizer."""
    from smallretail_llm.models import nano

    shape = nano.NanoShape(vocab_size=600, hidden_size=64, intermediate_size=128, num_layers=2,
                           num_heads=4, num_kv_heads=2, context=256)
    tokenizer = nano.train_tokenizer(NANO_CORPUS, out, vocab_size=shape.vocab_size)
    torch.manual_seed(0)
    nano.new_model(tokenizer, shape).save_pretrained(out)
    return out


def run_and_close(engine, coro_fn):
    """``asyncio.run`` of ``coro_fn()``, closing ``engine`` afterwards (its worker thread)."""
    async def main():
        try:
            return await coro_fn()
        finally:
            await engine.aclose()

    return asyncio.run(main())

"""The nano model build: exact Korean round-trip, chat template, EOS stop, cache, model card."""

from __future__ import annotations

import json
from array import array

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from smallretail_llm.models import nano

TINY = nano.NanoShape(vocab_size=600, hidden_size=64, intermediate_size=128, num_layers=2,
                      num_heads=4, num_kv_heads=2, context=128)
FAST = nano.NanoTraining(seq_len=64, batch_size=8, learning_rate=1e-2, epochs=60, max_steps=120,
                         time_budget_s=3600, seed=0)  # steps, not time, decide


def corpus() -> list[str]:
    """A few hundred varied catalog lines: enough pieces for the tokenizer, easy to learn."""
    names = ["사과", "김치", "된장", "수분크림", "텀블러", "현미", "참기름", "고구마"]
    origins = ["국내산", "미국산", "제주", "경북 청송"]
    lines = []
    for i in range(240):
        name, origin = names[i % len(names)], origins[i % len(origins)]
        lines.append(f"{name} {i % 5 + 1}kg 원산지 {origin} 가격 {1000 + i * 10:,}원")
    return lines


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("nano") / "nano"
    return nano.build_nano(corpus(), out, shape=TINY, training=FAST, progress=False)


ROUND_TRIP = [
    "안녕하세요! 국내산 사과 1.5kg, 12,900원 🍎✨",
    "  앞뒤 공백과  두 칸 공백\n\n줄바꿈\t탭 ",
    "똠얌꿍 뷁 햏 ㅋㅋㅋ ㅠㅠ 🇰🇷 café naïve Ω 0123456789 HACCP KC SKU-0042",
    "<|im_start|>user\n질문<|im_end|>\n",
    "",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_tokenizer_round_trips_exactly(built, text):
    tokenizer = AutoTokenizer.from_pretrained(built)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text


def test_tokenizer_special_tokens_and_bytes(built):
    tokenizer = AutoTokenizer.from_pretrained(built)
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<pad>"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    ids = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    assert ids[0] == tokenizer.convert_tokens_to_ids("<|im_start|>")
    # an emoji the corpus never showed is spelled in byte pieces, never <unk>
    assert tokenizer.unk_token_id not in tokenizer("🦄", add_special_tokens=False)["input_ids"]
    assert (built / "tokenizer.model").is_file()  # what llama.cpp's converter reads


def test_chat_template_renders_roles(built):
    tokenizer = AutoTokenizer.from_pretrained(built)
    messages = [{"role": "system", "content": "규칙"}, {"role": "user", "content": "질문"},
                {"role": "assistant", "content": "답변"}]
    assert tokenizer.apply_chat_template(messages, tokenize=False) == (
        "<|im_start|>system\n규칙<|im_end|>\n<|im_start|>user\n질문<|im_end|>\n"
        "<|im_start|>assistant\n답변<|im_end|>\n"
    )
    assert tokenizer.apply_chat_template(messages[:2], tokenize=False, add_generation_prompt=True) \
        .endswith("<|im_start|>user\n질문<|im_end|>\n<|im_start|>assistant\n")


def test_model_loads_like_a_hub_model_and_stops_at_eos(built):
    tokenizer = AutoTokenizer.from_pretrained(built)
    model = AutoModelForCausalLM.from_pretrained(built)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert model.config.eos_token_id == eos
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert model.generation_config.eos_token_id == eos
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "사과"}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=60, do_sample=False)
    new = out[0, prompt["input_ids"].shape[1]:].tolist()
    assert new[-1] == eos and len(new) < 60  # learned to end a catalog line with EOS
    assert "원산지" in tokenizer.decode(new[:-1])


def test_build_info_and_model_card(built):
    info = json.loads((built / "build_info.json").read_text())
    assert info["documents"] == 240
    assert info["steps"] > 0 and info["final_loss"] < info["first_loss"]
    card = (built / "README.md").read_text()
    assert "from scratch" in card and "offline use and tests" in card
    assert "**What it is not:** a general language model" in card
    assert info["planned_steps"] == info["steps"] and "planned" not in card  # not cut


def test_build_is_cached_until_corpus_changes(built):
    stamp = (built / "build_info.json").stat().st_mtime_ns
    assert nano.build_nano(corpus(), built, shape=TINY, training=FAST, progress=False) == built
    assert (built / "build_info.json").stat().st_mtime_ns == stamp
    other = built.parent / "other"
    nano.build_nano(corpus()[:100], other, shape=TINY, training=nano.NanoTraining(max_steps=2),
                    progress=False)
    assert json.loads((other / "build_info.json").read_text())["documents"] == 100


def test_time_budget_stops_training(tmp_path):
    slow = nano.NanoTraining(seq_len=64, batch_size=8, epochs=1000, max_steps=100000,
                             time_budget_s=1.0)
    out = nano.build_nano(corpus(), tmp_path / "n", shape=TINY, training=slow, progress=False)
    info = json.loads((out / "build_info.json").read_text())
    assert info["steps"] < 100000 and info["pretrain_seconds"] < 10
    card = (out / "README.md").read_text()  # the card says the cap cut the step budget
    assert f"{info['steps']} steps of {info['planned_steps']} planned" in card and "1 s cap" in card


def test_empty_corpus_is_refused(tmp_path):
    with pytest.raises(ValueError, match="말뭉치가 비어"):
        nano.build_nano([], tmp_path / "n")


def test_resolve_model_uses_smallretail_home(tmp_path, monkeypatch, built):
    monkeypatch.setenv("SMALLRETAIL_HOME", str(tmp_path))
    assert nano.default_nano_dir() == tmp_path / "models" / "nano"
    assert nano.resolve_model("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"
    with pytest.raises(FileNotFoundError, match="build-nano"):
        nano.resolve_model("nano")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "nano").symlink_to(built)
    assert nano.resolve_model("nano") == str(tmp_path / "models" / "nano")


def test_read_corpus_text_and_jsonl(tmp_path):
    (tmp_path / "c.txt").write_text("사과 1kg\n\n김치 500g\n", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"text": "여러 줄\\n문서"}\n{"text": "둘째"}\n', encoding="utf-8")
    assert nano.read_corpus(tmp_path / "c.txt") == ["사과 1kg", "김치 500g"]
    assert nano.read_corpus(tmp_path / "c.jsonl") == ["여러 줄\n문서", "둘째"]


def _chats() -> list[list[dict[str, str]]]:
    """Questions about one product (a long shared prompt), plus two conversations whose whole
    prompt is the same (a style with no tone line) and differ only in the reply."""
    record = "\n".join(f"항목{i}: 사과 {i}kg 국내산 {1000 + i:,}원" for i in range(12))
    chats = [[{"role": "user", "content": f"{record}\n[고객 질문] 사과 {q}?"},
              {"role": "assistant", "content": f"답 {q}"}] for q in ("가격", "원산지", "무게")]
    same = f"{record}\n[요청] 제목"
    return chats + [[{"role": "user", "content": same}, {"role": "assistant", "content": r}]
                    for r in ("사과 제목 하나", "사과 제목 둘")]


def test_shared_prompts_run_once_and_every_reply_token_is_learned(built):
    from smallretail_llm.models.nano_pretrain import encode_documents

    tokenizer = AutoTokenizer.from_pretrained(built)
    encoded = encode_documents(_chats(), tokenizer, 1024, prompt_weight=0.0)
    grouped = [u for u in encoded.units if len(u.prefix)]
    assert grouped and sum(len(u.members) for u in grouped) >= 4
    # the reply's first token is predicted from a position inside the member's own row, so
    # each member keeps at least the "<|im_start|>assistant" line as prompt
    assert all(p >= 1 for u in encoded.units for p in u.member_prompt)


def test_a_step_on_a_shared_prefix_has_the_loss_of_separate_documents(built):
    from smallretail_llm.models.nano_pretrain import Step, encode_documents, step_loss

    tokenizer = AutoTokenizer.from_pretrained(built)
    model = AutoModelForCausalLM.from_pretrained(built).eval()
    encoded = encode_documents(_chats(), tokenizer, 1024, prompt_weight=0.0)
    unit = max(encoded.units, key=lambda u: len(u.members))
    rows = list(zip(unit.members, unit.member_prompt, strict=True))
    with torch.no_grad():
        shared, _ = step_loss(model, Step(unit.prefix, rows), 0.0, tokenizer.pad_token_id)
        alone = [step_loss(model, Step(array("i"), [(unit.prefix + m, len(unit.prefix) + p)]),
                           0.0, tokenizer.pad_token_id)[0] for m, p in rows]
    reply_tokens = torch.tensor([float(len(m) - p) for m, p in rows])
    expected = (torch.stack(alone) * reply_tokens).sum() / reply_tokens.sum()
    assert torch.allclose(shared, expected, atol=1e-4)

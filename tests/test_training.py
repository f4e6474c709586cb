"""LoRA SFT: label masking, collator, a tiny end-to-end run, resume, adapter metadata checks."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import torch
from datasets import Dataset, DatasetDict
from transformers import AutoModelForCausalLM, AutoTokenizer

from smallretail_llm.models import nano
from smallretail_llm.training import sft as training
from smallretail_llm.training import sft_data
from smallretail_llm.training.config import TrainConfig

TINY = nano.NanoShape(vocab_size=500, hidden_size=32, intermediate_size=64, num_layers=2,
                      num_heads=4, num_kv_heads=2, context=256)
SYSTEM = "상품 정보만 사용해 답하세요."


def example(i: int) -> dict:
    name = ["사과", "김치", "현미", "참기름"][i % 4]
    origin = ["국내산", "제주", "미국산"][i % 3]
    if i % 2:
        return {"messages": [{"role": "system", "content": SYSTEM},
                             {"role": "user", "content": f"{name} 원산지는?"},
                             {"role": "assistant", "content": f"{name}의 원산지는 {origin}입니다."}],
                "task": "answer", "style": "", "product_key": f"s/{i}", "prompt_version": "answer.v1"}
    return {"messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": f"{name} 소개해 주세요"},
                         {"role": "assistant", "content": f"{origin} {name}, 신선하게 보내 드려요."}],
            "task": "describe", "style": "intro", "product_key": f"s/{i}",
            "prompt_version": "describe.v1"}


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    """A tiny pretrained nano (LoRA cannot move a random model's near-uniform output much) that
    never saw the assistant answers, so SFT has something to learn."""
    texts = [m["content"] for i in range(40) for m in example(i)["messages"][:2]]
    pretrain = nano.NanoTraining(seq_len=64, batch_size=8, learning_rate=1e-2, epochs=60,
                                 max_steps=120, time_budget_s=3600)
    return nano.build_nano(texts, tmp_path_factory.mktemp("base") / "nano", shape=TINY,
                           training=pretrain, progress=False)


@pytest.fixture(scope="module")
def tokenizer(base_dir):
    return AutoTokenizer.from_pretrained(base_dir)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sft")
    for split, rows in (("train", range(24)), ("validation", range(100, 108))):
        lines = [json.dumps(example(i), ensure_ascii=False) for i in rows]
        (out / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def config(base_dir, data_dir, out, **overrides) -> TrainConfig:
    values = {"base_model": str(base_dir), "data": str(data_dir), "output_dir": str(out),
              "max_length": 256, "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.0,
              "learning_rate": 1e-2, "warmup_ratio": 0.0, "max_steps": 8, "batch_size": 4,
              "eval_steps": 4, "save_steps": 4, "save_total_limit": 3, "logging_steps": 1,
              "seed": 7}
    return TrainConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def run(base_dir, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    adapter = training.train(config(base_dir, data_dir, out))
    return out, adapter, json.loads((adapter / "train_report.json").read_text())


# ---------------------------------------------------------------- masking and collation

def test_encode_chat_labels_only_the_assistant_turn_and_eos(tokenizer):
    encoded = sft_data.encode_chat(example(1)["messages"], tokenizer, max_length=256)
    ids, labels = encoded["input_ids"], encoded["labels"]
    learned = [i for i, label in enumerate(labels) if label != sft_data.IGNORE_INDEX]
    assert learned == list(range(learned[0], len(ids)))  # one span, to the very end
    assert [labels[i] for i in learned] == [ids[i] for i in learned]
    assert tokenizer.decode([ids[i] for i in learned]) == "김치의 원산지는 제주입니다.<|im_end|>\n"
    assert tokenizer.decode(ids[: learned[0]]).endswith("<|im_start|>assistant\n")
    assert tokenizer.eos_token_id in [ids[i] for i in learned]


def test_encode_chat_multi_turn_masks_every_user_turn(tokenizer):
    messages = [{"role": "user", "content": "하나"}, {"role": "assistant", "content": "일"},
                {"role": "user", "content": "둘"}, {"role": "assistant", "content": "이"}]
    encoded = sft_data.encode_chat(messages, tokenizer, max_length=256)
    learned = [t for t, label in zip(encoded["input_ids"], encoded["labels"], strict=True)
               if label != sft_data.IGNORE_INDEX]
    assert tokenizer.decode(learned) == "일<|im_end|>\n이<|im_end|>\n"


def test_encode_chat_drops_too_long_and_assistantless(tokenizer):
    assert sft_data.encode_chat(example(1)["messages"], tokenizer, max_length=10) is None
    assert sft_data.encode_chat(example(1)["messages"][:2], tokenizer, max_length=256) is None


def test_collator_right_pads_with_ignored_labels():
    collate = sft_data.SFTCollator(pad_token_id=3)
    batch = collate([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
                     {"input_ids": [8], "labels": [8]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 3, 3]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert sft_data.SFTCollator(3, pad_to_multiple_of=4)(
        [{"input_ids": [1], "labels": [1]}])["input_ids"].tolist() == [[1, 3, 3, 3]]


# ---------------------------------------------------------------- data and settings

def test_load_sft_splits_all_formats(tmp_path, data_dir):
    assert sft_data.load_sft_splits(data_dir)["validation"].num_rows == 8
    one = tmp_path / "all.jsonl"
    one.write_text("\n".join(json.dumps({**example(i), "split": s}, ensure_ascii=False)
                             for i, s in enumerate(["train", "train", "validation"])), "utf-8")
    assert {k: v.num_rows for k, v in sft_data.load_sft_splits(one).items()} == \
        {"train": 2, "validation": 1}
    DatasetDict({"train": Dataset.from_list([example(0)])}).save_to_disk(str(tmp_path / "hf"))
    assert sft_data.load_sft_splits(tmp_path / "hf")["train"].num_rows == 1
    with pytest.raises(FileNotFoundError, match="없습니다"):
        sft_data.load_sft_splits(tmp_path / "missing.jsonl")


def test_prompt_versions_are_resolved_per_task():
    splits = DatasetDict({"train": Dataset.from_list([example(0), example(1)])})
    assert sft_data.resolve_prompt_versions(splits, None) == ["answer.v1", "describe.v1"]
    with pytest.raises(ValueError, match="다릅니다"):
        sft_data.resolve_prompt_versions(splits, ["describe.v2", "answer.v1"])
    mixed = DatasetDict({"train": Dataset.from_list([example(0), {**example(2),
                                                                  "prompt_version": "describe.v2"}])})
    with pytest.raises(ValueError, match="describe"):
        sft_data.resolve_prompt_versions(mixed, None)


def test_precision_is_fp32_on_cpu_and_never_bf16_there():
    assert training.resolve_precision("auto", cuda=False, bf16_supported=False) == "fp32"
    with pytest.raises(ValueError, match="CPU"):
        training.resolve_precision("bf16", cuda=False, bf16_supported=False)
    assert training.resolve_precision("auto", cuda=True, bf16_supported=True) == "bf16"
    assert training.resolve_precision("auto", cuda=True, bf16_supported=False) == "fp16"


# ---------------------------------------------------------------- LoRA itself

def test_lora_steps_change_only_adapter_weights(base_dir, data_dir, tmp_path, tokenizer):
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    peft_model = training.add_lora(model, config(base_dir, data_dir, tmp_path))
    lora = {n: p.detach().clone() for n, p in peft_model.named_parameters() if p.requires_grad}
    assert lora and all("lora_" in n for n in lora)
    batch = sft_data.SFTCollator(tokenizer.pad_token_id)(
        [sft_data.encode_chat(example(i)["messages"], tokenizer, 256) for i in range(4)])
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        peft_model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    base_after = peft_model.get_base_model().state_dict()
    for key, value in before.items():
        name = key.replace(".weight", ".base_layer.weight")
        assert torch.equal(base_after.get(key, base_after.get(name)), value), key
    changed = [n for n, p in peft_model.named_parameters() if n in lora and not torch.equal(p, lora[n])]
    assert sorted(changed) == sorted(lora)


def test_saved_adapter_reloads_to_identical_logits(base_dir, run, tokenizer):
    _, adapter, _ = run
    first = training.load_adapter_checked(AutoModelForCausalLM.from_pretrained(base_dir), adapter,
                                          "describe.v1", tokenizer)
    inputs = tokenizer(["<|im_start|>user\n사과<|im_end|>\n"], return_tensors="pt",
                       add_special_tokens=False)
    with torch.no_grad():
        logits = first(**inputs).logits
        first.save_pretrained(adapter.parent / "resaved")
        shutil.copy(adapter / training.ADAPTER_META, adapter.parent / "resaved")
        again = training.load_adapter_checked(AutoModelForCausalLM.from_pretrained(base_dir),
                                              adapter.parent / "resaved", "answer.v1")
        assert torch.equal(again(**inputs).logits, logits)
        base_logits = AutoModelForCausalLM.from_pretrained(base_dir)(**inputs).logits
    assert not torch.allclose(base_logits, logits)  # the adapter does something


# ---------------------------------------------------------------- the Trainer run

def test_run_lowers_eval_loss_and_reports(run):
    _, _, report = run
    evals = [e["eval_loss"] for e in report["eval_curve"]]
    assert [e["step"] for e in report["eval_curve"]] == [0, 4, 8]
    assert evals[-1] < evals[0] - 0.5
    assert report["steps"] == 8 and report["resumed_from_step"] == 0
    assert report["train_examples"] == 24 and report["eval_examples"] == 8
    assert report["dropped_too_long"] == {"train": 0, "eval": 0}
    assert len(report["loss_curve"]) == 8 and report["tokens_per_second"] > 0
    assert report["input_tokens_seen"] == 8 * 4 * report["tokens_per_epoch"] // 24 or \
        report["input_tokens_seen"] > 0
    assert report["best_checkpoint"].endswith(f"checkpoint-{4 if evals[1] < evals[2] else 8}")
    assert report["peak_memory_mb"] > 0


def test_adapter_folder_records_what_serving_must_match(run, base_dir, tokenizer):
    _, adapter, _ = run
    meta = json.loads((adapter / training.ADAPTER_META).read_text())
    assert meta["prompt_versions"] == ["answer.v1", "describe.v1"]
    assert meta["chat_template_sha256"] == hashlib.sha256(nano.CHAT_TEMPLATE.encode()).hexdigest()
    assert meta["eos_token"] == "<|im_end|>" and meta["eos_token_id"] == tokenizer.eos_token_id
    assert meta["base_model"] == str(base_dir) and meta["precision"] == "fp32"
    assert meta["packages"]["transformers"] and meta["packages"]["peft"]
    assert (adapter / "chat_template.jinja").read_text() == nano.CHAT_TEMPLATE
    resolved = TrainConfig.from_yaml(adapter / "train_config.yaml")
    assert resolved.prompt_versions == ["answer.v1", "describe.v1"] and resolved.lora_r == 8
    assert (adapter / "adapter_model.safetensors").is_file()


def test_mismatched_prompt_version_or_template_is_refused(run, base_dir, tokenizer):
    _, adapter, _ = run
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    with pytest.raises(training.AdapterMismatch, match="describe.v2"):
        training.load_adapter_checked(model, adapter, ["describe.v2", "answer.v1"])
    other = AutoTokenizer.from_pretrained(base_dir)
    other.chat_template = nano.CHAT_TEMPLATE.replace("<|im_start|>", "<s>")
    with pytest.raises(training.AdapterMismatch, match="채팅 템플릿"):
        training.load_adapter_checked(model, adapter, "describe.v1", other)
    with pytest.raises(training.AdapterMismatch, match="메타데이터"):
        training.load_adapter_checked(model, base_dir, "describe.v1")


def test_resume_continues_from_the_saved_step(run, base_dir, data_dir, tmp_path):
    out, _, report = run
    interrupted = tmp_path / "interrupted"
    shutil.copytree(out / "checkpoints", interrupted / "checkpoints")
    shutil.rmtree(interrupted / "checkpoints" / "checkpoint-8")  # killed after step 4's save
    resumed = training.train(config(base_dir, data_dir, interrupted), resume=True)
    again = json.loads((resumed / "train_report.json").read_text())
    assert again["resumed_from_step"] == 4 and again["steps"] == 8
    assert [e["step"] for e in again["eval_curve"]] == [0, 4, 8]  # history kept from the checkpoint
    assert again["eval_curve"][-1]["eval_loss"] == pytest.approx(report["eval_curve"][-1]["eval_loss"],
                                                                 rel=1e-4)


def test_checkpoints_are_not_overwritten_without_resume(run, base_dir, data_dir, tmp_path):
    out, _, _ = run
    with pytest.raises(FileExistsError, match="--resume"):
        training.train(config(base_dir, data_dir, out))
    with pytest.raises(FileNotFoundError, match="체크포인트가 없습니다"):
        training.train(config(base_dir, data_dir, tmp_path / "fresh"), resume=True)


# ---------------------------------------------------------------- smoke run (random-init shape)

def test_random_init_model_is_the_exact_shape_seeded_with_real_rotary_buffers():
    from transformers import LlamaForCausalLM

    from smallretail_llm.models import shapes as model_shapes
    from smallretail_llm.training import smoke as train_smoke

    model = train_smoke.random_init_model("nano", seed=3)
    again = train_smoke.random_init_model("nano", seed=3)
    reference = LlamaForCausalLM(model_shapes.build_config("nano"))  # transformers' own init
    assert model_shapes.count_parameters(model) == model_shapes.count_parameters(reference)
    for (name, tensor), (_, same) in zip(model.state_dict().items(), again.state_dict().items(),
                                         strict=True):
        assert torch.equal(tensor, same), name
    for name, buffer in reference.named_buffers():
        assert torch.equal(model.get_buffer(name), buffer), name  # to_empty left no garbage
    norm = model.model.norm.weight
    assert torch.equal(norm, torch.ones_like(norm))
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # tied
    assert 0.015 < float(model.model.layers[0].mlp.up_proj.weight.detach().std()) < 0.025


def test_smoke_config_changes_only_steps_batch_length_data_and_output(tmp_path):
    from smallretail_llm.training import smoke as train_smoke

    recipe = TrainConfig.from_yaml("training/configs/qwen3-1.7b.yaml")
    smoke = train_smoke.smoke_config(recipe, 2, tmp_path)
    changed = {k for k, v in smoke.to_dict().items() if v != recipe.to_dict()[k]}
    assert changed <= {"data", "output_dir", "max_steps", "batch_size", "grad_accum", "max_length",
                       "warmup_ratio", "eval_steps", "save_steps", "logging_steps"}
    assert (smoke.max_steps, smoke.batch_size, smoke.max_length) == (2, 1, 64)
    assert smoke.chat_template_kwargs == {"enable_thinking": False}  # the recipe's template path
    assert smoke.gradient_checkpointing and smoke.target_modules == "all-linear"


def test_smoke_flags_go_together():
    from typer.testing import CliRunner

    from smallretail_llm.cli import app

    for flags in (["--smoke-steps", "2"], ["--random-init"]):
        result = CliRunner().invoke(app, ["train", "training/configs/nano-cpu.yaml", *flags])
        assert result.exit_code == 2 and "--random-init" in result.output

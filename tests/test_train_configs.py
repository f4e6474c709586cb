"""Every training recipe loads into TrainConfig and names a model whose exact shape builds (no
weights, no hub) with LoRA attached; the config dataclass refuses typos and bad values."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import yaml
from accelerate.commands.config.config_args import ClusterConfig
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, LlamaForCausalLM

from smallretail_llm.models import llama_head_dim, nano
from smallretail_llm.models import shapes as model_shapes
from smallretail_llm.training import sft as training
from smallretail_llm.training.config import TrainConfig
from tiny_models import build_tokenizer

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "training" / "configs").glob("*.yaml"))
ACCELERATE = sorted((ROOT / "training" / "accelerate").glob("*.yaml"))
REQUIRED = {"nano", "Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct", "Qwen/Qwen3-1.7B",
            "kakaocorp/kanana-nano-2.1b-instruct",
            "naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B"}


def test_every_required_model_has_a_recipe():
    assert {TrainConfig.from_yaml(path).shape_name for path in CONFIGS} == REQUIRED


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_recipe_header_is_its_command_memory_and_source(path):
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    text = " ".join(header)
    assert header[0] == f"# smallretail train training/configs/{path.name}"
    assert "GPU" in text and ("GB" in text or "No GPU" in text)
    config = TrainConfig.from_yaml(path)
    if config.base_model == "nano":
        return
    assert "estimate" in text  # GPU memory stays an estimate until a GPU run measures it
    assert config.base_model in text and "licen" in text.lower()  # where the base comes from


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_recipe_builds_its_model_shape_with_lora(path):
    config = TrainConfig.from_yaml(path)
    shape = model_shapes.get_shape(config.shape_name)
    model = model_shapes.build_meta_model(config.shape_name)  # kanana too (llama_head_dim)
    counts = model_shapes.count_parameters(model)
    for kind, billions in shape.published_params.items():
        assert counts[kind] / 1e9 == pytest.approx(billions, rel=0.03), kind
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                      target_modules=config.target_modules, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)  # a misspelt target module fails here
    assert 0 < sum(p.numel() for p in peft_model.parameters() if p.requires_grad) < counts["total"]


def test_known_shapes_reproduce_exact_parameter_counts():
    model = model_shapes.build_meta_model("Qwen/Qwen2.5-0.5B-Instruct")
    assert model_shapes.count_parameters(model) == {"total": 494_032_768,
                                                    "non_embedding": 357_898_112}


def test_unverified_shapes_are_marked():
    shapes = model_shapes.load_shapes()
    assert not shapes["naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B"].verified
    assert all(s.verified for name, s in shapes.items() if "HyperCLOVAX" not in name)


def test_nano_shape_entry_matches_the_builder_defaults():
    config = model_shapes.get_shape("nano").config
    shape = nano.NanoShape()
    assert (config["vocab_size"], config["hidden_size"], config["intermediate_size"],
            config["num_hidden_layers"], config["num_attention_heads"],
            config["num_key_value_heads"], config["max_position_embeddings"]) == (
        shape.vocab_size, shape.hidden_size, shape.intermediate_size, shape.num_layers,
        shape.num_heads, shape.num_kv_heads, shape.context)


def test_unknown_model_shape_names_the_known_ones():
    with pytest.raises(model_shapes.UnknownModelShape, match="Qwen/Qwen3-1.7B"):
        model_shapes.get_shape("Qwen/Qwen3-17B")


@pytest.mark.parametrize("path", ACCELERATE, ids=lambda p: p.name)
def test_accelerate_configs_load(path):
    config = ClusterConfig.from_yaml_file(str(path))  # refuses unknown keys
    assert config.num_processes >= 2 and config.distributed_type.value in {
        "MULTI_GPU", "FSDP", "DEEPSPEED"}
    assert path.read_text(encoding="utf-8").startswith(
        f"# accelerate launch --config_file training/accelerate/{path.name}")


# ---------------------------------------------------------------- the dataclass itself

BASE = {"base_model": "nano", "data": "d", "output_dir": "o"}


def test_yaml_mirrors_the_dataclass(tmp_path):
    config = TrainConfig(**BASE, target_modules=["q_proj", "v_proj"], prompt_versions=["a.v1"])
    config.to_yaml(tmp_path / "c.yaml")
    assert TrainConfig.from_yaml(tmp_path / "c.yaml") == config
    assert set(yaml.safe_load((tmp_path / "c.yaml").read_text())) == {
        f.name for f in dataclasses.fields(TrainConfig)}


def test_typo_in_a_key_is_an_error():
    with pytest.raises(ValueError, match="알 수 없는 설정 키 lora_rank"):
        TrainConfig.from_dict({**BASE, "lora_rank": 8}, source="x.yaml")
    with pytest.raises(ValueError, match="필수 설정 키가 없습니다: output_dir"):
        TrainConfig.from_dict({"base_model": "nano", "data": "d"})


@pytest.mark.parametrize(("key", "value", "message"), [
    ("quantization", "8bit", "quantization"),
    ("precision", "bfloat16", "precision"),
    ("lora_r", 0, "lora_r"),
    ("lora_dropout", 1.5, "lora_dropout"),
    ("learning_rate", "fast", "learning_rate: 숫자"),
    ("target_modules", "all", "target_modules"),
    ("save_steps", 25, "배수"),
    ("lr_scheduler", "cosine_restarts", "lr_scheduler"),
    ("prompt_versions", "describe.v1", "prompt_versions"),
])
def test_bad_values_are_refused_with_the_field_name(key, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict({**BASE, "eval_steps": 10, key: value}, source="x.yaml")


def test_yaml_scientific_strings_become_numbers(tmp_path):
    (tmp_path / "c.yaml").write_text("base_model: nano\ndata: d\noutput_dir: o\nlearning_rate: 2e-4\n")
    assert TrainConfig.from_yaml(tmp_path / "c.yaml").learning_rate == 2e-4


def test_qlora_needs_a_gpu_precision():
    with pytest.raises(ValueError, match="4bit"):
        TrainConfig(**BASE, quantization="4bit", precision="fp32")


# ---------------------------------------------------------------- kanana: transformers#46082

KANANA = "kakaocorp/kanana-nano-2.1b-instruct"


def test_head_dim_workaround_names_the_upstream_bug_and_applies_only_where_needed():
    assert "transformers#46082" in llama_head_dim.__doc__ and "#46211" in llama_head_dim.__doc__
    kanana = dict(model_shapes.get_shape(KANANA).config)
    bug = not llama_head_dim.stock_llama_accepts_explicit_head_dim()
    assert llama_head_dim.needs_workaround(kanana) is bug  # unused once transformers is fixed
    implicit = {k: v for k, v in kanana.items() if k != "head_dim"}
    consistent = {**kanana, "hidden_size": 3072}  # 3072 / 24 = 128
    for values in (implicit, consistent, {**kanana, "model_type": "qwen3"}):
        assert not llama_head_dim.needs_workaround(values)
    assert type(model_shapes.build_config("nano")).__name__ == "LlamaConfig"


def test_kanana_exact_shape_builds_and_one_layer_of_it_loads_and_runs(tmp_path):
    config = model_shapes.build_config(KANANA)
    assert (config.hidden_size, config.intermediate_size, config.num_hidden_layers,
            config.num_attention_heads, config.num_key_value_heads, config.head_dim,
            config.vocab_size) == (1792, 8064, 32, 24, 8, 128, 128256)
    attention = model_shapes.build_meta_model(KANANA).model.layers[0].self_attn
    assert attention.q_proj.weight.shape == (24 * 128, 1792)
    assert attention.o_proj.weight.shape == (1792, 24 * 128)

    tokenizer = build_tokenizer()
    one_layer = {**model_shapes.get_shape(KANANA).config, "num_hidden_layers": 1,
                 "vocab_size": len(tokenizer)}
    torch.manual_seed(0)
    LlamaForCausalLM(llama_head_dim.build_config(one_layer)).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    model, _ = training.load_base(str(tmp_path))  # the recipe's loader, through the workaround
    ids = torch.tensor([tokenizer("국내산 사과 1kg")["input_ids"]])
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    assert logits.shape == (1, ids.shape[1], len(tokenizer)) and torch.isfinite(logits).all()
    if not llama_head_dim.stock_llama_accepts_explicit_head_dim():
        with pytest.raises(Exception, match="not a multiple"):
            AutoModelForCausalLM.from_pretrained(tmp_path)  # the bug the module works around

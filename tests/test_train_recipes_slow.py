"""Slow (`make test-slow`): every recipe in training/configs takes 2 optimizer steps on a
random-init model of its exact shape through `smallretail train --smoke-steps 2 --random-init`
(one subprocess per recipe, one at a time: the 2.1B shapes need ~10 GiB of RAM) and saves an
adapter that reloads to the trained logits; `accelerate launch` with the shipped DDP and FSDP
configs trains the nano recipe with 2 CPU processes (gloo) to the adapter a one-process run
with the same seed, data order and global batch gives.

The table in training/README.md comes from these runs (smoke_report.json of each).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from smallretail_llm.models import shapes as model_shapes
from smallretail_llm.training.config import TrainConfig
from smallretail_llm.training.sft import check_adapter
from tiny_models import build_tiny_model, build_tokenizer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "training" / "configs").glob("*.yaml"))
BIN = Path(sys.executable).parent
GIB = 2**30


def needed_bytes(shape_name: str) -> int:
    """fp32 weights (a tied embedding once) plus ~1.5 GiB for activations, logits over the
    vocabulary, LoRA/Adam state and the Python/torch runtime (measured: kanana 2.1B peaks
    within this)."""
    params = model_shapes.count_parameters(model_shapes.build_meta_model(shape_name))["total"]
    return int(params * 4 * 1.1 + 1.5 * GIB)


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    """The stand-in tokenizer: a small byte-level BPE with the nano model's ChatML template and
    EOS (the real nano tokenizer is built by `model build-nano`, minutes; not needed here)."""
    out = tmp_path_factory.mktemp("tokenizer")
    build_tokenizer().save_pretrained(out)
    return out


def run(args: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                            check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_recipe_trains_two_steps_on_its_exact_shape(path, tokenizer_dir, tmp_path):
    config = TrainConfig.from_yaml(path)
    need = needed_bytes(config.shape_name)
    available = psutil.virtual_memory().available
    if available < need:
        pytest.skip(f"{path.name}: needs ~{need / GIB:.1f} GiB free RAM, {available / GIB:.1f} GiB "
                    "available (the machine is shared); rerun when it is quieter")
    out = tmp_path / "smoke"
    run([str(BIN / "smallretail"), "train", str(path), "--smoke-steps", "2", "--random-init",
         "--tokenizer", str(tokenizer_dir), "--output-dir", str(out)], ROOT, timeout=3 * 3600)
    report = json.loads((out / "smoke_report.json").read_text(encoding="utf-8"))
    shape = model_shapes.get_shape(config.shape_name)
    assert report["steps"] == 2 and len(report["step_seconds"]) == 2
    for kind, billions in shape.published_params.items():
        if kind == "total":
            assert report["params"] / 1e9 == pytest.approx(billions, rel=0.03)
    assert 0 < report["trainable_params"] < report["params"] // 10
    assert report["precision"] == "fp32" and report["quantization_applied"] is False
    assert report["adapter_reload_max_abs_diff"] < 1e-4 < report["adapter_effect_max_abs_diff"]
    assert report["peak_rss_mb"] * 2**20 < need
    adapter = Path(report["adapter"])
    meta = check_adapter(adapter, ["answer.v1", "describe.v1"],
                         (adapter / "chat_template.jinja").read_text(encoding="utf-8"))
    assert meta["base_model"] == config.base_model and meta["base_weights"].startswith("random-init")
    assert (adapter / "adapter_model.safetensors").is_file()
    assert list((out / "checkpoints").glob("checkpoint-2"))


# ---------------------------------------------------------------- accelerate, 2 CPU processes

NAMES = ["사과", "김치", "현미", "참기름", "귤", "배", "감자", "쌀"]


@pytest.fixture(scope="module")
def nano_standin(tmp_path_factory):
    """A tiny random Llama with the stand-in tokenizer, and 8 short conversations (train only:
    with no eval split the adapter is the last step's, the same in every run)."""
    root = tmp_path_factory.mktemp("nano")
    base = build_tiny_model(root / "base", seed=0)
    (root / "data").mkdir()
    rows = [{"messages": [{"role": "user", "content": f"{n} 소개"},
                          {"role": "assistant", "content": f"국내산 {n}입니다."}],
             "slot_target": f"⟦origin⟧ {n}입니다.", "prompt_version": "describe.v1"} for n in NAMES]
    (root / "data" / "train.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return root, base


def nano_recipe(root: Path, base: Path, name: str, batch_size: int) -> Path:
    """training/configs/nano-cpu.yaml on the stand-in: 3 steps, no LoRA dropout (its masks are
    per-process random), `batch_size` per process."""
    config = replace(TrainConfig.from_yaml(ROOT / "training" / "configs" / "nano-cpu.yaml"),
                     base_model=str(base), data=str(root / "data"), output_dir=str(root / name),
                     max_steps=3, batch_size=batch_size, grad_accum=1, lora_dropout=0.0,
                     warmup_ratio=0.0, eval_steps=3, save_steps=3, logging_steps=1,
                     max_train_samples=None, max_eval_samples=None)
    path = root / f"{name}.yaml"
    config.to_yaml(path)
    return path


@pytest.fixture(scope="module")
def one_process(nano_standin):
    """The reference: one process with the global batch (2 processes x 2 = 4)."""
    root, base = nano_standin
    shutil.rmtree(root / "one", ignore_errors=True)
    run([str(BIN / "smallretail"), "train", str(nano_recipe(root, base, "one", 4))], ROOT, 600)
    return root / "one" / "adapter"


def logits(base: Path, adapter: Path) -> torch.Tensor:
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), adapter).eval()
    ids = torch.tensor([list(range(3, 40))])
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.mark.parametrize(("config", "overrides"), [
    ("ddp.yaml", []),
    # The shipped FSDP config syncs module states through an accelerator device; on CPU that
    # is switched off (every process loads the same weights anyway).
    ("fsdp.yaml", ["--fsdp_sync_module_states", "false", "--fsdp_cpu_ram_efficient_loading", "false"]),
])
def test_accelerate_two_cpu_processes_match_one_process(config, overrides, nano_standin, one_process):
    root, base = nano_standin
    name = config.removesuffix(".yaml")
    shutil.rmtree(root / name, ignore_errors=True)
    run([str(BIN / "accelerate"), "launch", "--config_file", f"training/accelerate/{config}",
         "--num_processes", "2", *overrides, str(BIN / "smallretail"), "train",
         str(nano_recipe(root, base, name, 2))], ROOT, 900)
    adapter = root / name / "adapter"
    report = json.loads((adapter / "train_report.json").read_text(encoding="utf-8"))
    reference = json.loads((one_process / "train_report.json").read_text(encoding="utf-8"))
    assert report["steps"] == 3 and report["epochs"] == reference["epochs"] == 1.5  # 2 x 2 / step
    assert report["input_tokens_seen"] == reference["input_tokens_seen"]
    assert sorted(p.name for p in adapter.iterdir()) == sorted(p.name for p in one_process.iterdir())
    trained, single = logits(base, adapter), logits(base, one_process)
    assert (trained - single).abs().max() < 1e-4
    assert (single - AutoModelForCausalLM.from_pretrained(base)(
        input_ids=torch.tensor([list(range(3, 40))])).logits).abs().max() > 1e-3

"""Models the bench measures: random-init stand-ins of the target shapes (GGUF files of them:
``export.gguf_file``).

Weights cannot be downloaded here, and speed and memory do not depend on what the weights are,
so a stand-in has the exact shape of the target (``model_shapes.yaml``) with random weights and
the nano tokenizer (its ids are all below every target's vocabulary size). Token counts come from
the nano tokenizer, not the target's own, and greedy outputs of a stand-in mean nothing.
Everything built is cached under ``SMALLRETAIL_HOME/bench``.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

from smallretail_llm.core.paths import home_dir

logger = logging.getLogger(__name__)



def bench_dir() -> Path:
    return home_dir() / "bench"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", name.lower()).strip("-")


def standin_dir(shape: str, tokenizer_dir: str | Path, root: Path | None = None) -> Path:
    """A saved random-init model of ``shape`` with the tokenizer of ``tokenizer_dir`` (built
    once; bf16 on disk to halve the size, the engine loads it as fp32)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from smallretail_llm.models.shapes import build_config

    out = (root or bench_dir() / "models") / slug(shape)
    if (out / "standin.json").is_file():
        return out
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
    config = build_config(shape)
    special = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
               "pad_token_id": tokenizer.pad_token_id}
    for key, value in special.items():
        setattr(config, key, value)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.generation_config = GenerationConfig(**special)
    tmp = out.with_name(out.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    for name in ("tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                 "chat_template.jinja", "special_tokens_map.json"):
        if (Path(tokenizer_dir) / name).is_file():
            shutil.copy(Path(tokenizer_dir) / name, tmp / name)
    (tmp / "standin.json").write_text(json.dumps(
        {"shape": shape, "weights": "random (seed 0)", "tokenizer": str(tokenizer_dir)}), "utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    logger.info("stand-in of %s written to %s", shape, out)
    return out


def standin_adapter(model_dir: str | Path, r: int = 16) -> Path:
    """A LoRA adapter for the stand-in at ``model_dir`` (rank ``r`` on every linear layer, as
    the recipes train; random B so it changes the output): what a shop's adapter costs at that
    shape. Built once, next to the model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    out = Path(model_dir).with_name(Path(model_dir).name + f"-lora-r{r}")
    if (out / "adapter_config.json").is_file():
        return out
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                                local_files_only=True)
    model = get_peft_model(base, LoraConfig(r=r, lora_alpha=2 * r, target_modules="all-linear",
                                            task_type="CAUSAL_LM"))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.01)
    tmp = out.with_name(out.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    logger.info("stand-in adapter written to %s", out)
    return out

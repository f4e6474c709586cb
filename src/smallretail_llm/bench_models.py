"""Models the bench measures: random-init stand-ins of the target shapes, and their GGUF files.

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
import subprocess
import sys
from pathlib import Path

from smallretail_llm.paths import home_dir

logger = logging.getLogger(__name__)

GGUF_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m")
_CONVERTER_TYPES = ("f32", "f16", "bf16", "q8_0")  # convert_hf_to_gguf.py writes these itself


def bench_dir() -> Path:
    return home_dir() / "bench"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", name.lower()).strip("-")


def standin_dir(shape: str, tokenizer_dir: str | Path, root: Path | None = None) -> Path:
    """A saved random-init model of ``shape`` with the tokenizer of ``tokenizer_dir`` (built
    once; bf16 on disk to halve the size, the engine loads it as fp32)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from smallretail_llm.model_shapes import build_config

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


def gguf_file(model_dir: str | Path, kind: str, out_dir: str | Path | None = None) -> Path | None:
    """``model_dir`` as a GGUF file of ``kind`` (cached in ``out_dir``, default the model's
    folder), made with the export command's converter; q4 kinds are quantized from f16 by
    llama.cpp itself. None (logged) when the converter or llama-cpp-python is missing."""
    from smallretail_llm.export import export_gguf

    if kind not in GGUF_TYPES:
        raise ValueError(f"알 수 없는 GGUF 형식입니다: '{kind}' (가능한 값: {', '.join(GGUF_TYPES)})")
    model_dir = Path(model_dir)
    folder = Path(out_dir) if out_dir else model_dir
    target = folder / f"model-{kind}.gguf"
    stamp = target.with_name(target.name + ".source")
    source_id = weights_id(model_dir)
    if target.is_file() and stamp.is_file() and stamp.read_text("utf-8") == source_id:
        return target
    target.unlink(missing_ok=True)  # made from other weights (e.g. a rebuilt nano model)
    folder.mkdir(parents=True, exist_ok=True)
    if kind in _CONVERTER_TYPES:
        made = export_gguf(model_dir, target, outtype=kind)
        if made is not None:
            stamp.write_text(source_id, "utf-8")
        return made
    source = gguf_file(model_dir, "f16", folder)
    if source is None:
        return None
    tmp = target.with_suffix(".tmp")
    # llama.cpp prints every tensor to the process's stdout: quantize in a child, output captured
    done = subprocess.run([sys.executable, "-c", _QUANTIZE, str(source), str(tmp), kind.upper()],
                          capture_output=True, text=True, check=False)
    if done.returncode == 3:
        logger.warning("llama-cpp-python 이 없어 GGUF %s 양자화를 건너뜁니다.", kind)
        return None
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"GGUF {kind} 양자화 실패: {source}: {done.stderr.strip()[-1500:]}")
    tmp.rename(target)
    stamp.write_text(source_id, "utf-8")
    return target


def weights_id(model_dir: Path) -> str:
    """Names, sizes and modification times of a model folder's weight files: a cached GGUF
    made from other weights is rebuilt, not silently reused."""
    files = sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin"))
    return json.dumps([[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files])


_QUANTIZE = """
import sys
try:
    import llama_cpp
except ImportError:
    sys.exit(3)
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = getattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_" + sys.argv[3])
sys.exit(1 if llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), params) else 0)
"""

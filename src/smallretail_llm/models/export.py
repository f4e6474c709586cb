"""Export a trained adapter: merge it into its base model (merge_and_unload) and save a plain
safetensors model + tokenizer that any transformers-based server loads without peft; optionally
convert that to GGUF for llama.cpp when its converter is installed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from smallretail_llm.core.paths import make_readable
from smallretail_llm.models.adapter import ADAPTER_META

logger = logging.getLogger(__name__)

GGUF_CONVERTER_ENV = "LLAMA_CPP_CONVERTER"
GGUF_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m")
_CONVERTER_TYPES = ("f32", "f16", "bf16", "q8_0")  # convert_hf_to_gguf.py writes these itself
_CONVERTER_NAMES = ("convert_hf_to_gguf.py", "convert-hf-to-gguf")


def export_merged(base: str, adapter: str | Path, out: str | Path, *, dtype: str = "auto") -> Path:
    """Merge `adapter` into `base` and save the result to `out`; returns `out`.

    The tokenizer (and chat template) come from the adapter folder, so the merged model
    renders prompts exactly as in training; the adapter's metadata is copied along so serving
    can still check the prompt version. `dtype` "auto" keeps the base checkpoint's dtype."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smallretail_llm.models.nano import resolve_model, save_tokenizer

    adapter, out = Path(adapter), Path(out)
    if not (adapter / "adapter_config.json").is_file():
        raise FileNotFoundError(f"어댑터 폴더가 아닙니다 (adapter_config.json 없음): {adapter}")
    base_path = resolve_model(base)
    torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch_dtype)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out)
    tokenizer_source = adapter if (adapter / "tokenizer_config.json").is_file() else base_path
    save_tokenizer(AutoTokenizer.from_pretrained(tokenizer_source), out)
    spm_model = Path(base_path) / "tokenizer.model"
    if spm_model.is_file():  # llama.cpp's converter reads the SentencePiece model itself
        shutil.copy2(spm_model, out / "tokenizer.model")
    if (adapter / ADAPTER_META).is_file():
        shutil.copy2(adapter / ADAPTER_META, out / ADAPTER_META)
    (out / "README.md").write_text(
        f"# Merged model\n\nBase `{base}` + LoRA adapter `{adapter}` merged with "
        f"`smallretail export` (peft merge_and_unload). Check `{ADAPTER_META}` for the prompt "
        "versions and chat template it was trained with.\n",
        encoding="utf-8",
    )
    make_readable(out)  # safetensors leaves 0600; a container user must read a mounted folder
    logger.info("merged model saved to %s", out)
    return out


def find_gguf_converter() -> Path | None:
    """llama.cpp's convert_hf_to_gguf.py: $LLAMA_CPP_CONVERTER, else on PATH, else the copy
    `make llama` unpacks under SMALLRETAIL_HOME/llama.cpp, else None."""
    from smallretail_llm.core.paths import home_dir

    configured = os.environ.get(GGUF_CONVERTER_ENV)
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for name in _CONVERTER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    unpacked = home_dir() / "llama.cpp" / _CONVERTER_NAMES[0]
    return unpacked if unpacked.is_file() else None


def export_gguf(model_dir: str | Path, outfile: str | Path | None = None, outtype: str = "f16") -> Path | None:
    """Convert a merged model folder to GGUF. Returns the file, or None (with a logged reason)
    when llama.cpp's converter is not installed: GGUF is optional."""
    converter = find_gguf_converter()
    model_dir = Path(model_dir)
    if converter is None:
        logger.warning(
            "GGUF 변환을 건너뜁니다: llama.cpp의 convert_hf_to_gguf.py를 찾을 수 없습니다. "
            "`make llama` 로 받거나 %s=<경로>/convert_hf_to_gguf.py 로 지정하세요. "
            "병합된 safetensors 모델은 %s 에 있습니다.",
            GGUF_CONVERTER_ENV,
            model_dir,
        )
        return None
    outfile = Path(outfile) if outfile else model_dir / f"model-{outtype}.gguf"
    command = [sys.executable, str(converter), str(model_dir), "--outfile", str(outfile),
               "--outtype", outtype]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"GGUF 변환 실패 ({converter}, 종료 코드 {done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    logger.info("GGUF written to %s", outfile)
    return outfile


def gguf_file(model_dir: str | Path, kind: str, out_dir: str | Path | None = None) -> Path | None:
    """``model_dir`` as a GGUF file of ``kind`` (cached in ``out_dir``, default the model's
    folder), made with the export command's converter; q4 kinds are quantized from f16 by
    llama.cpp itself. None (logged) when the converter or llama-cpp-python is missing."""
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

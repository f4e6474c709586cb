"""Export a trained adapter: merge it into its base model (merge_and_unload) and save a plain
safetensors model + tokenizer that any transformers-based server loads without peft; optionally
convert that to GGUF for llama.cpp when its converter is installed."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from smallretail_llm.adapter import ADAPTER_META

logger = logging.getLogger(__name__)

GGUF_CONVERTER_ENV = "LLAMA_CPP_CONVERTER"
_CONVERTER_NAMES = ("convert_hf_to_gguf.py", "convert-hf-to-gguf")


def export_merged(base: str, adapter: str | Path, out: str | Path, *, dtype: str = "auto") -> Path:
    """Merge `adapter` into `base` and save the result to `out`; returns `out`.

    The tokenizer (and chat template) come from the adapter folder, so the merged model
    renders prompts exactly as in training; the adapter's metadata is copied along so serving
    can still check the prompt version. `dtype` "auto" keeps the base checkpoint's dtype."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smallretail_llm.nano import resolve_model, save_tokenizer

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
    logger.info("merged model saved to %s", out)
    return out


def find_gguf_converter() -> Path | None:
    """llama.cpp's convert_hf_to_gguf.py: $LLAMA_CPP_CONVERTER, else on PATH, else the copy
    `make llama` unpacks under SMALLRETAIL_HOME/llama.cpp, else None."""
    from smallretail_llm.paths import home_dir

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

"""What an adapter folder records about its training (prompt versions, chat template hash, EOS,
base model, git commit, package versions) and the check serving runs before loading it: an
adapter trained on another prompt or template is refused, not silently served."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ADAPTER_META = "smallretail_adapter.json"
ADAPTER_NAME = "nano-lora"
"""The name `make demo` and the benches serve the nano's LoRA adapter under."""
_PACKAGES = ("torch", "transformers", "peft", "accelerate", "datasets", "tokenizers",
             "sentencepiece", "bitsandbytes", "smallretail-llm")


class AdapterMismatch(ValueError):
    """The adapter was trained with another prompt version or chat template."""


def chat_template_sha256(template: str | None) -> str:
    return hashlib.sha256((template or "").encode("utf-8")).hexdigest()


def write_adapter_metadata(
    adapter_dir: str | Path,
    prompt_versions: list[str],
    tokenizer: PreTrainedTokenizerBase,
    base_model: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Record what serving must match (prompt versions, chat template hash, EOS) and where the
    adapter came from (base model, git commit, package versions)."""
    adapter_dir = Path(adapter_dir)
    adapter_dir.mkdir(parents=True, exist_ok=True)
    template = tokenizer.chat_template
    (adapter_dir / "chat_template.jinja").write_text(template or "", encoding="utf-8")
    meta = {
        "prompt_versions": sorted(prompt_versions),
        "chat_template_sha256": chat_template_sha256(template),
        "eos_token": tokenizer.eos_token,
        "eos_token_id": tokenizer.eos_token_id,
        "base_model": base_model,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in _PACKAGES},
        "created_unix": int(time.time()),
        **(extra or {}),
    }
    path = adapter_dir / ADAPTER_META
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def check_adapter(
    adapter_dir: str | Path,
    expected_prompt_version: str | Iterable[str],
    chat_template: str | None = None,
) -> dict[str, Any]:
    """Raise AdapterMismatch unless the adapter was trained with every expected prompt version
    (e.g. "describe.v1") and, when given, this chat template. Returns the adapter metadata."""
    path = Path(adapter_dir) / ADAPTER_META
    if not path.is_file():
        raise AdapterMismatch(f"어댑터 메타데이터가 없습니다: {path} (smallretail train으로 만든 어댑터가 아님)")
    meta = json.loads(path.read_text(encoding="utf-8"))
    expected = [expected_prompt_version] if isinstance(expected_prompt_version, str) else list(
        expected_prompt_version)
    trained = meta.get("prompt_versions", [])
    missing = [v for v in expected if v not in trained]
    if missing:
        raise AdapterMismatch(
            f"어댑터의 프롬프트 버전이 다릅니다: 서버 {', '.join(missing)}, 어댑터 "
            f"{', '.join(trained) or '없음'} ({adapter_dir}). 지금 프롬프트로 다시 학습하세요."
        )
    if chat_template is not None and meta.get("chat_template_sha256") != chat_template_sha256(chat_template):
        raise AdapterMismatch(
            f"어댑터를 학습할 때의 채팅 템플릿과 지금 토크나이저의 템플릿이 다릅니다 ({adapter_dir})."
        )
    return meta


def load_adapter_checked(
    model: PreTrainedModel,
    adapter_dir: str | Path,
    expected_prompt_version: str | Iterable[str],
    tokenizer: PreTrainedTokenizerBase | None = None,
) -> PeftModel:
    """Attach a LoRA adapter only if it was trained for this prompt version (and, when a
    tokenizer is given, with its chat template); else raise AdapterMismatch."""
    from peft import PeftModel

    check_adapter(adapter_dir, expected_prompt_version,
                  tokenizer.chat_template if tokenizer is not None else None)
    return PeftModel.from_pretrained(model, str(adapter_dir))


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None

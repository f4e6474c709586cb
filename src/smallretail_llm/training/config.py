"""The LoRA fine-tuning config: one dataclass, mirrored by each YAML in training/configs/.

Each field is documented once, here, and checked in `__post_init__`, so a typo or an
impossible value fails when the YAML is loaded, not an hour into a GPU run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

QUANTIZATIONS = ("none", "4bit")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
TARGETS = ("text", "slots")


@dataclass
class TrainConfig:
    """LoRA SFT settings. Paths are relative to the working directory the command runs in."""

    # --- what to train ---
    base_model: str
    """Hub id, local model folder, or "nano" (the built offline model, see nano.py)."""
    data: str
    """SFT data: a save_to_disk folder, a folder of {split}.jsonl files, or one .jsonl file."""
    output_dir: str
    """Run folder: checkpoints/ and the final adapter/ go here."""
    model_shape: str | None = None
    """Key in model_shapes.yaml that CI checks this config against; default: base_model."""
    prompt_versions: list[str] | None = None
    """Prompt versions the data must carry (e.g. [answer.v1, describe.v1]); default: the data's."""
    train_split: str = "train"
    eval_split: str = "validation"
    max_length: int = 1024
    """Longer examples are dropped (and counted), never cut: a cut example loses its EOS."""
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    targets: str = "text"
    """"text": learn the replies as written; "slots": learn them with value slots
    ("가격은 ⟦price_krw⟧이에요", the data's `slot_target`) that serving fills from the record, so
    every value is the record's own (slots.py). Saved in the adapter's metadata."""
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra chat template variables, e.g. {enable_thinking: false} for Qwen3."""
    trust_remote_code: bool = False

    # --- LoRA ---
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"
    """"all-linear" (every linear layer but the output head) or explicit module names."""
    quantization: str = "none"
    """"4bit" = QLoRA (bitsandbytes NF4), used only when CUDA is present."""
    gradient_checkpointing: bool = False
    precision: str = "auto"
    """"auto": bf16 (or fp16) on CUDA, fp32 on CPU. bf16/fp16 are refused on CPU."""

    # --- optimisation ---
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    num_epochs: float = 1.0
    max_steps: int = -1
    """Overrides num_epochs when > 0."""
    batch_size: int = 4
    """Per device."""
    grad_accum: int = 1
    eval_steps: int = 50
    save_steps: int = 50
    """Must be a multiple of eval_steps: the best checkpoint is picked by eval loss."""
    save_total_limit: int = 2
    logging_steps: int = 10
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("base_model", "data", "output_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"{name}: 비어 있을 수 없습니다 (문자열 경로/이름이 필요합니다).")
        # YAML reads "2e-4" (no dot) as a string: coerce numbers once, here.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", "int") and isinstance(value, str):
                setattr(self, f.name, _number(f.name, value, float if f.type == "float" else int))
        if isinstance(self.target_modules, list):
            if not self.target_modules or not all(isinstance(m, str) for m in self.target_modules):
                raise ValueError("target_modules: 모듈 이름 목록이나 \"all-linear\"여야 합니다.")
        elif self.target_modules != "all-linear":
            raise ValueError(f"target_modules: \"all-linear\" 또는 목록이어야 합니다 (받은 값: {self.target_modules!r}).")
        _choice("quantization", self.quantization, QUANTIZATIONS)
        _choice("precision", self.precision, PRECISIONS)
        _choice("lr_scheduler", self.lr_scheduler, SCHEDULERS)
        _choice("targets", self.targets, TARGETS)
        _positive("lora_r", self.lora_r)
        _positive("lora_alpha", self.lora_alpha)
        _positive("learning_rate", self.learning_rate)
        _positive("batch_size", self.batch_size)
        _positive("grad_accum", self.grad_accum)
        _positive("max_length", self.max_length)
        _positive("eval_steps", self.eval_steps)
        _positive("save_steps", self.save_steps)
        _positive("save_total_limit", self.save_total_limit)
        _positive("logging_steps", self.logging_steps)
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout: 0 이상 1 미만이어야 합니다 (받은 값: {self.lora_dropout}).")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio: 0 이상 1 미만이어야 합니다 (받은 값: {self.warmup_ratio}).")
        if self.max_steps <= 0 and self.num_epochs <= 0:
            raise ValueError("num_epochs 또는 max_steps 중 하나는 0보다 커야 합니다.")
        if self.save_steps % self.eval_steps:
            raise ValueError(
                f"save_steps({self.save_steps})는 eval_steps({self.eval_steps})의 배수여야 합니다: "
                "최적 체크포인트를 평가 손실로 고르기 때문입니다."
            )
        if self.quantization == "4bit" and self.precision == "fp32":
            raise ValueError("quantization: 4bit(QLoRA)는 precision auto/bf16/fp16과 함께 써야 합니다.")
        if self.prompt_versions is not None and (
            not isinstance(self.prompt_versions, list)
            or not all(isinstance(v, str) and v for v in self.prompt_versions)
        ):
            raise ValueError("prompt_versions: 버전 문자열 목록이어야 합니다 (예: [describe.v1]).")
        if not isinstance(self.chat_template_kwargs, dict):
            raise TypeError("chat_template_kwargs: 키-값 사전이어야 합니다.")

    @property
    def shape_name(self) -> str:
        return self.model_shape or self.base_model

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        """Build from a plain dict; unknown keys are errors (a typo must not be ignored)."""
        if not isinstance(data, dict):
            raise TypeError(f"{source}: 최상위가 키-값 사전이어야 합니다.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{source}: 알 수 없는 설정 키 {', '.join(unknown)}")
        missing = sorted(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in data
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        )
        if missing:
            raise ValueError(f"{source}: 필수 설정 키가 없습니다: {', '.join(missing)}")
        try:
            return cls(**data)
        except (ValueError, TypeError) as exc:  # one error type for every bad config
            raise ValueError(f"{source}: {exc}") from exc

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        text = Path(path).read_text(encoding="utf-8")
        return cls.from_dict(yaml.safe_load(text) or {}, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(
            yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )


def _number(name: str, value: str, kind: type) -> float | int:
    try:
        return kind(float(value)) if kind is int else kind(value)
    except ValueError:
        raise ValueError(f"{name}: 숫자여야 합니다 (받은 값: {value!r}).") from None


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: {', '.join(allowed)} 중 하나여야 합니다 (받은 값: {value!r}).")


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{name}: 0보다 큰 수여야 합니다 (받은 값: {value!r}).")

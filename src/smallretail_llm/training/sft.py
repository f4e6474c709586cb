"""LoRA supervised fine-tuning on chat `messages`: assistant-only labels, the base model's own
chat template, transformers' Trainer, and an adapter folder that records the prompt version
and chat template it was trained with, so serving can refuse a mismatch. The data side (reading
the splits, assistant-only labels, the collator) is in sft_data.py.

Multi-GPU: run the same command under `accelerate launch` (see training/README.md).
"""

from __future__ import annotations

import json
import logging
import resource
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smallretail_llm.models.adapter import (  # noqa: F401 - re-exported: the training API
    ADAPTER_META,
    AdapterMismatch,
    check_adapter,
    load_adapter_checked,
    write_adapter_metadata,
)
from smallretail_llm.training.config import TrainConfig
from smallretail_llm.training.sft_data import (
    IGNORE_INDEX,
    SFTCollator,
    load_sft_splits,
    resolve_prompt_versions,
    tokenize_split,
)

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- model

def resolve_precision(requested: str, *, cuda: bool, bf16_supported: bool) -> str:
    """fp32 on CPU (bf16 there is several times slower), bf16 or fp16 on CUDA."""
    if not cuda:
        if requested in ("bf16", "fp16"):
            raise ValueError(f"precision {requested}는 CPU에서 쓰지 않습니다: auto 또는 fp32로 두세요.")
        return "fp32"
    if requested == "auto":
        return "bf16" if bf16_supported else "fp16"
    if requested == "bf16" and not bf16_supported:
        raise ValueError("이 GPU는 bf16을 지원하지 않습니다: precision을 fp16 또는 auto로 두세요.")
    return requested


def load_base(
    name: str, *, precision: str = "fp32", quantization: str = "none", trust_remote_code: bool = False
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the base model and its tokenizer; "nano" means the locally built model."""
    import torch
    from transformers import AutoTokenizer

    from smallretail_llm.models import llama_head_dim
    from smallretail_llm.models.nano import resolve_model

    path = resolve_model(name)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": trust_remote_code}
    if quantization == "4bit":
        if not torch.cuda.is_available():
            logger.warning("4bit(QLoRA) needs CUDA; loading %s unquantized on CPU", name)
        else:
            from accelerate import PartialState
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype,
            )
            kwargs["device_map"] = {"": PartialState().local_process_index}
    # kanana: transformers#46082. The tokenizer may read config.json too, so both get it.
    config = llama_head_dim.load_config(path, trust_remote_code=trust_remote_code)
    extra = {} if config is None else {"config": config}
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code, **extra)
    model = llama_head_dim.from_pretrained(path, config, **kwargs)
    return model, prepare_tokenizer(tokenizer, name)


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase, name: str) -> PreTrainedTokenizerBase:
    """Refuse a tokenizer without a chat template; give it a pad token (padding is masked)."""
    if tokenizer.chat_template is None:
        raise ValueError(f"{name}: 채팅 템플릿이 없는 토크나이저입니다 (instruct 모델을 쓰세요).")
    if tokenizer.pad_token_id is None:  # padded positions are masked; any id will do
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def add_lora(model: PreTrainedModel, config: TrainConfig) -> PeftModel:
    """Wrap the model with fresh LoRA adapters; the base weights stay frozen."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if getattr(model, "is_loaded_in_4bit", False):
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing
        )
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


# ---------------------------------------------------------------- the run

def train(
    config: TrainConfig,
    resume: bool = False,
    *,
    base: tuple[PreTrainedModel, PreTrainedTokenizerBase] | None = None,
    callbacks: list | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Run LoRA SFT and return the adapter folder (output_dir/adapter).

    `base` replaces loading `config.base_model` (the smoke run passes a random-init model of
    the exact shape); the LoRA is then injected into that model in place. `callbacks` go to
    the Trainer; `metadata` is added to smallretail_adapter.json."""
    import dataclasses

    import torch
    from transformers import Trainer, TrainingArguments, set_seed

    from smallretail_llm.models.nano import save_tokenizer
    from smallretail_llm.models.shapes import ShapeNotLoadable, build_config, load_shapes

    if config.shape_name in load_shapes():  # fail in seconds on a shape transformers refuses
        try:
            build_config(config.shape_name)
        except ShapeNotLoadable as exc:
            raise ValueError(str(exc)) from exc
    out = Path(config.output_dir)
    checkpoints = out / "checkpoints"
    existing = sorted(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    if resume and not existing:
        raise FileNotFoundError(f"이어서 학습할 체크포인트가 없습니다: {checkpoints}")
    if existing and not resume:
        raise FileExistsError(
            f"{checkpoints}에 이전 체크포인트가 있습니다: --resume으로 이어서 하거나 폴더를 지우세요."
        )
    set_seed(config.seed)
    cuda = torch.cuda.is_available()
    precision = resolve_precision(
        config.precision, cuda=cuda, bf16_supported=cuda and torch.cuda.is_bf16_supported()
    )
    splits = load_sft_splits(config.data)
    if config.train_split not in splits:
        raise ValueError(f"학습 데이터에 '{config.train_split}' 분할이 없습니다: {list(splits)}")
    prompt_versions = resolve_prompt_versions(splits, config.prompt_versions)
    model, tokenizer = load_base(
        config.base_model,
        precision=precision,
        quantization=config.quantization,
        trust_remote_code=config.trust_remote_code,
    ) if base is None else (base[0], prepare_tokenizer(base[1], config.base_model))
    data = {}
    dropped = {}
    for role, name, limit in (("train", config.train_split, config.max_train_samples),
                              ("eval", config.eval_split, config.max_eval_samples)):
        if name not in splits:
            continue
        split = splits[name]
        if limit is not None:  # a seeded sample: the data is ordered by product
            split = split.shuffle(seed=config.seed).select(range(min(limit, len(split))))
        data[role], dropped[role] = tokenize_split(
            split, tokenizer, config.max_length, config.chat_template_kwargs, config.targets
        )
    if len(data["train"]) == 0:
        raise ValueError(f"max_length {config.max_length} 안에 들어가는 학습 예제가 없습니다.")
    has_eval = "eval" in data and len(data["eval"]) > 0
    if not has_eval:
        logger.warning("no '%s' split: training without eval loss or best checkpoint", config.eval_split)
    peft_model = add_lora(model, config)
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=config.eval_steps,
        eval_on_start=has_eval and not resume,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=has_eval,
        metric_for_best_model="eval_loss" if has_eval else None,
        greater_is_better=False,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not cuda,
        **_checkpointing_args(config.gradient_checkpointing, dataclasses.fields(TrainingArguments)),
        include_num_input_tokens_seen="non_padding",
        seed=config.seed,
        data_seed=config.seed,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,  # frozen base weights get no grads by design
    )
    trainer = Trainer(
        model=peft_model,
        args=args,
        train_dataset=data["train"],
        eval_dataset=data["eval"] if has_eval else None,
        data_collator=SFTCollator(tokenizer.pad_token_id, pad_to_multiple_of=8 if cuda else None),
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=True if resume else None)
    seconds = time.perf_counter() - started
    adapter_dir = out / "adapter"
    if trainer.is_fsdp_enabled:  # gather the sharded adapter into one file
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(adapter_dir))  # the best checkpoint when eval ran (loaded at end)
    if not trainer.is_world_process_zero():
        return adapter_dir
    save_tokenizer(tokenizer, adapter_dir)
    resolved = TrainConfig.from_dict({**config.to_dict(), "prompt_versions": prompt_versions})
    resolved.to_yaml(adapter_dir / "train_config.yaml")
    write_adapter_metadata(adapter_dir, prompt_versions, tokenizer, config.base_model,
                           {"precision": precision, "quantization": config.quantization,
                            "targets": config.targets, **(metadata or {})})
    start = (int(existing[-1].name.split("-")[-1]), json.loads(
        (existing[-1] / "trainer_state.json").read_text()).get("num_input_tokens_seen", 0)) \
        if resume else (0, 0)
    report = _report(trainer, seconds, data, dropped, start, cuda)
    (adapter_dir / "train_report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    logger.info("adapter saved to %s (%d steps, %.0f tokens/s)", adapter_dir,
                report["steps"], report["tokens_per_second"])
    return adapter_dir


def _checkpointing_args(enabled: bool, fields) -> dict[str, Any]:
    """Activation checkpointing under its current name (gradient_* is deprecated in 5.x)."""
    if not enabled:
        return {}
    name = "activation_checkpointing" if any(f.name == "activation_checkpointing" for f in fields) \
        else "gradient_checkpointing"
    return {name: True, f"{name}_kwargs": {"use_reentrant": False}}


def _report(trainer, seconds: float, data, dropped, start: tuple[int, int], cuda: bool) -> dict:
    """train_report.json; tokens/s counts this run's non-padding input tokens over its wall
    time (periodic evals included), so a resumed run is not credited with earlier tokens."""
    import torch

    state = trainer.state
    history = state.log_history
    examples = data["train"]
    tokens_per_epoch = sum(len(ids) for ids in examples["input_ids"])
    assistant_per_epoch = sum(sum(t != IGNORE_INDEX for t in lab) for lab in examples["labels"])
    tokens = state.num_input_tokens_seen
    return {
        "steps": state.global_step,
        "epochs": round(state.epoch or 0.0, 3),
        "resumed_from_step": start[0],
        "train_examples": len(examples),
        "eval_examples": len(data["eval"]) if "eval" in data else 0,
        "dropped_too_long": dropped,
        "tokens_per_epoch": tokens_per_epoch,
        "assistant_tokens_per_epoch": assistant_per_epoch,
        "input_tokens_seen": tokens,
        "train_seconds": round(seconds, 2),
        "tokens_per_second": round((tokens - start[1]) / max(seconds, 1e-9), 1),
        "loss_curve": [{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h],
        "eval_curve": [{"step": h["step"], "eval_loss": h["eval_loss"]}
                       for h in history if "eval_loss" in h],
        "best_checkpoint": state.best_model_checkpoint,
        "best_eval_loss": state.best_metric,
        "peak_memory_mb": round(
            torch.cuda.max_memory_allocated() / 2**20 if cuda
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_memory_kind": "cuda_allocated" if cuda else "process_rss",
    }

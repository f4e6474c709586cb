"""`smallretail train CONFIG --smoke-steps 2 --random-init`: a recipe's first optimizer steps on
a random-init model of its exact shape (every layer, real hidden sizes, the real vocabulary
size), through the same `training.train` path as a real run (LoRA targets, chat template,
precision, checkpoint, adapter metadata), so a recipe is known to run before a GPU is rented.

The model has no real weights, so the loss means nothing: the run checks the code path, the
peak memory and the seconds per step. Stand-ins, stated in smoke_report.json:
- tokenizer: the nano tokenizer (the built one, `--tokenizer DIR`, or one trained here on the
  smoke texts); its ids are a subset of the real vocabulary, whose size the model keeps;
- data: a few short synthetic conversations, batch 1, `SMOKE_MAX_LENGTH` tokens at most;
- weights: made on the meta device, then filled with N(0, 0.02) (norms 1, biases 0) from the
  recipe's seed: a 2.1B model initialises in seconds instead of minutes.
QLoRA recipes run their unquantized path on a CPU (4-bit needs CUDA, see training.load_base).
After training the adapter is reloaded with `load_adapter_checked` onto a freshly built base of
the same seed and must give the trained model's logits.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from smallretail_llm.training.config import TrainConfig

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

SMOKE_MAX_LENGTH = 64
INIT_STD = 0.02
_PRODUCTS = [("사과", "국내산"), ("김치", "전북"), ("현미", "철원"), ("참기름", "국산"), ("귤", "제주")]
REPORT = "smoke_report.json"


def smoke_examples(split: str) -> list[dict[str, Any]]:
    """Short conversations (answer/describe prompts) that fit SMOKE_MAX_LENGTH tokens."""
    rows = []
    for i, (name, origin) in enumerate(_PRODUCTS if split == "train" else _PRODUCTS[:2]):
        if i % 2:
            user, reply, version = f"{name} 원산지는?", f"{origin}입니다.", "answer.v1"
        else:
            user, reply, version = f"{name} 소개", f"{origin} {name}입니다.", "describe.v1"
        rows.append({"messages": [{"role": "user", "content": user},
                                  {"role": "assistant", "content": reply}],
                     "slot_target": f"⟦origin⟧ {name}입니다." if i % 2 == 0 else "⟦origin⟧입니다.",
                     "prompt_version": version})  # slot_target: for `targets: slots` recipes
    return rows


def write_smoke_data(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "validation"):
        lines = [json.dumps(row, ensure_ascii=False) for row in smoke_examples(split)]
        (out / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def smoke_config(config: TrainConfig, steps: int, output_dir: Path) -> TrainConfig:
    """The recipe with only what a smoke run must change: steps, batch, length, data, output."""
    return replace(config, data=str(output_dir / "data"), output_dir=str(output_dir),
                   max_steps=steps, batch_size=1, grad_accum=1, max_length=SMOKE_MAX_LENGTH,
                   max_train_samples=None, max_eval_samples=None, warmup_ratio=0.0,
                   eval_steps=steps, save_steps=steps, logging_steps=1)


def random_init_model(shape_name: str, seed: int) -> PreTrainedModel:
    """`shape_name`'s exact model with cheap seeded random weights (same seed, same weights)."""
    import torch

    from smallretail_llm.models.shapes import build_meta_model

    model = build_meta_model(shape_name).to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.zero_()
            elif param.ndim == 1:  # RMSNorm scales
                param.fill_(1.0)
            else:
                param.normal_(0.0, INIT_STD, generator=generator)
    _rebuild_rotary(model)
    model.tie_weights()
    return model.eval()


def _rebuild_rotary(model: PreTrainedModel) -> None:
    """to_empty leaves buffers as garbage: the only ones are the rotary inverse frequencies,
    recomputed by building those (weightless) modules again on the CPU."""
    rebuilt = set()
    for name, module in list(model.named_modules()):
        if hasattr(module, "inv_freq") and hasattr(module, "config"):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, type(module)(config=module.config))
            rebuilt.add(name)
    left = [n for n, _ in model.named_buffers() if n.rpartition(".")[0] not in rebuilt]
    if left:
        raise RuntimeError(f"random init: buffers not rebuilt after to_empty: {left[:5]}")


def stand_in_tokenizer(tokenizer_dir: str | None, out: Path) -> tuple[PreTrainedTokenizerBase, str]:
    """The nano tokenizer: `tokenizer_dir`, else the built nano model's, else one trained here."""
    from transformers import AutoTokenizer

    from smallretail_llm.models import nano

    if tokenizer_dir is None and (nano.default_nano_dir() / "tokenizer_config.json").is_file():
        tokenizer_dir = str(nano.default_nano_dir())
    if tokenizer_dir is not None:
        if not Path(tokenizer_dir).is_dir():
            raise FileNotFoundError(f"토크나이저 폴더가 없습니다: {tokenizer_dir}")
        return AutoTokenizer.from_pretrained(tokenizer_dir), str(tokenizer_dir)
    texts = [m["content"] for split in ("train", "validation")
             for row in smoke_examples(split) for m in row["messages"]]
    return nano.train_tokenizer(texts, out / "tokenizer", vocab_size=400), "nano tokenizer trained on the smoke texts"


def _step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall and CPU (all threads) seconds of each optimizer step (forward, backward,
        update): on shared cores the wall time swings with the load, the CPU time much less."""

        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.cpu_seconds: list[float] = []
            self._start = (0.0, 0.0)

        def on_step_begin(self, args, state, control, **kwargs):
            self._start = (time.perf_counter(), time.process_time())

        def on_step_end(self, args, state, control, **kwargs):
            self.seconds.append(round(time.perf_counter() - self._start[0], 3))
            self.cpu_seconds.append(round(time.process_time() - self._start[1], 3))

    return StepTimer()


def run_smoke(config: TrainConfig, steps: int, output_dir: str | Path,
              tokenizer_dir: str | None = None) -> dict[str, Any]:
    """Train `steps` optimizer steps on the random-init exact shape; write and return the report."""
    import gc

    import torch

    from smallretail_llm.models.shapes import count_parameters
    from smallretail_llm.training import sft as training

    if steps <= 0:
        raise ValueError(f"--smoke-steps는 1 이상이어야 합니다 (받은 값: {steps}).")
    out = Path(output_dir)
    cfg = smoke_config(config, steps, out)
    write_smoke_data(out / "data")
    tokenizer, tokenizer_source = stand_in_tokenizer(tokenizer_dir, out)
    cuda = torch.cuda.is_available()
    started = time.perf_counter()
    model = random_init_model(cfg.shape_name, cfg.seed)
    init_seconds = time.perf_counter() - started
    counts = count_parameters(model)
    # typed nn.Module by transformers; a causal LM's input embedding is an nn.Embedding
    vocab = cast("torch.nn.Embedding", model.get_input_embeddings()).num_embeddings
    if len(tokenizer) > vocab:
        raise ValueError(f"대역 토크나이저({len(tokenizer)})가 {cfg.shape_name}의 어휘보다 큽니다.")
    if config.quantization == "4bit" and not cuda:
        logger.warning("%s: 4-bit (QLoRA) needs CUDA; the smoke run trains the unquantized path",
                       cfg.shape_name)
    timer = _step_timer()
    adapter = training.train(cfg, base=(model, tokenizer), callbacks=[timer],
                             metadata={"base_weights": "random-init (smoke run)"})
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    ids = _probe_ids(tokenizer, cfg)
    with torch.no_grad():
        trained_logits = model.eval()(input_ids=ids).logits
    del model  # the reload builds the base again: one model in memory at a time
    gc.collect()
    reload_diff, adapter_effect = _reload_difference(trained_logits, ids, tokenizer, adapter, cfg)
    train_report = json.loads((adapter / "train_report.json").read_text(encoding="utf-8"))
    report = {
        "recipe": config.base_model,
        "shape": cfg.shape_name,
        "steps": train_report["steps"],
        "params": counts["total"],
        "trainable_params": trainable,
        "seconds_per_step": statistics.median(timer.seconds),
        "step_seconds": timer.seconds,
        "cpu_seconds_per_step": statistics.median(timer.cpu_seconds),
        "step_cpu_seconds": timer.cpu_seconds,
        "init_seconds": round(init_seconds, 1),
        "train_seconds": train_report["train_seconds"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "precision": json.loads((adapter / training.ADAPTER_META).read_text())["precision"],
        "quantization": config.quantization,
        "quantization_applied": config.quantization == "4bit" and cuda,
        "gradient_checkpointing": config.gradient_checkpointing,
        "max_length": SMOKE_MAX_LENGTH,
        "batch_size": 1,
        "vocab": f"model {vocab} (real size); "
                 f"tokenizer {len(tokenizer)} ids ({tokenizer_source})",
        "adapter": str(adapter),
        "adapter_reload_max_abs_diff": reload_diff,
        "adapter_effect_max_abs_diff": adapter_effect,
        "torch_threads": torch.get_num_threads(),
        "load_average": list(os.getloadavg()),
        "device": "cuda" if cuda else "cpu",
    }
    (out / REPORT).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report


def _probe_ids(tokenizer, cfg: TrainConfig):
    import torch

    text = tokenizer.apply_chat_template(smoke_examples("validation")[0]["messages"], tokenize=False,
                                         **cfg.chat_template_kwargs)
    return torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])


def _reload_difference(trained_logits, ids, tokenizer, adapter: Path, cfg: TrainConfig):
    """Max |logit difference| between the trained model and (1) the saved adapter loaded with
    load_adapter_checked onto a base rebuilt from the same seed, (2) that base without the
    adapter: (1) must be ~0 and (2) not, or the check compared base with base."""
    import torch

    from smallretail_llm.training import sft as training

    versions = json.loads((adapter / training.ADAPTER_META).read_text())["prompt_versions"]
    reloaded = training.load_adapter_checked(random_init_model(cfg.shape_name, cfg.seed),
                                             adapter, versions, tokenizer).eval()
    with torch.no_grad():
        diff = float((reloaded(input_ids=ids).logits - trained_logits).abs().max())
        with reloaded.disable_adapter():
            effect = float((reloaded(input_ids=ids).logits - trained_logits).abs().max())
    return diff, effect

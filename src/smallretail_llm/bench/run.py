"""Speed and memory bench: engines, server and LoRA training, in one run, on this machine.

    python -m smallretail_llm.bench [--quick] [--out eval/reports] [--parts engine,server,training]

``run_bench`` writes ``bench.json`` and ``bench.md`` to ``out_dir`` and returns the JSON dict.
- engine: the nano model and random-init stand-ins of Qwen2.5-0.5B and Qwen2.5-1.5B
  (``bench.standins``), each with transformers fp32, transformers int8 and llama.cpp GGUF when
  installed; the median-length prompt of the real dataset (``bench.cases`` says what is timed);
- the memory-bandwidth ceiling, measured in the same run: decode at batch 1 reads every weight
  once per token, so ``bandwidth / bytes per token`` bounds it; each result is given as a
  fraction of the ceiling of its own weight format;
- server and training: ``bench.server`` and ``bench.cases.training_case``.
Each measurement runs in its own process. What is not installed or not built is skipped with the
reason in the report. Timings on shared 2-core VMs swing 2x: run it alone; figures are medians
over repeats, and ratios compare rows of one run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smallretail_llm.bench.cases import RESULT_MARK
from smallretail_llm.bench.standins import bench_dir, slug, standin_dir
from smallretail_llm.core.paths import home_dir
from smallretail_llm.models.export import gguf_file
from smallretail_llm.serving.engines.local_engine import shared_prefix

logger = logging.getLogger(__name__)

NANO = "nano"
SHAPES = ("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct")
TARGET_SHAPE = SHAPES[0]
PARTS = ("engine", "server", "training")
CASE_TIMEOUT_S = 3600


def measure_bandwidth(mib: int = 1024, repeats: int = 5) -> float:
    """Memory read bandwidth in GB/s: the median time of summing a buffer far larger than the
    caches, with torch's threads (the ones inference uses)."""
    import torch

    buffer = torch.ones(mib * 2**20 // 4)
    buffer.sum()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        buffer.sum()
        times.append(time.perf_counter() - start)
    return round(buffer.nbytes / statistics.median(times) / 1e9, 2)


def machine_info() -> dict[str, Any]:
    import torch

    flags = ""
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = line
                break
    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "simd": [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8")
                     if f" {f}" in flags],
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    for line in Path("/proc/cpuinfo").read_text().splitlines() if flags else []:
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    for package in ("transformers", "peft", "llama_cpp"):
        try:
            info[package] = __import__(package).__version__
        except ImportError:
            info[package] = None
    return info


def run_case(spec: dict[str, Any], timeout_s: float = CASE_TIMEOUT_S) -> dict[str, Any]:
    """Run one ``bench.cases`` spec in a child process; errors come back as {"error": ...}."""
    command = [sys.executable, "-m", "smallretail_llm.bench.cases", json.dumps(spec)]
    logger.info("case %s", spec.get("label"))
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"시간 초과 ({timeout_s:.0f}초)"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
            result["case_s"] = round(time.perf_counter() - started, 1)
            return result
    return {"error": f"종료 코드 {done.returncode}: {done.stderr.strip()[-1500:]}"}


# -- prompts ---------------------------------------------------------------------------------


def pick_prompts(data_dir: Path, tokenizer_dir: Path) -> dict[str, Any]:
    """The median-length prompt of the dataset (test split, chat template applied) and two
    real neighbours: another product of the same shop, same task (shares the system prompt and
    the shop policy: answer.v2 puts the policy first), and the same product's prompt with the
    longest shared start (another question or tone)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
    split = data_dir / "test.jsonl"
    rows = [json.loads(line) for line in split.read_text(encoding="utf-8").splitlines() if line]

    def ids_of(row: dict) -> list[int]:
        text = tokenizer.apply_chat_template(prompt_of(row), add_generation_prompt=True,
                                             tokenize=False)
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    ids = [ids_of(row) for row in rows]
    lengths = sorted((len(row_ids), i) for i, row_ids in enumerate(ids))
    median_len, median_i = lengths[len(lengths) // 2]
    median = rows[median_i]
    others = [i for i, r in enumerate(rows) if r["task"] == median["task"]
              and r.get("shop_id") == median.get("shop_id")
              and r["product_key"] != median["product_key"]]
    other = min(others, key=lambda i: abs(len(ids[i]) - median_len), default=None)
    siblings = [i for i, r in enumerate(rows) if r["task"] == median["task"]
                and r["product_key"] == median["product_key"] and ids[i] != ids[median_i]]
    sibling = max(siblings, key=lambda i: shared_prefix(ids[i], ids[median_i]), default=None)
    messages = {"median": prompt_of(median),
                "same_shop": None if other is None else prompt_of(rows[other]),
                "same_product": None if sibling is None else prompt_of(rows[sibling])}
    return {
        "split": str(split), "rows": len(rows), "task": median["task"],
        "median_tokens": median_len, "median_chars": sum(len(m["content"])
                                                        for m in prompt_of(median)),
        "p10_tokens": lengths[len(lengths) // 10][0], "p90_tokens": lengths[9 * len(lengths) // 10][0],
        "shared_tokens_same_shop": None if other is None else shared_prefix(ids[other], ids[median_i]),
        "shared_tokens_same_product": None if sibling is None else shared_prefix(ids[sibling],
                                                                          ids[median_i]),
        "messages": messages,
    }


def prompt_of(row: dict) -> list[dict[str, str]]:
    return [m for m in row["messages"] if m["role"] != "assistant"]


# -- engine plan -----------------------------------------------------------------------------


def engine_plan(quick: bool, llama: bool) -> list[dict[str, Any]]:
    """(model, engine variant, batch sizes) rows; quick keeps the rows the targets need."""
    all_batches = [1, 4, 8, 16]
    plan = [
        (NANO, "fp32", all_batches), (NANO, "int8", all_batches), (NANO, "q8_0", all_batches),
        (TARGET_SHAPE, "fp32", [1, 16] if quick else all_batches),
        (TARGET_SHAPE, "int8", [1, 16] if quick else all_batches),
        (TARGET_SHAPE, "q8_0", [1, 16] if quick else all_batches), (TARGET_SHAPE, "q4_0", [1]),
        (SHAPES[1], "fp32", [1] if quick else [1, 4]),
        (SHAPES[1], "int8", [1] if quick else all_batches),
        (SHAPES[1], "q8_0", [1]), (SHAPES[1], "q4_0", [1]),
    ]
    if quick:
        plan = [p for p in plan if p[1] != "q4_0" or p[0] == TARGET_SHAPE]
    return [{"model": m, "variant": v, "batches": b} for m, v, b in plan
            if llama or v in ("fp32", "int8")]


def engine_spec(row: dict, model_dir: Path, nano_dir: Path, prompts: dict, quick: bool
                ) -> dict[str, Any] | str:
    """The child spec of a plan row, or why it is skipped. Stand-ins use the nano tokenizer
    (``nano_dir``): transformers would load a Qwen tokenizer class for a Qwen config."""
    variant = row["variant"]
    spec: dict[str, Any] = {
        "kind": "engine", "label": f"{row['model']} {variant}", "model_dir": str(model_dir),
        "tokenizer_dir": str(nano_dir),
        "batches": row["batches"], "repeats": 1 if quick else 3,
        "new_tokens": 16 if quick else 32, "prompts": prompts["messages"],
    }
    if variant in ("fp32", "int8"):
        spec.update(engine="transformers", quantize=None if variant == "fp32" else "int8")
        return spec
    gguf = gguf_file(model_dir, variant, bench_dir() / "gguf" / slug(row["model"]))
    if gguf is None:
        return "GGUF 변환기(LLAMA_CPP_CONVERTER)가 없어 건너뜀"
    spec.update(engine="llama", gguf=str(gguf))
    return spec


def summarize_engine(row: dict, result: dict, bandwidth: float, baseline: dict | None) -> dict:
    """Ceiling and ratios for one engine row (``baseline``: transformers fp32 of its model)."""
    bytes_per_token = result["weight_bytes"] + result["kv_bytes_per_step"]
    ceiling = bandwidth * 1e9 / bytes_per_token
    decode1 = result["decode_tok_s"].get("1")
    summary = {"ceiling_tok_s": round(ceiling, 1),
               "bytes_per_token_mb": round(bytes_per_token / 2**20, 1)}
    summary["fraction_of_ceiling"] = {
        b: round(rate / (int(b) * ceiling), 3) for b, rate in result["decode_tok_s"].items()}
    if baseline and decode1 and baseline.get("decode_tok_s", {}).get("1"):
        summary["x_fp32_b1"] = round(decode1 / baseline["decode_tok_s"]["1"], 2)
        ref, got = baseline.get("greedy_tokens", []), result.get("greedy_tokens", [])
        summary["greedy_same_tokens"] = f"{shared_prefix(ref, got)}/{len(ref)}"
    return summary


def run_engines(quick: bool, nano_dir: Path, prompts: dict, bandwidth: float) -> list[dict]:
    try:
        import llama_cpp  # noqa: F401
        llama = True
    except ImportError:
        llama = False
        logger.warning("llama-cpp-python 이 없어 llama.cpp 행을 건너뜁니다 (pip install '.[llama]').")
    rows = []
    baselines: dict[str, dict] = {}
    for row in engine_plan(quick, llama):
        model_dir = nano_dir if row["model"] == NANO else standin_dir(row["model"], nano_dir)
        spec = engine_spec(row, model_dir, nano_dir, prompts, quick)
        entry = {"model": row["model"], "variant": row["variant"],
                 "engine": "llama.cpp" if row["variant"] not in ("fp32", "int8") else "transformers"}
        if isinstance(spec, str):
            rows.append({**entry, "skipped": spec})
            continue
        result = run_case(spec)
        if "error" not in result:
            if row["variant"] == "fp32":
                baselines[row["model"]] = result
            result.update(summarize_engine(row, result, bandwidth, baselines.get(row["model"])))
        rows.append({**entry, **result})
    if not llama:
        rows.append({"model": "*", "variant": "gguf", "engine": "llama.cpp",
                     "skipped": "llama-cpp-python 미설치 (pip install '.[llama]')"})
    return rows


def run_profile(quick: bool, nano_dir: Path, prompts: dict) -> dict:
    spec = {"kind": "profile", "label": f"{TARGET_SHAPE} int8 profile", "engine": "transformers",
            "quantize": "int8", "model_dir": str(standin_dir(TARGET_SHAPE, nano_dir)),
            "tokenizer_dir": str(nano_dir),
            "batches": [1], "prompts": prompts["messages"], "steps": 8 if quick else 16}
    return run_case(spec)


def run_training(quick: bool, nano_dir: Path) -> list[dict]:
    import torch

    rows = []
    plan = [(NANO, nano_dir, 4, 256, 3), (TARGET_SHAPE, None, *((1, 128, 1) if quick else (4, 256, 2)))]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for model, path, batch, seq, steps in plan:
            model_dir = path or standin_dir(model, nano_dir)
            spec = {"kind": "training", "label": f"LoRA {model} {device}", "model_dir": str(model_dir),
                    "device": device, "batch": batch, "seq": seq, "steps": steps}
            rows.append({"model": model, **run_case(spec)})
    if "cuda" not in devices:
        rows.append({"model": "*", "device": "cuda", "skipped": "이 머신에 GPU(CUDA)가 없음"})
    return rows


# -- the run ---------------------------------------------------------------------------------


def run_bench(out_dir: str | Path = "eval/reports", quick: bool = False, *,
              parts: Sequence[str] = PARTS, nano_dir: str | Path | None = None,
              data_dir: str | Path | None = None) -> dict[str, Any]:
    """Run the bench, write ``bench.json`` and ``bench.md`` to ``out_dir``, return the dict.
    ``quick`` keeps the rows the targets need, with fewer tokens and one repeat."""
    from smallretail_llm.bench.report import check_targets, render_markdown
    from smallretail_llm.bench.server import run_server_bench

    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"알 수 없는 벤치 항목: {', '.join(sorted(unknown))} (가능: {', '.join(PARTS)})")
    started = time.perf_counter()
    nano_dir = Path(nano_dir) if nano_dir else home_dir() / "models" / NANO
    data_dir = Path(data_dir) if data_dir else home_dir() / "data" / "sample"
    report: dict[str, Any] = {"quick": quick, "machine": machine_info(), "skipped": []}
    if not (nano_dir / "config.json").is_file() or not (data_dir / "test.jsonl").is_file():
        report["skipped"].append(
            f"nano 모델({nano_dir}) 또는 데이터셋({data_dir})이 없어 모델 벤치를 건너뜀: "
            "`smallretail demo --no-serve` (make train) 로 먼저 만드세요.")
        parts = []
    bandwidth: list[float | None] = [measure_bandwidth()] if parts else [None]
    if "engine" in parts:
        prompts = pick_prompts(data_dir, nano_dir)
        report["prompts"] = {k: v for k, v in prompts.items() if k != "messages"}
        start = bandwidth[0]
        assert start is not None  # measured: parts is not empty
        report["engines"] = run_engines(quick, nano_dir, prompts, start)
        report["profile"] = run_profile(quick, nano_dir, prompts)
    if "server" in parts:
        report["server"] = run_server_bench(quick=quick, nano_dir=nano_dir)
    if "training" in parts:
        report["training"] = run_training(quick, nano_dir)
    bandwidth.append(measure_bandwidth() if parts else None)
    report["bandwidth_gb_s"] = {"start": bandwidth[0], "end": bandwidth[-1]}
    report["targets"] = check_targets(report)
    report["bench_s"] = round(time.perf_counter() - started, 1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    (out / "bench.md").write_text(render_markdown(report), "utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="smallretail speed/memory bench")
    parser.add_argument("--quick", action="store_true", help="fewer rows, tokens and repeats")
    parser.add_argument("--out", default="eval/reports")
    parser.add_argument("--parts", default=",".join(PARTS))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    report = run_bench(args.out, args.quick, parts=[p for p in args.parts.split(",") if p])
    logger.info("bench written to %s (%.0f s)", args.out, report["bench_s"])


if __name__ == "__main__":
    main()

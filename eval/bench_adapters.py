"""python eval/bench_adapters.py [--model DIR] [--adapter DIR] [--adapters 4] [--tokens 48] [--repeats 9] [--standin]

What a batch that mixes LoRA adapters costs against the same batch on one adapter (issue 17:
each shop may serve its own adapter, and the batcher puts their requests in one batch). The
engine loads the same trained adapter under `--adapters` names (shops' adapters have the same
shape, which is all the cost depends on); a batch of 8 answer prompts of held-out products runs
all on one name, then spread over all names, greedy, a fixed number of new tokens (EOS
ignored), in turn for `repeats` runs; reports medians and the mixed/single ratio from the same
run. Default: the built nano and its LoRA adapter. With --standin (what `make bench` runs) the
same again on the random-init stand-in of Qwen2.5-0.5B's shape with a random rank-16 adapter
on every linear layer (`bench.standins.standin_adapter`), 5 repeats. Both rows run the engine's
own path (`mixed_lora.py`; one adapter: no row mask). Writes eval/reports/adapters_bench.json.
Target (issue 17): mixed <= 1.10 x single.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from dataclasses import replace
from pathlib import Path

from bench_constrained import timed, write_report  # eval/ is the script's own folder

from smallretail_llm.core.paths import home_dir
from smallretail_llm.data.prompts import render_answer
from smallretail_llm.evaluation.cases import load_catalog, split_cases
from smallretail_llm.serving.engines.batching import BatchingConfig
from smallretail_llm.serving.engines.engine import GenerationRequest
from smallretail_llm.serving.engines.hf_engine import TransformersEngine

OUT = Path(__file__).resolve().parent / "reports" / "adapters_bench.json"
TARGET_RATIO = 1.10
BATCH = 8


def prompts(n: int, tokens: int) -> list[GenerationRequest]:
    _, answers = split_cases(load_catalog(None), "test")
    return [GenerationRequest(messages=render_answer(c.record, c.question, c.policy),
                              max_new_tokens=tokens, ignore_eos=True)
            for c in answers[::max(1, len(answers) // n)][:n]]


async def main_async(args) -> dict:
    report = await measure(args.model, args.adapter, args, args.repeats)
    if args.standin:
        from smallretail_llm.bench.run import TARGET_SHAPE
        from smallretail_llm.bench.standins import standin_adapter, standin_dir

        model = standin_dir(TARGET_SHAPE, args.model)
        report["standin"] = await measure(model, standin_adapter(model), args, 5)
        report["standin"]["model"] = f"{TARGET_SHAPE} shape, random weights, fp32 ({model})"
    report["met"] = report["mixed_over_single"] <= TARGET_RATIO
    return report


async def measure(model, adapter, args, repeats: int) -> dict:
    """Median wall time of one batch on one adapter and the same batch over all of them."""
    names = [f"shop{i}" for i in range(args.adapters)]
    engine = TransformersEngine(model, adapters={n: adapter for n in names},
                                batching=BatchingConfig(max_batch_size=BATCH, max_wait_ms=20),
                                prefix_cache_mb=0)
    base = prompts(BATCH, args.tokens)
    runs = {"single": [replace(r, adapter=names[0]) for r in base],
            "mixed": [replace(r, adapter=names[i % len(names)]) for i, r in enumerate(base)]}
    for batch in runs.values():
        await timed(engine, batch)  # warm-up
    walls: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):  # in turn: drift on a shared machine hits both
        for key, batch in runs.items():
            walls[key].append(await timed(engine, batch))
    mixed_ok = engine._mixed_ok
    await engine.aclose()
    rows = {k: {"wall_s": round(statistics.median(v), 4),
                "tok_s": round(BATCH * args.tokens / statistics.median(v), 1)}
            for k, v in walls.items()}
    ratio = round(rows["mixed"]["wall_s"] / rows["single"]["wall_s"], 3)
    return {"model": str(model), "adapter": str(adapter), "adapters": args.adapters,
            "batch": BATCH, "new_tokens": args.tokens, "repeats": repeats,
            "one_batch_for_mixed_adapters": mixed_ok, "rows": rows, "mixed_over_single": ratio,
            "target_ratio": TARGET_RATIO}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(home_dir() / "models" / "nano"))
    parser.add_argument("--adapter", default=str(home_dir() / "train" / "nano-cpu" / "adapter"))
    parser.add_argument("--adapters", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--standin", action="store_true",
                        help="also the Qwen2.5-0.5B-shape stand-in with a rank-16 adapter")
    args = parser.parse_args()
    write_report(asyncio.run(main_async(args)), OUT)


if __name__ == "__main__":
    main()

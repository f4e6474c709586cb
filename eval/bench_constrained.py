"""python eval/bench_constrained.py [--model DIR] [--prompts 8] [--tokens 48] [--repeats 15]

What record-constrained decoding costs per decode step: the same answer prompts of held-out
products, greedy, a fixed number of new tokens (EOS ignored), with the constraint off and on, at
batch 1 and batch 8 (rows of different products, each with its own constraint). Default model:
the built nano ($SMALLRETAIL_HOME/models/nano). Runs alone; off and on runs alternate (a 48-token
run takes ~0.1 s, so drift on a shared machine would otherwise land on one side); reports medians
of `repeats` and the on/off ratio from the same run. Writes eval/reports/constrained_bench.json and prints it.
Target (issue 15): on/off decode time <= 1.10.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from smallretail_llm.assistant import GenerationOptions, draft_controls
from smallretail_llm.batcher import BatchingConfig
from smallretail_llm.engine import GenerationRequest
from smallretail_llm.eval_cases import load_catalog, split_cases
from smallretail_llm.hf_engine import TransformersEngine
from smallretail_llm.paths import home_dir
from smallretail_llm.prompts import render_answer
from smallretail_llm.slots import slot_values

OUT = Path(__file__).resolve().parent / "reports" / "constrained_bench.json"
TARGET_RATIO = 1.10


def requests(n: int, tokens: int, constrained: bool) -> list[GenerationRequest]:
    _, answers = split_cases(load_catalog(None), "test")
    out = []
    for case in answers[::max(1, len(answers) // n)][:n]:
        values = slot_values(case.record, case.policy)
        extras = draft_controls(GenerationOptions(fail_fast=False), values, case.record,
                                 case.policy, (case.question,)) if constrained else {}
        out.append(GenerationRequest(messages=render_answer(case.record, case.question, case.policy),
                                     max_new_tokens=tokens, ignore_eos=True, **extras))
    return out


async def timed(engine, batch: list[GenerationRequest]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(engine.generate(r) for r in batch))
    return time.perf_counter() - start


async def main_async(args) -> dict:
    engine = TransformersEngine(args.model, batching=BatchingConfig(max_batch_size=8, max_wait_ms=5),
                                prefix_cache_mb=0)
    rows = {}
    reqs = {on: requests(args.prompts, args.tokens, on) for on in (False, True)}
    for on in (False, True):
        await timed(engine, reqs[on][:1])  # warm-up
    for batch in (1, 8):
        walls: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeats):  # off and on in turn: drift on a shared machine hits both
            for on in (False, True):
                walls[on].append(await timed(engine, reqs[on][:batch]))
        for on in (False, True):
            rows[f"{'on' if on else 'off'}_b{batch}"] = {
                "wall_s": round(statistics.median(walls[on]), 4),
                "tok_s": round(batch * args.tokens / statistics.median(walls[on]), 1)}
    await engine.aclose()
    ratios = {f"b{b}": round(rows[f"on_b{b}"]["wall_s"] / rows[f"off_b{b}"]["wall_s"], 3)
              for b in (1, 8)}
    return {"model": str(args.model), "new_tokens": args.tokens, "repeats": args.repeats,
            "rows": rows, "on_over_off": ratios, "target_ratio": TARGET_RATIO,
            "met": all(r <= TARGET_RATIO for r in ratios.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(home_dir() / "models" / "nano"))
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()

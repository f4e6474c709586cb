"""The bench's targets and its markdown report (eval/reports/bench.md), from the JSON dict."""

from __future__ import annotations

from typing import Any

TARGET_SHAPE = "Qwen/Qwen2.5-0.5B-Instruct"
MIN_CEILING_FRACTION = 0.6
MIN_X_FP32 = 3.0
MIN_BATCH_SPEEDUP = 5.0  # issue 17: /v1/answers and /v1/descriptions at 16 clients
MAX_CACHED_TTFT_RATIO = 0.5


def _ok(rows: list[dict]) -> list[dict]:
    return [r for r in rows if "error" not in r and "skipped" not in r]


def check_targets(report: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets on the 0.5B shape and the server, each with its value and verdict."""
    targets: dict[str, Any] = {}
    rows = [r for r in _ok(report.get("engines", [])) if r["model"] == TARGET_SHAPE]
    decode = []
    for r in rows:
        fraction = r.get("fraction_of_ceiling", {}).get("1")
        times = r.get("x_fp32_b1")
        if fraction is None or times is None:
            continue
        decode.append({"engine": f"{r['engine']} {r['variant']}", "tok_s": r["decode_tok_s"]["1"],
                       "fraction_of_ceiling": fraction, "x_fp32": times,
                       "met": fraction >= MIN_CEILING_FRACTION and times >= MIN_X_FP32})
    if decode:
        targets["decode_b1"] = {"rule": f">= {MIN_CEILING_FRACTION:.0%} of the ceiling of its "
                                f"format and >= {MIN_X_FP32:g}x fp32 transformers",
                                "rows": decode, "met": any(d["met"] for d in decode)}
    server = report.get("server") or {}
    if server.get("speedup_16_vs_1"):
        speedups = {route: s["vs_one_client"] for route, s in server["speedup_16_vs_1"].items()}
        targets["batching_16_clients"] = {
            "rule": f">= {MIN_BATCH_SPEEDUP:g}x the throughput of one client", "speedups": speedups,
            "met": all(v is not None and v >= MIN_BATCH_SPEEDUP for v in speedups.values())}
    cached = []
    for r in rows:
        for label in ("same_product", "same_shop"):
            ratio = r.get(f"ttft_cached_{label}_ratio")
            if ratio is not None:
                cached.append({"engine": f"{r['engine']} {r['variant']}", "prefix": label,
                               "ratio": ratio, "met": ratio <= MAX_CACHED_TTFT_RATIO})
    if cached:
        targets["cached_ttft"] = {"rule": f"cached TTFT <= {MAX_CACHED_TTFT_RATIO:g}x uncached",
                                  "rows": cached,
                                  "met_same_product": any(c["met"] for c in cached
                                                          if c["prefix"] == "same_product"),
                                  "met_same_shop": any(c["met"] for c in cached
                                                         if c["prefix"] == "same_shop")}
    return targets


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _engine_table(rows: list[dict]) -> list[str]:
    lines = [("| model | engine | weights MB/token | ceiling tok/s | TTFT s | prefill tok/s | "
             "decode tok/s b1 / b4 / b8 / b16 | b1 % of ceiling | b1 × fp32 | peak RSS MB | "
             "greedy = fp32 |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        name = f"{r['engine']} {r['variant']}"
        if "skipped" in r or "error" in r:
            reason = r.get("skipped") or r["error"][:200].replace("\n", " ")
            lines.append(f"| {r['model']} | {name} | {reason} |" + " |" * 8)
            continue
        decode = " / ".join(_fmt(r["decode_tok_s"].get(b)) for b in ("1", "4", "8", "16"))
        fraction = r.get("fraction_of_ceiling", {}).get("1")
        lines.append(
            f"| {r['model']} | {name} | {_fmt(r['bytes_per_token_mb'], 0)} | "
            f"{_fmt(r['ceiling_tok_s'])} | {_fmt(r['ttft_s'], 2)} | {_fmt(r['prefill_tok_s'], 0)} | "
            f"{decode} | {_fmt(None if fraction is None else 100 * fraction, 0)} | "
            f"{_fmt(r.get('x_fp32_b1'), 2)} | {_fmt(r['peak_rss_mb'], 0)} | "
            f"{r.get('greedy_same_tokens', 'ref')} |")
    return lines


def _prefix_table(rows: list[dict], prompts: dict) -> list[str]:
    lines = [(f"Shared tokens with the median prompt ({prompts.get('median_tokens')} tokens): "
             f"another product of the same shop, same task {prompts.get('shared_tokens_same_shop')}; "
             f"same product, another question/tone {prompts.get('shared_tokens_same_product')}."),
             "", ("| model | engine | TTFT uncached s | cached: other product, same shop (ratio) | "
             "cached: same product (ratio) |"), "|---|---|---|---|---|"]
    for r in rows:
        if "ttft_s" not in r:
            continue
        cells = [f"{_fmt(r.get(f'ttft_cached_{k}_s'), 2)} ({_fmt(r.get(f'ttft_cached_{k}_ratio'), 2)})"
                 for k in ("same_shop", "same_product")]
        lines.append(f"| {r['model']} | {r['engine']} {r['variant']} | {_fmt(r['ttft_s'], 2)} | "
                     f"{cells[0]} | {cells[1]} |")
    return lines


def _server_table(server: dict) -> list[str]:
    if "runs" not in server:
        return [f"Skipped: {server.get('skipped', 'not run')}"]
    lines = [f"Model: {server['model']}, {server['requests_per_run']} requests per run.", "",
             *_server_runs(server["runs"]),
             "", "Throughput at 16 clients with batching: "
             + "; ".join(f"{route} {s['vs_one_client']}x one client, {s['vs_batching_off']}x "
                         "batching off" for route, s in server["speedup_16_vs_1"].items()),
             "", ("Batching is continuous: a request joins the running batch at the next decode "
             "step and leaves it when it ends, so short answers do not wait for long ones.")]
    llama = server.get("llama_cpp") or {}
    if "runs" in llama:
        lines += ["", f"The same server and requests on the llama.cpp engine: {llama['model']}.", "",
                  *_server_runs(llama["runs"]), "",
                  "Throughput at 16 clients: " + "; ".join(
                      f"{route} {s['vs_one_client']}x one client"
                      for route, s in llama["speedup_16_vs_1"].items())]
    elif llama:
        lines += ["", f"llama.cpp engine: skipped ({llama.get('skipped')})"]
    return lines


def _server_runs(runs: list[dict]) -> list[str]:
    lines = [("| route | batching | clients | req/s | completion tok/s | tokens/request mean (max) "
             "| p50 s | p95 s | statuses |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lengths = (f"{_fmt(r.get('completion_tokens_mean'))} ({r.get('completion_tokens_max')})"
                   if r.get("completion_tokens_mean") is not None else "–")
        lines.append(f"| {r['route']} | {'on (16)' if r['batching'] else 'off (1)'} | "
                     f"{r['clients']} | {_fmt(r['req_s'], 2)} | {_fmt(r['completion_tok_s'])} | "
                     f"{lengths} | {_fmt(r['p50_s'], 2)} | {_fmt(r['p95_s'], 2)} | "
                     f"{r['statuses']} |")
    return lines


def _training_table(rows: list[dict]) -> list[str]:
    lines = ["| model | device | batch × seq | step s | tokens/s | peak RSS MB | peak GPU MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "skipped" in r or "error" in r:
            lines.append(f"| {r['model']} | {r.get('device', '')} | "
                         f"{r.get('skipped') or r['error'][:200]} | | | | |")
            continue
        lines.append(f"| {r['model']} | {r['device']} {r['dtype']} | {r['batch']} × {r['seq']} | "
                     f"{_fmt(r['step_s'], 2)} | {_fmt(r['tokens_per_s'])} | "
                     f"{_fmt(r['peak_rss_mb'], 0)} | {_fmt(r.get('peak_gpu_mb'), 0)} |")
    return lines


def _targets(targets: dict) -> list[str]:
    lines = []
    decode = targets.get("decode_b1")
    if decode:
        lines.append(f"- Decode, 0.5B shape, batch 1 ({decode['rule']}): "
                     + "; ".join(f"{d['engine']} {d['tok_s']} tok/s = "
                                 f"{d['fraction_of_ceiling']:.0%} of ceiling, {d['x_fp32']}x fp32 "
                                 f"{'**met**' if d['met'] else 'missed'}" for d in decode["rows"]))
    batching = targets.get("batching_16_clients")
    if batching:
        lines.append(f"- Batching, 16 clients ({batching['rule']}): "
                     + ", ".join(f"{k} {v}x" for k, v in batching["speedups"].items())
                     + (" **met**" if batching["met"] else " missed"))
    cached = targets.get("cached_ttft")
    if cached:
        lines.append(f"- Cached-prefix TTFT, 0.5B shape ({cached['rule']}): "
                     + "; ".join(f"{c['engine']} {c['prefix']} {c['ratio']}"
                                 f"{' **met**' if c['met'] else ' missed'}" for c in cached["rows"]))
    return lines or ["- (no target rows were measured)"]


def _profile(profile: dict) -> list[str]:
    if not profile or "top_ops" not in profile:
        return [f"Not measured: {profile.get('error', 'skipped') if profile else 'skipped'}"]
    lines = [(f"The engine's forward with its slot KV cache (`kv_slots.py`), batch 1: "
              f"{profile['forward_loop_step_ms']} ms/step "
             f"({profile['forward_loop_tok_s']} tok/s), {profile['ops_per_step']} operator calls "
             "per step."), "", "| operator | self % | ms/step | calls/step |", "|---|---|---|---|"]
    lines += [f"| {o['op']} | {o['self_pct']} | {o['ms_per_step']} | {o['calls_per_step']} |"
              for o in profile["top_ops"]]
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    bandwidth = report.get("bandwidth_gb_s", {})
    prompts = report.get("prompts", {})
    engines = report.get("engines", [])
    out = [
        "# Speed and memory bench", "",
        (f"Generated by `python -m smallretail_llm.bench{' --quick' if report['quick'] else ''}` "
        f"in {report.get('bench_s', 0):.0f} s. Machine: {machine['cpu']}, {machine['cores']} cores "
        f"({', '.join(machine['simd'])}), torch {machine['torch']}, transformers "
        f"{machine['transformers']}, llama-cpp-python {machine['llama_cpp'] or 'not installed'}. "
        f"Measured read bandwidth: {bandwidth.get('start')} GB/s at the start, "
        f"{bandwidth.get('end')} GB/s at the end."), "",
        *[f"- Skipped: {s}" for s in report.get("skipped", [])],
        ("Stand-ins have the exact shape of the named model, random weights and the nano "
        "tokenizer: speed and memory are the real model's, token counts and outputs are not. "
        "The ceiling is bandwidth ÷ bytes read per decode step (weights + KV cache). Timings "
        "on shared 2-core VMs swing 2x between runs; compare rows of one run."), "",
        "## Targets", "", *_targets(report.get("targets", {})), "",
        "## Engines", "",
        (f"Prompt: the median-length prompt of {prompts.get('split')} ({prompts.get('rows')} "
        f"prompts, task {prompts.get('task')}): {prompts.get('median_tokens')} nano tokens, "
        f"{prompts.get('median_chars')} characters (p10 {prompts.get('p10_tokens')}, p90 "
        f"{prompts.get('p90_tokens')}). TTFT = a 1-token generation with the prefix cache "
        "emptied; decode = identical concurrent requests, first to last streamed token "
        "(llama.cpp: one sequence per request in one context, `llama_steps.py`)."), "",
        *_engine_table(engines), "",
        "## Shared-prefix reuse (time to first token)", "", *_prefix_table(engines, prompts), "",
        "## Where a 0.5B int8 decode step goes (transformers)", "",
        *_profile(report.get("profile", {})), "",
        "## Server", "", *_server_table(report.get("server") or {}), "",
        "## LoRA training", "", *_training_table(report.get("training", [])), "",
    ]
    return "\n".join(out) + "\n"

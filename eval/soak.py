"""Soak run: drive one or two `smallretail serve` replicas (over one database) at a steady rate
for a set time, and report what happened minute by minute.

    .venv/bin/python eval/soak.py --minutes 30 --rate 1 --replicas 2 --db "$SMALLRETAIL_TEST_PG_URL" \
        --model "$SMALLRETAIL_HOME/models/nano" --out eval/reports/soak

Requests are sent open-loop (one every ``1/rate`` seconds, whatever the answers take), in turn to
/v1/descriptions, /v1/answers, /v1/chat/completions (plain and SSE) and GET /v1/products, and
in turn to each replica. The replicas count per-key and per-shop quotas in the shared database,
so the run also exercises those writes. Each request ends as answered, rejected (429/503 with
Retry-After), errors (another documented refusal) or lost (no answer, a 5xx other than 503, a
broken body or a cut stream; see eval/load_test.py). Every ``--sample-s`` seconds it samples
each replica's RSS and open sockets.

The report (JSON + markdown) has totals, per-minute tried/answered/rejected/lost and p50/p95,
RSS and sockets over time, and three checks: 0 lost, p95 of the last 5 minutes within 1.5x the
first 5, RSS growth under 10% (from the end of the first minute, after warm-up, to the end).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # load_test.py beside this script
import load_test

from smallretail_llm.serving.server_process import stop, wait_ready

KINDS = ("description", "answer", "chat", "chat_stream", "catalog")
METRICS_TOKEN = "soak-metrics"


@contextmanager
def replica(model: str, db: str, workdir: Path, index: int, max_new_tokens: int):
    """One `smallretail serve` on a free loopback port: (base_url, pid)."""
    port = load_test.free_port()
    env = os.environ | {
        "SMALLRETAIL_DB": db, "SMALLRETAIL_QUEUE_SIZE": "16", "SMALLRETAIL_BATCH_SIZE": "4",
        "SMALLRETAIL_MAX_NEW_TOKENS": str(max_new_tokens), "SMALLRETAIL_DEMO": "false",
        "SMALLRETAIL_RATE_LIMIT_BURST": "200", "SMALLRETAIL_RATE_LIMIT_PER_MINUTE": "6000",
        "SMALLRETAIL_QUOTA_PER_MINUTE": "6000", "SMALLRETAIL_QUOTA_REQUESTS_PER_DAY": "1000000",
        "SMALLRETAIL_QUOTA_TOKENS_PER_DAY": "100000000", "SMALLRETAIL_NUM_THREADS": "1",
        "SMALLRETAIL_METRICS_TOKEN": METRICS_TOKEN, "SMALLRETAIL_LOG_LEVEL": "WARNING"}
    log_path = workdir / f"server-{index}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*load_test._smallretail(), "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--model", model], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, 300, lambda: log_path.read_text(errors="replace"))
        yield base, proc.pid
    finally:
        stop(proc)


async def _one(client: httpx.AsyncClient, kind: str, product_id: str, model: str,
               max_tokens: int) -> tuple[str, str]:
    if kind != "catalog":
        return await load_test._one(client, kind, product_id, model, max_tokens)
    try:
        response = await client.get("/v1/products", params={"limit": 5})
        body = response.json() if response.headers.get("content-type", "").startswith(
            "application/json") else None
    except httpx.TimeoutException:
        return "lost", "timeout"
    except httpx.TransportError as exc:
        return "lost", type(exc).__name__
    if response.status_code == 200:
        ok = isinstance(body, dict) and isinstance(body.get("items"), list)
        return ("accepted", "ok") if ok else ("lost", "broken_body")
    return load_test.classify(response.status_code, response.headers, kind, body)


def _sample(pids: list[int]) -> list[dict[str, Any]]:
    import psutil

    out = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            out.append({"rss_mb": round(process.memory_info().rss / 2**20, 1),
                        "sockets": len(process.net_connections(kind="inet")),
                        "established": sum(1 for c in process.net_connections(kind="inet")
                                           if c.status == psutil.CONN_ESTABLISHED)})
        except psutil.Error:
            out.append({"rss_mb": None, "sockets": None, "established": None})
    return out


async def drive(bases: list[str], pids: list[int], key: str, product_id: str, *, seconds: float,
                rate: float, max_tokens: int = 16, sample_s: float = 10.0,
                timeout_s: float = 120.0) -> dict[str, Any]:
    """Send ``rate`` requests a second for ``seconds``; return the raw results and samples."""
    headers = {"Authorization": f"Bearer {key}"}
    # keep-alive expiry below the server's idle timeout (5 s): a client reusing a connection the
    # server is closing at that instant sees a reset; clients should expire theirs first
    limits = httpx.Limits(max_connections=32, keepalive_expiry=2.0)
    clients = [httpx.AsyncClient(base_url=b, headers=headers, timeout=timeout_s, limits=limits)
               for b in bases]
    model = (await clients[0].get("/v1/models")).json()["data"][0]["id"]
    results: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    tasks: set[asyncio.Task] = set()
    started = time.monotonic()

    async def one(i: int, at: float) -> None:
        kind = KINDS[i % len(KINDS)]
        t0 = time.monotonic()
        outcome, reason = await _one(clients[i % len(clients)], kind, product_id, model,
                                     max_tokens)
        results.append({"t": round(at, 2), "kind": kind, "replica": i % len(clients),
                        "outcome": outcome, "reason": reason,
                        "latency_s": round(time.monotonic() - t0, 4)})

    async def sampler() -> None:
        while True:
            samples.append({"t": round(time.monotonic() - started, 1),
                            "in_flight": len(tasks), "replicas": _sample(pids)})
            await asyncio.sleep(sample_s)

    sampling = asyncio.create_task(sampler())
    i = 0
    while (now := time.monotonic() - started) < seconds:
        task = asyncio.create_task(one(i, now))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
    if tasks:
        await asyncio.gather(*tasks)
    sampling.cancel()
    samples.append({"t": round(time.monotonic() - started, 1), "in_flight": 0,
                    "replicas": _sample(pids)})
    scrape = await clients[0].get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    for client in clients:
        await client.aclose()
    return {"results": results, "samples": samples, "model": model,
            "metrics_status": scrape.status_code}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)


def report(raw: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    results, samples = raw["results"], raw["samples"]
    outcomes = ("accepted", "rejected", "errors", "lost")
    totals = {o: sum(1 for r in results if r["outcome"] == o) for o in outcomes}
    minutes = []
    for m in range(int(max((r["t"] for r in results), default=0) // 60) + 1):
        window = [r for r in results if m * 60 <= r["t"] < (m + 1) * 60]
        answered = [r["latency_s"] for r in window if r["outcome"] == "accepted"]
        minutes.append({"minute": m + 1, "tried": len(window),
                        **{o: sum(1 for r in window if r["outcome"] == o) for o in outcomes},
                        "p50_ms": _pct(answered, 0.5), "p95_ms": _pct(answered, 0.95)})
    span = min(5, max(1, len(minutes) // 3))

    def p95_of(rows: list[dict]) -> float | None:
        return _pct([r["latency_s"] for r in rows if r["outcome"] == "accepted"], 0.95)

    first = p95_of([r for r in results if r["t"] < span * 60])
    end = max((r["t"] for r in results), default=0)
    last = p95_of([r for r in results if r["t"] >= end - span * 60])
    rss = [sum(x["rss_mb"] or 0 for x in s["replicas"]) for s in samples]
    warm = next((i for i, s in enumerate(samples) if s["t"] >= 60), 0)
    rss_growth = round(100 * (rss[-1] - rss[warm]) / rss[warm], 1) if rss and rss[warm] else None
    checks = {"lost_is_zero": totals["lost"] == 0,
              f"p95_last_{span}min_within_1.5x_first": bool(first and last and last <= 1.5 * first),
              "rss_growth_under_10pct": rss_growth is not None and rss_growth < 10}
    by_kind = {k: {o: sum(1 for r in results if r["kind"] == k and r["outcome"] == o)
                   for o in outcomes} for k in KINDS}
    return {"config": config, "tried": len(results), "answered": totals["accepted"],
            "by_kind": by_kind,
            "rejected": totals["rejected"], "errors": totals["errors"], "lost": totals["lost"],
            "reasons": {k: sum(1 for r in results if r["reason"] == k)
                        for k in sorted({r["reason"] for r in results})},
            "p95_first_ms": first, "p95_last_ms": last, "window_minutes": span,
            "rss_mb_after_warmup": rss[warm] if rss else None, "rss_mb_end": rss[-1] if rss else None,
            "rss_growth_pct": rss_growth, "metrics_scrape_status": raw["metrics_status"],
            "checks": checks, "passed": all(checks.values()), "minutes": minutes,
            "samples": samples}


def markdown(rep: dict[str, Any]) -> str:
    c = rep["config"]
    lines = [
        (f"# Soak run: {c['minutes']} min, {c['rate']} req/s, {c['replicas']} replica(s) over "
         f"{c['db_kind']}"), "", *([f"Code: {c['note']}", ""] if c.get("note") else []),
        (f"Model: `{c['model_arg']}` (served as {c.get('served_model')}), max {c['max_tokens']} "
         f"new tokens, {c['machine']}. Timings on a shared, contended CPU: read the trend, not "
         "the level."), "",
        (f"- tried {rep['tried']}: answered {rep['answered']}, rejected {rep['rejected']}, "
         f"errors {rep['errors']}, **lost {rep['lost']}** (reasons: {rep['reasons']})"),
        (f"- p95 first {rep['window_minutes']} min {rep['p95_first_ms']} ms, last "
         f"{rep['window_minutes']} min {rep['p95_last_ms']} ms"),
        (f"- RSS (all replicas) after warm-up {rep['rss_mb_after_warmup']} MB, at the end "
         f"{rep['rss_mb_end']} MB: growth {rep['rss_growth_pct']}%"),
        f"- checks: {rep['checks']} -> {'PASSED' if rep['passed'] else 'FAILED'}",
        f"- by kind: {rep['by_kind']}", "",
        "| minute | tried | answered | rejected | errors | lost | p50 ms | p95 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {m['minute']} | {m['tried']} | {m['accepted']} | {m['rejected']} | "
              f"{m['errors']} | {m['lost']} | {m['p50_ms']} | {m['p95_ms']} |"
              for m in rep["minutes"]]
    lines += ["", "| t (s) | in flight | RSS MB per replica | sockets (established) |",
              "|---:|---:|---|---|"]
    step = max(1, len(rep["samples"]) // 40)
    for s in rep["samples"][::step]:
        rss = ", ".join(str(x["rss_mb"]) for x in s["replicas"])
        sockets = ", ".join(f"{x['sockets']} ({x['established']})" for x in s["replicas"])
        lines.append(f"| {s['t']} | {s['in_flight']} | {rss} | {sockets} |")
    return "\n".join(lines) + "\n"


def run_soak(model: str, minutes: float, rate: float, replicas: int, db: str | None,
             workdir: Path, max_tokens: int = 16, sample_s: float = 10.0) -> dict[str, Any]:
    db = db or f"sqlite:///{workdir / 'soak.db'}"
    if replicas > 1 and db.startswith("sqlite"):
        raise ValueError("두 개 이상의 복제본은 PostgreSQL(--db)에서만 돌립니다.")
    key, product_id = load_test.seed_db(db, shop=f"soak-{os.getpid()}")
    with ExitStack() as stack:
        started = [stack.enter_context(replica(model, db, workdir, i, max_tokens))
                   for i in range(replicas)]
        raw = asyncio.run(drive([b for b, _ in started], [p for _, p in started], key,
                                product_id, seconds=minutes * 60, rate=rate,
                                max_tokens=max_tokens, sample_s=sample_s))
    config = {"minutes": minutes, "rate": rate, "replicas": replicas, "model_arg": model,
              "served_model": raw["model"], "max_tokens": max_tokens,
              "db_kind": db.split(":", 1)[0], "machine": f"{os.cpu_count()} CPUs, shared",
              "kinds": list(KINDS)}
    return report(raw, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="nano")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=1.0, help="requests per second")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--db", help="PostgreSQL URL for two replicas (default: a SQLite file)")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--sample-s", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("eval/reports/soak"))
    parser.add_argument("--note", help="recorded in the report, e.g. the commit under test")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smallretail-soak-") as tmp:
        rep = run_soak(args.model, args.minutes, args.rate, args.replicas, args.db, Path(tmp),
                       args.max_tokens, args.sample_s)
    rep["config"]["note"] = args.note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(rep, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(rep), encoding="utf-8")
    print(json.dumps({k: rep[k] for k in ("tried", "answered", "rejected", "errors", "lost",
                                          "p95_first_ms", "p95_last_ms", "rss_growth_pct",
                                          "passed")} | {"out": str(args.out)}, ensure_ascii=False))
    return 0 if rep["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

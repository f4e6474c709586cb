"""Server part of the bench: throughput and p50/p95 latency of /v1/descriptions and /v1/answers
under 1, 4 and 16 concurrent clients, dynamic batching on (batch 16) vs off (batch 1).

The server is what `smallretail serve` runs (``api.server.serving_engine`` + ``create_app`` +
uvicorn; the engine in a process of its own, ``engine_process.py``) with the nano model and its
LoRA adapter, in a child process on a free 127.0.0.1 port;
the clients are httpx in this process, each draining a fixed list of requests (bounded loop,
loopback only). ``max_regenerations=0``: each request is one generation, so the figures are
the serving path's, not the grounding retry policy's; ``max_new_tokens=128`` bounds the nano's
run-on drafts (an "intro" of 400 tokens otherwise) so one run takes minutes, not tens.

With llama-cpp-python and the GGUF converter (`make llama`), the same server also runs on the
llama.cpp engine (the adapter merged into the nano, GGUF f32 so it writes what fp32 writes;
batching on) for a second table: the same requests through one llama.cpp context of 16 rows.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from smallretail_llm.serving.server_process import stop, wait_ready

logger = logging.getLogger(__name__)

CLIENTS = (1, 4, 16)
QUESTIONS = ("보관 방법 알려주세요", "배송비 얼마예요?", "소비기한이 어떻게 되나요?",
             "알레르기 성분 있나요?")
ON_BATCH = 16
MAX_NEW_TOKENS = 128  # the nano often runs on past one sentence; bound every request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(base: str, route: str, bodies: list[dict], clients: int) -> dict[str, Any]:
    """``clients`` concurrent workers drain the request list; every request is awaited."""
    import httpx

    queue: asyncio.Queue[dict] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    tokens = 0
    lengths: list[int] = []  # completion tokens per request: a static batch runs to its longest

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal tokens
        while not queue.empty():
            body = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post(f"{base}{route}", json=body)
            latencies.append(time.perf_counter() - start)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            if response.status_code == 200:
                lengths.append((response.json().get("usage") or {}).get("completion_tokens", 0))
                tokens += lengths[-1]

    async with httpx.AsyncClient(timeout=900) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        wall = time.perf_counter() - start
    return {"route": route, "clients": clients, "requests": len(bodies), "statuses": statuses,
            "req_s": round(len(bodies) / wall, 3), "completion_tok_s": round(tokens / wall, 1),
            "p50_s": round(percentile(latencies, 0.5), 3),
            "p95_s": round(percentile(latencies, 0.95), 3),
            "mean_s": round(statistics.mean(latencies), 3),
            "completion_tokens_mean": round(statistics.mean(lengths), 1) if lengths else None,
            "completion_tokens_max": max(lengths, default=None)}


def _start_server(port: int, batch: int, nano_dir: Path, adapter_dir: Path, db: str,
                  gguf: Path | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "smallretail_llm.bench.server", "--port", str(port),
               "--batch", str(batch), "--model", str(nano_dir), "--adapter", str(adapter_dir),
               "--db", db, *(["--gguf", str(gguf)] if gguf else [])]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _merged_gguf(nano_dir: Path, adapter_dir: Path) -> Path | str:
    """The nano with the adapter merged in, as GGUF f32 (rebuilt when the adapter is newer);
    or why not."""
    import importlib.util

    from smallretail_llm.bench.standins import bench_dir
    from smallretail_llm.models.adapter import ADAPTER_NAME
    from smallretail_llm.models.export import export_merged, find_gguf_converter, gguf_file

    if importlib.util.find_spec("llama_cpp") is None or find_gguf_converter() is None:
        return "llama-cpp-python 또는 GGUF 변환기 없음 (make llama)"
    merged = bench_dir() / "nano-merged" / ADAPTER_NAME  # (the folder name is the model's name)
    weights = merged / "model.safetensors"
    adapter = adapter_dir / "adapter_model.safetensors"
    if not weights.is_file() or weights.stat().st_mtime < adapter.stat().st_mtime:
        export_merged(str(nano_dir), adapter_dir, merged)
    return gguf_file(merged, "f32") or "GGUF 변환 실패 (로그 참고)"


def _serve_and_load(bodies: dict[str, list[dict]], batch: int, nano_dir: Path,
                    adapter_dir: Path, db: str, gguf: Path | None = None) -> list[dict]:
    """One server, every route at every client count (after a warm-up)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start_server(port, batch, nano_dir, adapter_dir, db, gguf)
    assert process.stderr is not None  # _start_server pipes it
    runs = []
    try:
        wait_ready(base, process, 600, process.stderr.read)
        for route, route_bodies in bodies.items():  # warm-up: first-call costs
            asyncio.run(load(base, route, route_bodies[:2], 1))
        for clients in CLIENTS:
            for route, route_bodies in bodies.items():
                run = asyncio.run(load(base, route, route_bodies, clients))
                run.update(batching=batch > 1, max_batch_size=batch)
                logger.info("server %s", run)
                runs.append(run)
    finally:
        stop(process, timeout_s=30)
    return runs


def run_server_bench(quick: bool = False, nano_dir: Path | None = None) -> dict[str, Any]:
    """The server table, or {"skipped": reason} when the demo assets are missing."""
    from smallretail_llm.catalog.sample_catalog import DEMO_SHOP
    from smallretail_llm.core.paths import default_db_url, home_dir
    from smallretail_llm.db.store import Store
    from smallretail_llm.models.adapter import ADAPTER_NAME

    nano_dir = nano_dir or home_dir() / "models" / "nano"
    adapter_dir = home_dir() / "train" / "nano-cpu" / "adapter"
    if not (adapter_dir / "adapter_config.json").is_file():
        return {"skipped": f"LoRA 어댑터({adapter_dir})가 없음: make train 을 먼저 실행하세요."}
    db = default_db_url()
    skus = [p.sku for p in Store(db).list_products(DEMO_SHOP)]
    if not skus:
        return {"skipped": f"{db} 에 {DEMO_SHOP} 상품이 없음: make train 을 먼저 실행하세요."}
    # 10 rounds of 16 clients: the first, ramping round weighs little, and a run at 16 clients
    # lasts seconds (the nano answers in ~10 tokens; 3 rounds were over in ~1 s)
    requests = 16 if quick else 160
    picks = [skus[i % len(skus)] for i in range(requests)]
    bodies = {
        "/v1/descriptions": [{"product_id": s, "style": "intro", "tone": "polite"} for s in picks],
        "/v1/answers": [{"product_id": s, "question": QUESTIONS[i % len(QUESTIONS)]}
                        for i, s in enumerate(picks)],
    }
    runs = []
    for batch in (ON_BATCH, 1):
        runs += _serve_and_load(bodies, batch, nano_dir, adapter_dir, db)
    gguf = _merged_gguf(nano_dir, adapter_dir)
    if isinstance(gguf, str):
        llama: dict[str, Any] = {"skipped": gguf}
    else:
        llama_runs = _serve_and_load(bodies, ON_BATCH, nano_dir, adapter_dir, db, gguf)
        llama = {"model": f"nano + {ADAPTER_NAME} merged, GGUF f32 ({gguf.name}), llama.cpp "
                          f"engine, {ON_BATCH} rows; {_engine_placement()}", "runs": llama_runs,
                 "speedup_16_vs_1": _speedups(llama_runs)}
    return {"model": f"nano + {ADAPTER_NAME} (fp32, prefix cache on, max_new_tokens "
                     f"{MAX_NEW_TOKENS}; {_engine_placement()})", "requests_per_run": requests,
            "runs": runs, "speedup_16_vs_1": _speedups(runs), "llama_cpp": llama}


def _engine_placement() -> str:
    """Where the served engine runs, as `smallretail serve` places it by default."""
    from smallretail_llm.serving.engines.engine_process import spare_cores

    threads = spare_cores()
    return f"engine in its own process, {threads} thread{'s' if threads > 1 else ''}"


def _speedups(runs: list[dict]) -> dict[str, dict[str, float | None]]:
    """Per route: throughput at 16 clients with batching / 1 client, and / 16 clients without."""
    def rate(route: str, clients: int, batching: bool) -> float | None:
        found = [r["req_s"] for r in runs
                 if (r["route"], r["clients"], r["batching"]) == (route, clients, batching)]
        return found[0] if found else None

    out = {}
    for route in sorted({r["route"] for r in runs}):
        top, one, off = rate(route, 16, True), rate(route, 1, True), rate(route, 16, False)
        out[route] = {"vs_one_client": round(top / one, 2) if top and one else None,
                      "vs_batching_off": round(top / off, 2) if top and off else None}
    return out


def serve_main(argv: list[str] | None = None) -> None:
    """Child process: the API as `smallretail serve` builds it, on 127.0.0.1."""
    import uvicorn

    from smallretail_llm.catalog.sample_catalog import DEMO_SHOP
    from smallretail_llm.models.adapter import ADAPTER_NAME
    from smallretail_llm.serving.api.app import create_app
    from smallretail_llm.serving.api.server import serving_engine, warm_up
    from smallretail_llm.serving.settings import Settings

    parser = argparse.ArgumentParser()
    for flag in ("--port", "--batch", "--model", "--adapter", "--db"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--gguf", help="serve this GGUF (adapter merged in) with llama.cpp")
    args = parser.parse_args(argv)
    engine_choice = ({"engine": "llama_cpp", "gguf": args.gguf, "model": str(Path(args.gguf).parent)}
                     if args.gguf else
                     {"model": args.model, "adapter": f"{ADAPTER_NAME}={args.adapter}"})
    settings = Settings(db=args.db, demo=True, demo_shop=DEMO_SHOP, **engine_choice,
                        batch_size=int(args.batch),
                        queue_size=256, rate_limit_per_minute=1e6, rate_limit_burst=100_000,
                        max_regenerations=0, request_timeout_s=900, log_json=False,
                        max_new_tokens=MAX_NEW_TOKENS,
                        log_level="WARNING", port=int(args.port))
    engine = serving_engine(settings)
    warm_up()
    app = create_app(settings, engine)
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    serve_main()

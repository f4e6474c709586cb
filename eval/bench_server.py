"""Server latency and throughput on the nano model: /v1/descriptions and /v1/answers under
1, 4 and 8 concurrent clients, dynamic batching on (batch 8) vs off (batch 1), in one run.

    .venv/bin/python eval/bench_server.py [--requests 16] [--out eval/reports/server_bench.json]

Needs the demo assets (`smallretail demo --no-serve`). A real uvicorn serves the app on a free
127.0.0.1 port; each client sends its share of a fixed request list (bounded loop, loopback
only). Figures are for the from-scratch nano model on this machine, not a real LLM."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from smallretail_llm.api.app import create_app
from smallretail_llm.batcher import BatchingConfig
from smallretail_llm.demo import ADAPTER_NAME, DEMO_SHOP, prepare
from smallretail_llm.hf_engine import TransformersEngine
from smallretail_llm.settings import Settings
from smallretail_llm.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(app, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(base: str, route: str, bodies: list[dict], clients: int) -> dict:
    """`clients` concurrent workers drain the request list; every request is awaited."""
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post(f"{base}{route}", json=body)
            latencies.append(time.perf_counter() - start)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    async with httpx.AsyncClient(timeout=600) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        wall = time.perf_counter() - start
    return {"requests": len(bodies), "clients": clients, "statuses": statuses,
            "p50_s": round(percentile(latencies, 0.5), 3), "p95_s": round(percentile(latencies, 0.95), 3),
            "mean_s": round(statistics.mean(latencies), 3), "req_per_s": round(len(bodies) / wall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--clients", default="1,4,8")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    assets = prepare()
    store = Store(assets.db_url)
    skus = [p.sku for p in store.list_products(DEMO_SHOP)][: args.requests]
    describe = [{"product_id": s, "style": "intro", "tone": "polite"} for s in skus]
    answer = [{"product_id": s, "question": "보관 방법 알려주세요"} for s in skus]
    results = {"model": f"nano + {ADAPTER_NAME} (from-scratch catalog model, CPU)", "runs": []}
    for batch in (8, 1):
        settings = Settings(db=assets.db_url, model=str(assets.model_dir), demo=True,
                            demo_shop=DEMO_SHOP, adapter=f"{ADAPTER_NAME}={assets.adapter_dir}",
                            batch_size=batch, rate_limit_per_minute=1e6, rate_limit_burst=10_000,
                            max_regenerations=0)
        engine = TransformersEngine(str(assets.model_dir),
                                    adapters={ADAPTER_NAME: str(assets.adapter_dir)},
                                    batching=BatchingConfig(max_batch_size=batch, max_queue=256))
        port = free_port()
        server = serve_in_thread(create_app(settings, engine, store), port)
        base = f"http://127.0.0.1:{port}"
        for clients in (int(c) for c in args.clients.split(",")):
            for route, bodies in (("/v1/descriptions", describe), ("/v1/answers", answer)):
                run = asyncio.run(load(base, route, bodies, clients))
                run.update({"route": route, "batching": batch > 1, "max_batch_size": batch})
                print(json.dumps(run, ensure_ascii=False), flush=True)
                results["runs"].append(run)
        server.should_exit = True
        time.sleep(0.5)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Load test: a bounded burst of concurrent requests, over the queue and rate limits, against a
real server; every request must end in a full answer or a documented refusal, none may be lost.

    .venv/bin/python eval/load_test.py --model DIR_OR_NANO [--clients 16] [--requests 48] \
        [--queue-size 4] [--out eval/reports/load_test.json]
    .venv/bin/python eval/load_test.py --base-url http://127.0.0.1:8000 --api-key sr_… \
        --product-id TOFU-300

Without ``--base-url`` it starts ``smallretail serve`` on 127.0.0.1 (a free port) over a fresh
SQLite DB holding one shop with a key, a policy and one product, with a small generation queue
and a small per-key burst, and stops it afterwards. ``clients`` workers send ``requests``
requests in turn to /v1/descriptions, /v1/answers and /v1/chat/completions (plain and SSE).

Each request ends as one of:
- accepted: 2xx with a whole body (JSON with its answer field; a stream ending in ``[DONE]``);
- rejected: 503 (queue full) or 429 (rate limit), with a ``Retry-After`` header;
- errors: any other documented refusal (other 4xx, a 503/429 without Retry-After, a stream that
  ends with an error event and ``[DONE]``);
- lost: no response, a connection drop, a timeout, a 5xx other than 503, a 2xx with a broken
  body or a stream cut before ``[DONE]``. Lost must be 0.
tried == accepted + rejected + errors + lost, always.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from smallretail_llm.serving.server_process import stop, wait_ready

KINDS = ("description", "answer", "chat", "chat_stream")
OUTCOMES = ("accepted", "rejected", "errors", "lost")
QUESTION = "배송비 얼마예요?"


def _request(kind: str, product_id: str, model: str | None, max_tokens: int) -> tuple[str, dict]:
    if kind == "description":
        return "/v1/descriptions", {"product_id": product_id, "style": "intro"}
    if kind == "answer":
        return "/v1/answers", {"product_id": product_id, "question": QUESTION}
    body: dict[str, Any] = {"model": model or "", "max_tokens": max_tokens,
                            "messages": [{"role": "user", "content": "두부 소개해 주세요"}]}
    if kind == "chat_stream":
        body["stream"] = True
    return "/v1/chat/completions", body


def _whole(kind: str, body: Any) -> bool:
    """True when a 2xx JSON body carries the answer its endpoint promises."""
    if not isinstance(body, dict):
        return False
    if kind == "description":
        return isinstance(body.get("text"), str) and bool(body["text"]) and \
            body.get("source") in ("model", "fallback")
    if kind == "answer":
        return isinstance(body.get("answer"), str) and bool(body["answer"]) and \
            isinstance(body.get("needs_human"), bool)
    choices = body.get("choices") or [{}]
    return isinstance(choices[0].get("message", {}).get("content"), str) and \
        choices[0].get("finish_reason") in ("stop", "length")


def classify(status: int, headers: httpx.Headers, kind: str, body: Any) -> tuple[str, str]:
    """(outcome, reason) of one answered, non-streamed response."""
    if 200 <= status < 300:
        return ("accepted", "ok") if _whole(kind, body) else ("lost", "broken_body")
    if status in (429, 503):
        after = headers.get("retry-after", "")
        if after.isdigit() and int(after) >= 1:
            return "rejected", f"http_{status}"
        return "errors", f"http_{status}_without_retry_after"
    if status >= 500:
        return "lost", f"http_{status}"
    return "errors", f"http_{status}"


async def _stream(client: httpx.AsyncClient, path: str, body: dict, kind: str) -> tuple[str, str]:
    async with client.stream("POST", path, json=body) as response:
        if response.status_code != 200:
            raw = await response.aread()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            return classify(response.status_code, response.headers, kind, parsed)
        events = [line.removeprefix("data: ") async for line in response.aiter_lines()
                  if line.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        return "lost", "stream_cut"
    try:
        payloads = [json.loads(e) for e in events[:-1]]
    except ValueError:
        return "lost", "stream_broken_event"
    if any("error" in p for p in payloads):
        return "errors", "stream_error_event"
    finished = [c["finish_reason"] for p in payloads for c in p.get("choices", [])
                if c.get("finish_reason")]
    return ("accepted", "ok") if finished in (["stop"], ["length"]) else ("lost", "stream_no_finish")


async def _one(client: httpx.AsyncClient, kind: str, product_id: str, model: str | None,
               max_tokens: int) -> tuple[str, str]:
    path, body = _request(kind, product_id, model, max_tokens)
    try:
        if kind == "chat_stream":
            return await _stream(client, path, body, kind)
        response = await client.post(path, json=body)
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        return classify(response.status_code, response.headers, kind, parsed)
    except httpx.TimeoutException:
        return "lost", "timeout"
    except httpx.TransportError as exc:  # refused, reset, closed mid-body
        return "lost", type(exc).__name__


async def run_load_async(base_url: str, api_key: str, clients: int, requests: int, *,
                         product_id: str = "TOFU-300", model: str | None = None,
                         max_tokens: int = 16, timeout_s: float = 120.0,
                         transport: httpx.AsyncBaseTransport | None = None) -> dict:
    """Send ``requests`` requests from ``clients`` concurrent workers (kinds in turn, see
    ``KINDS``) and count the outcomes. ``transport`` lets tests aim it at an ASGI app."""
    if clients < 1 or requests < 1:
        raise ValueError("clients 와 requests 는 1 이상이어야 합니다.")
    headers = {"Authorization": f"Bearer {api_key}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout_s,
                                 limits=limits, transport=transport) as client:
        if model is None:
            listed = (await client.get("/v1/models")).json()
            model = listed["data"][0]["id"]
        todo = iter(range(requests))
        results: list[tuple[str, str, str, float]] = []

        async def worker() -> None:
            for i in todo:
                kind = KINDS[i % len(KINDS)]
                started = time.perf_counter()
                outcome, reason = await _one(client, kind, product_id, model, max_tokens)
                results.append((kind, outcome, reason, time.perf_counter() - started))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    return _report(results, wall, {"base_url": base_url, "clients": clients,
                                   "requests": requests, "model": model,
                                   "product_id": product_id, "max_tokens": max_tokens})


def run_load(base_url: str, api_key: str, clients: int, requests: int, **options: Any) -> dict:
    """Blocking ``run_load_async`` (see there for ``options``)."""
    return asyncio.run(run_load_async(base_url, api_key, clients, requests, **options))


def _report(results: list[tuple[str, str, str, float]], wall_s: float, config: dict) -> dict:
    counts = Counter(outcome for _, outcome, _, _ in results)
    by_kind = {kind: {o: sum(1 for k, out, _, _ in results if k == kind and out == o)
                      for o in OUTCOMES} for kind in KINDS}
    latencies = sorted(s for _, outcome, _, s in results if outcome == "accepted")

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {"config": config, "tried": len(results), **{o: counts[o] for o in OUTCOMES},
            "by_kind": by_kind,
            "reasons": dict(sorted(Counter(r for _, _, r, _ in results).items())),
            "accepted_latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "max": pct(1.0)},
            "wall_s": round(wall_s, 2)}


# ---------------------------------------------------------------- a server of its own
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_db(db_url: str, shop: str = "load") -> tuple[str, str]:
    """One shop with a policy, one fully described product and a key: (key, product_id)."""
    import datetime as dt

    from smallretail_llm.core.record import DateFact, NetContent, ProductRecord, ShopPolicy
    from smallretail_llm.db.keys import create_key
    from smallretail_llm.db.store import Store

    store = Store(db_url)
    store.put_policy(ShopPolicy(
        shop_id=shop, shop_name="맑은콩 상회", shipping_fee_krw=3000,
        free_shipping_threshold_krw=30000, shipping_days="결제 후 1~2일 내 출고",
        return_policy="수령 후 7일 이내 교환·반품 가능", cs_phone="02-123-4567",
        cs_hours="평일 10시~17시"))
    store.put_product(ProductRecord(
        shop_id=shop, sku="TOFU-300", name="국산콩 두부", category="processed_food",
        brand="맑은콩", manufacturer="맑은식품", origin="국내산", price_krw=3500,
        net_content=NetContent(value=300, unit="g"), allergens=["대두"],
        storage="냉장 보관 (0~10℃)", certifications=["HACCP"],
        use_by=DateFact(date=dt.date(2026, 3, 1)),
        notice={"food_type": "두부", "producer_location": "경기도 이천시",
                "ingredients": "대두(국산) 98%, 응고제", "safety_caution": "개봉 후 빨리 드세요"}))
    key = create_key(store, shop)
    store.engine.dispose()
    return key, "TOFU-300"


def _smallretail() -> list[str]:
    script = Path(sys.executable).with_name("smallretail")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from smallretail_llm.cli import app; app()"]


@contextmanager
def local_server(model: str, workdir: Path, *, queue_size: int = 2, batch_size: int = 2,
                 max_new_tokens: int = 16, rate_limit_burst: int = 20,
                 rate_limit_per_minute: float = 6.0, start_timeout_s: float = 180.0,
                 ) -> Iterator[tuple[str, str, str, Path]]:
    """``smallretail serve`` on 127.0.0.1 over a fresh DB: (base_url, key, product_id, log)."""
    db = f"sqlite:///{workdir / 'load.db'}"
    key, product_id = seed_db(db)
    port = free_port()
    env = os.environ | {
        "SMALLRETAIL_DB": db, "SMALLRETAIL_QUEUE_SIZE": str(queue_size),
        "SMALLRETAIL_BATCH_SIZE": str(batch_size), "SMALLRETAIL_MAX_NEW_TOKENS": str(max_new_tokens),
        "SMALLRETAIL_RATE_LIMIT_BURST": str(rate_limit_burst),
        "SMALLRETAIL_RATE_LIMIT_PER_MINUTE": str(rate_limit_per_minute),
        "SMALLRETAIL_DEMO": "false", "SMALLRETAIL_LOG_LEVEL": "WARNING"}
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*_smallretail(), "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--model", model], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, start_timeout_s, lambda: log_path.read_text(errors="replace"))
        yield base, key, product_id, log_path
    finally:
        stop(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running server; without it one is started")
    parser.add_argument("--api-key", help="with --base-url: a key of the shop to test")
    parser.add_argument("--product-id", default="TOFU-300")
    parser.add_argument("--model", default="nano", help="started server: hub id, dir or nano")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--queue-size", type=int, default=4)
    parser.add_argument("--rate-limit-burst", type=int, default=32,
                        help="started server: requests one key may make at once")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("eval/reports/load_test.json"))
    args = parser.parse_args(argv)
    if args.base_url:
        if not args.api_key:
            parser.error("--base-url 에는 --api-key 가 필요합니다.")
        report = run_load(args.base_url, args.api_key, args.clients, args.requests,
                          product_id=args.product_id, max_tokens=args.max_tokens)
    else:
        with tempfile.TemporaryDirectory(prefix="smallretail-load-") as tmp, local_server(
                args.model, Path(tmp), queue_size=args.queue_size,
                rate_limit_burst=args.rate_limit_burst, max_new_tokens=args.max_tokens) as (base, key, product_id, _):
            report = run_load(base, key, args.clients, args.requests, product_id=product_id,
                              max_tokens=args.max_tokens)
            report["config"] |= {"server": "smallretail serve", "queue_size": args.queue_size,
                                 "rate_limit_burst": args.rate_limit_burst,
                                 "model_arg": args.model}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    summary = {k: report[k] for k in ("tried", *OUTCOMES)}
    print(json.dumps(summary | {"out": str(args.out)}, ensure_ascii=False))
    return 1 if report["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())

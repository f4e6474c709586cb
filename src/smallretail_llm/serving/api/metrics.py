"""Prometheus metrics of one app, in the app's own CollectorRegistry (never the global one, so
tests and multi-app processes do not collide). The engine's own counters (a local engine's
batcher, a remote engine's requests and circuit breaker), when it has them, are read at scrape
time by a custom collector."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from smallretail_llm.serving.engines.engine import Engine

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class ApiMetrics:
    """Everything the API counts. Label values are bounded: routes are path templates, shops are
    the shops that hold keys. A shop label is a keyed hash of the shop id (``shop_label``) unless
    the operator opts in to plain ids: whoever reads the metrics learns neither who the
    customers are nor, without the salt, which hash is whose."""

    def __init__(self, engine: Engine | None = None, *, shop_labels: bool = False,
                 salt: str = "") -> None:
        self.plain_shop_labels = shop_labels
        self._salt = salt.encode()
        self.on_tokens: Callable[[int], None] | None = None  # the token quota's counter
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("smallretail_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("smallretail_http_request_duration_seconds",
                                 "Time from request to the last response byte", ["method", "route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.tokens = Counter("smallretail_tokens", "Tokens through the engine",
                              ["direction"], registry=r)
        self.generation_latency = Histogram(
            "smallretail_generation_duration_seconds", "One engine.generate call, queue included",
            ["task"], buckets=LATENCY_BUCKETS, registry=r)
        self.grounding = Counter(
            "smallretail_grounding", "Description outcomes: pass (first draft), regenerate "
            "(each extra draft), fallback (deterministic renderer used)", ["outcome"], registry=r)
        self.answers = Counter(
            "smallretail_answers", "Customer answers per shop: automatic or handoff (needs_human)",
            ["shop", "outcome"], registry=r)
        self.rejected = Counter("smallretail_rejected", "Requests refused before any work",
                                ["reason"], registry=r)
        self.engine_unavailable = Counter(
            "smallretail_engine_unavailable", "Requests answered without the model because the "
            "engine was unavailable: description/answer (renderer, rules), chat (503)", ["task"],
            registry=r)
        if engine is not None and hasattr(engine, "metrics"):
            r.register(_EngineCollector(engine))

    def shop_label(self, shop_id: str) -> str:
        if self.plain_shop_labels:
            return shop_id
        digest = hmac.new(self._salt, shop_id.encode(), hashlib.sha256).hexdigest()
        return f"h{digest[:12]}"

    def count_tokens(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.tokens.labels("in").inc(prompt_tokens)
        self.tokens.labels("out").inc(completion_tokens)
        if self.on_tokens is not None:
            self.on_tokens(prompt_tokens + completion_tokens)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _EngineCollector(Collector):
    """From ``engine.metrics``: queue depth, running rows and batch sizes (a BatcherMetrics),
    or requests, retries and the breaker (a remote engine's RemoteMetrics)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def describe(self) -> list:
        return []  # collected lazily: the engine may not expose metrics yet

    def collect(self) -> Iterator:
        m = getattr(self.engine, "metrics", None)
        if m is None:
            return
        if hasattr(m, "breaker"):
            yield from _remote(m)
        if not hasattr(m, "batch_sizes"):
            return
        yield GaugeMetricFamily("smallretail_queue_depth", "Generations waiting", value=m.queue_depth)
        yield GaugeMetricFamily("smallretail_batch_running", "Rows in the running batch",
                                value=m.running)
        rejected = CounterMetricFamily("smallretail_queue_rejected", "Refused: queue full")
        rejected.add_metric([], m.rejected_total)
        yield rejected
        yield _histogram("smallretail_batch_size", "Requests per model batch when it starts",
                         m.batch_sizes)
        yield _histogram("smallretail_decode_rows", "Rows per decode step", m.step_rows)
        joined = CounterMetricFamily("smallretail_batch_joined",
                                     "Requests that joined a running batch")
        joined.add_metric([], m.joined_total)
        yield joined


def _histogram(name: str, text: str, counts: dict[int, int]) -> HistogramMetricFamily:
    """A histogram of small counts (batch sizes, rows) over ``BATCH_BUCKETS``."""
    sizes = dict(counts)
    buckets = [(str(bound), sum(n for size, n in sizes.items() if size <= bound))
               for bound in BATCH_BUCKETS]
    buckets.append(("+Inf", sum(sizes.values())))
    histogram = HistogramMetricFamily(name, text)
    histogram.add_metric([], buckets, sum(size * n for size, n in sizes.items()))
    return histogram


def _remote(m: Any) -> Iterator:
    yield GaugeMetricFamily("smallretail_engine_up", "1 while the remote model server is "
                            "usable (circuit breaker not open)", value=1 if m.up else 0)
    yield GaugeMetricFamily("smallretail_remote_in_flight", "Requests waiting on the remote "
                            "server", value=m.in_flight)
    for name, text, value in (
            ("smallretail_remote_requests", "Requests sent to the remote server", m.requests_total),
            ("smallretail_remote_retries", "Retries before the first token", m.retries_total),
            ("smallretail_remote_failures", "Requests that ended engine-unavailable",
             m.failures_total),
            ("smallretail_breaker_opened", "Times the circuit breaker opened",
             m.breaker.opened_total)):
        counter = CounterMetricFamily(name, text)
        counter.add_metric([], value)
        yield counter

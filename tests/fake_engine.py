"""A deterministic stand-in for the generation engine (implements ``engine.Engine``), for API
and assistant tests: scripted replies, a forced "queue full", per-delta gates for streaming."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Self

from smallretail_llm.core.record import DateFact, NetContent, ProductRecord, ShopPolicy
from smallretail_llm.serving.engines.engine import (
    GenerationRequest,
    GenerationResult,
    QueueFull,
    TextStream,
    UnknownAdapter,
)

DEFAULT_REPLY = "안녕하세요, 시험용 모델입니다."


class FakeEngine:
    """Replies come from ``replies`` (used in order, the last one repeats) or ``reply(request)``.
    One "token" is one character, so usage and ``max_new_tokens`` are easy to predict."""

    def __init__(self, replies: Sequence[str] = (DEFAULT_REPLY,), *, name: str = "fake-base",
                 adapters: Sequence[str] = (), reply: Callable[[GenerationRequest], str] | None = None,
                 ready: bool = True) -> None:
        self.name = name
        self.adapters = list(adapters)
        self.replies = list(replies)
        self.reply = reply
        self.ready = ready
        self.queue_full = False
        self.calls: list[GenerationRequest] = []
        self.gate: asyncio.Semaphore | None = None  # set: each delta waits for one release()

    def model_names(self) -> list[str]:
        return [self.name, *self.adapters]

    def _check(self, request: GenerationRequest) -> None:
        if self.queue_full:
            raise QueueFull(4, 2.5)
        if request.adapter is not None and request.adapter not in self.adapters:
            raise UnknownAdapter(request.adapter, self.adapters)
        self.calls.append(request)

    def _text(self, request: GenerationRequest) -> tuple[str, str]:
        if self.reply is not None:
            text = self.reply(request)
        else:
            text = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        for stop in request.stop:
            if stop in text:
                return text[: text.index(stop)], "stop"
        if len(text) > request.max_new_tokens:
            return text[: request.max_new_tokens], "length"
        return text, "stop"

    def _result(self, request: GenerationRequest, text: str, reason: str) -> GenerationResult:
        prompt = sum(len(m["content"]) for m in request.messages or ()) or len(request.prompt or "")
        return GenerationResult(text, prompt, len(text), reason,  # type: ignore[arg-type]
                                request.adapter or self.name)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        self._check(request)
        text, reason = self._text(request)
        return self._result(request, text, reason)

    def stream(self, request: GenerationRequest) -> TextStream:
        self._check(request)
        text, reason = self._text(request)
        deltas: asyncio.Queue[str] = asyncio.Queue()

        async def run() -> GenerationResult:
            for char in text:
                if self.gate is not None:
                    await self.gate.acquire()
                deltas.put_nowait(char)
                await asyncio.sleep(0)
            return self._result(request, text, reason)

        return TextStream(deltas, asyncio.get_running_loop().create_task(run()))


def tofu(shop: str = "s1", sku: str = "TOFU-300", **changes) -> ProductRecord:
    """A processed-food record with every required 상품정보제공고시 field filled, so the
    deterministic renderer's copy passes grounding in every style."""
    fields = {
        "shop_id": shop, "sku": sku, "name": "국산콩 두부", "category": "processed_food",
        "brand": "맑은콩", "manufacturer": "맑은식품", "origin": "국내산", "price_krw": 3500,
        "net_content": NetContent(value=300, unit="g"), "allergens": ["대두"],
        "storage": "냉장 보관 (0~10℃)", "certifications": ["HACCP"],
        "use_by": DateFact(date=dt.date(2026, 3, 1)),
        "notice": {"food_type": "두부", "producer_location": "경기도 이천시",
                   "ingredients": "대두(국산) 98%, 응고제", "safety_caution": "개봉 후 빨리 드세요"}}
    return ProductRecord(**(fields | changes))


def shop_policy(shop: str = "s1", **changes) -> ShopPolicy:
    fields = {"shop_id": shop, "shop_name": "맑은콩 상회", "shipping_fee_krw": 3000,
              "free_shipping_threshold_krw": 30000, "shipping_days": "결제 후 1~2일 내 출고",
              "return_policy": "수령 후 7일 이내 교환·반품 가능", "cs_phone": "02-123-4567",
              "cs_hours": "평일 10시~17시"}
    return ShopPolicy(**(fields | changes))


class FakeClock:
    """A monotonic clock the test moves by hand (rate-limit refills without sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ApiHarness:
    """An app on a fresh SQLite DB with shops s1 and s2 (a key, a policy and the TOFU-300
    product each), a fake engine and a fake clock. Use as a context manager (runs the lifespan
    and keeps one event loop for all requests)."""

    def __init__(self, tmp_path, engine: FakeEngine | None = None, **settings) -> None:
        from fastapi.testclient import TestClient

        from smallretail_llm.db.keys import create_key
        from smallretail_llm.db.store import Store
        from smallretail_llm.serving.api import create_app
        from smallretail_llm.serving.settings import Settings

        self.settings = Settings(**({"db": f"sqlite:///{tmp_path / 'api.db'}"} | settings))
        self.store = Store(self.settings.db)
        self.keys = {shop: create_key(self.store, shop) for shop in ("s1", "s2")}
        for shop in ("s1", "s2"):
            self.store.put_policy(shop_policy(shop))
            self.store.put_product(tofu(shop, name=f"국산콩 두부 {shop}"))
        self.engine = engine or FakeEngine()
        self.clock = FakeClock()
        self.app = create_app(self.settings, self.engine, self.store, clock=self.clock)
        # a local Host: keyless demo mode refuses any other (DNS rebinding)
        self.client = TestClient(self.app, raise_server_exceptions=False,
                                 base_url="http://127.0.0.1")

    def auth(self, shop: str = "s1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[shop]}"}

    def __enter__(self) -> Self:
        self.client.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.client.__exit__(*exc)


UNGROUNDED_DRAFT = "당뇨 치료에 좋은 100% 유기농 두부 1kg, 지금 9,900원!"
"""A draft every grounding check fails: disease claim, invented certification, numbers."""

"""Per-key token buckets: a key may spend ``burst`` requests at once and regains ``rate`` per
second. One bucket per authenticated key, in this process (each replica limits on its own)."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Not thread-safe on purpose: it is used only on the event loop."""

    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("rate 는 0보다 크고 burst 는 1 이상이어야 합니다.")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Spend one request for ``key``: 0.0 when allowed, else the seconds until it would be."""
        now = self._clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

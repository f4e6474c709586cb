"""A circuit breaker for calls to a remote generation server.

Why: when the model server is down, every request would otherwise wait for connect timeouts
and retries before the assistant falls back; an open breaker fails at once and lets the server
recover without a stampede.

- closed: calls go through; ``failures`` consecutive failures open it.
- open: calls are refused until ``reset_s`` has passed since it opened.
- half-open: one probe call goes through (the others are still refused); its success closes
  the breaker, its failure opens it again for another ``reset_s``.

Every call that ``allow()`` let through must end in ``success()``, ``failure()`` or
``cancel()``. The clock
is injectable, so tests move time by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(self, failures: int = 5, reset_s: float = 30.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1:
            raise ValueError(f"failures 는 1 이상이어야 합니다: {failures}")
        if not reset_s > 0:
            raise ValueError(f"reset_s 는 0보다 커야 합니다: {reset_s}")
        self.failures = failures
        self.reset_s = reset_s
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False
        self.opened_total = 0  # how many times it opened (a metric)

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.reset_s:
            return "half_open"
        return "open"

    def retry_after_s(self) -> float:
        """Seconds until a probe may go through (0 when calls are allowed now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_s - self._clock())

    def allow(self) -> bool:
        """May a call go through now? In half-open state only the first caller gets True."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self._consecutive = 0
        self._opened_at = None
        self._probing = False

    def cancel(self) -> None:
        """A call ended without a verdict (its caller went away): a half-open breaker lets
        the next call probe."""
        self._probing = False

    def failure(self) -> None:
        self._consecutive += 1
        if self._probing or (self._opened_at is None and self._consecutive >= self.failures):
            self._opened_at = self._clock()
            self.opened_total += 1
        self._probing = False

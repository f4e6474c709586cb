"""Request and token quotas counted in the database, so every API replica over one PostgreSQL
shares one count (and a restart does not reset it). A hosted deployment already has that
database; adding Redis only for counters would be one more thing to run and to lose.

Counts live in fixed windows: a key's requests per minute, a shop's requests and tokens per day
and per month (UTC). ``take`` adds one request to every window in one transaction with
``INSERT … ON CONFLICT DO UPDATE … RETURNING``: the row lock serializes replicas, and a request
over any limit rolls the whole transaction back, so refused requests use no quota and the
accepted ones of all replicas together never pass a limit. SQLite (one process) runs the same
statements.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, select

from smallretail_llm.db.models import UsageRow
from smallretail_llm.db.store import Store

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


@dataclass(frozen=True)
class Limits:
    """None: no limit. Per key: requests a minute; per shop: requests and tokens a day/month."""

    per_minute: int | None = None
    per_day: int | None = None
    per_month: int | None = None
    tokens_per_day: int | None = None
    tokens_per_month: int | None = None

    def any(self) -> bool:
        return any(v is not None for v in (self.per_minute, self.per_day, self.per_month,
                                           self.tokens_per_day, self.tokens_per_month))


@dataclass
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0
    exceeded: str | None = None  # which limit: requests_per_minute, tokens_per_day, …
    remaining: dict[str, int] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)


def _windows(now: float) -> dict[str, tuple[str, float]]:
    """Window name and seconds until it ends, for minute, day and month (UTC)."""
    t = dt.datetime.fromtimestamp(now, dt.UTC)
    minute_end = (now // 60 + 1) * 60 - now
    next_day = (t + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    next_month = (t.replace(day=28) + dt.timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)
    return {"minute": (f"m:{t:%Y%m%d%H%M}", minute_end),
            "day": (f"d:{t:%Y%m%d}", (next_day - t).total_seconds()),
            "month": (f"M:{t:%Y%m}", (next_month - t).total_seconds())}


class Usage:
    """Quota counters over one store."""

    def __init__(self, store: Store, limits: Limits,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limits = limits
        self._clock = clock
        dialect = store.engine.dialect.name
        self._insert: Callable[[Table], postgresql.Insert | sqlite.Insert]
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            self._insert = pg_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert
            self._insert = sqlite_insert

    def _add(self, session, subject: str, window: str, requests: int, tokens: int
             ) -> tuple[int, int]:
        table = cast(Table, UsageRow.__table__)  # a mapped class's __table__ is its Table
        insert = self._insert(table).values(
            subject=subject, window=window, requests=requests, tokens=tokens)
        statement = insert.on_conflict_do_update(
            index_elements=["subject", "window"],
            set_={"requests": table.c.requests + requests, "tokens": table.c.tokens + tokens},
        ).returning(table.c.requests, table.c.tokens)
        return tuple(session.execute(statement).one())

    def take(self, key_id: str | None, shop_id: str) -> Verdict:
        """Count one request of ``key_id`` (None in demo mode) for ``shop_id``."""
        limits = self.limits
        if not limits.any():
            return Verdict(True)
        windows = _windows(self._clock())
        checks = []  # (name, limit, used, seconds until the window ends)
        with self.store.transaction() as session:
            if limits.per_minute is not None and key_id is not None:
                name, ends = windows["minute"]
                used, _ = self._add(session, f"key:{key_id}", name, 1, 0)
                checks.append(("requests_per_minute", limits.per_minute, used, ends))
            for period, requests, tokens in (("day", limits.per_day, limits.tokens_per_day),
                                             ("month", limits.per_month,
                                              limits.tokens_per_month)):
                if requests is None and tokens is None:
                    continue
                name, ends = windows[period]
                used, used_tokens = self._add(session, f"shop:{shop_id}", name, 1, 0)
                if requests is not None:
                    checks.append((f"requests_per_{period}", requests, used, ends))
                if tokens is not None:  # refused once the tokens already used reach the limit
                    checks.append((f"tokens_per_{period}", tokens, used_tokens + 1, ends))
            verdict = Verdict(True, remaining={n: max(0, lim - used) for n, lim, used, _ in checks},
                              limits={n: lim for n, lim, _, _ in checks})
            over = [(ends, n) for n, lim, used, ends in checks if used > lim]
            if over:
                session.rollback()  # a refused request uses no quota
                ends, name = max(over)
                verdict.allowed, verdict.retry_after_s, verdict.exceeded = False, ends, name
        return verdict

    def add_tokens(self, shop_id: str, tokens: int) -> None:
        """Count the tokens a shop's request used (after it ran) in its day and month."""
        if tokens <= 0 or (self.limits.tokens_per_day is None
                           and self.limits.tokens_per_month is None):
            return
        windows = _windows(self._clock())
        with self.store.transaction() as session:
            for period in ("day", "month"):
                self._add(session, f"shop:{shop_id}", windows[period][0], 0, tokens)

    def add_tokens_for_current_shop(self, tokens: int) -> None:
        """``add_tokens`` for the shop being served (``core.tenant.TENANT``, set by the API). A
        short synchronous write: a few milliseconds, once per generation."""
        from smallretail_llm.core.tenant import TENANT

        shop_id = TENANT.get()
        if shop_id is not None:
            self.add_tokens(shop_id, tokens)

    def report(self, shop_id: str) -> dict:
        """The shop's use in the current day and month, for the operator."""
        windows = _windows(self._clock())
        wanted = {windows["day"][0]: "day", windows["month"][0]: "month"}
        out = {"shop": shop_id, "day": {"requests": 0, "tokens": 0},
               "month": {"requests": 0, "tokens": 0}}
        with self.store.transaction() as session:
            rows = session.execute(select(UsageRow).where(
                UsageRow.subject == f"shop:{shop_id}", UsageRow.window.in_(list(wanted))))
            for (row,) in rows:
                out[wanted[row.window]] = {"requests": row.requests, "tokens": row.tokens}
        out["limits"] = {k: v for k, v in vars(self.limits).items() if v is not None}
        return out

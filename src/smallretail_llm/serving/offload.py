"""Blocking work of a request run off the event loop. The API's routes are ``async`` because the
model call streams; what they do besides it is synchronous: database queries and writes (which
can wait on a lock) and the grounding and copy checks (kiwipiepy, CPU-bound, tens of
milliseconds a draft). Run on the loop, one slow check or one database wait stalls every
connection of the process. ``Offload`` runs such work in a thread pool of its own, sized by
``SMALLRETAIL_BLOCKING_THREADS``; one per app (``Services.offload``).

Threads, not processes: a database wait releases the GIL, so the loop runs meanwhile. kiwipiepy
holds the GIL while it analyses a text (measured: a 16 ms tokenize stalls the other threads 16
ms), so during a check the loop still waits, but for one analysis call at a time, not for a
whole request's checks; moving checks to processes would need every record and closure pickled.

Library callers outside the API (eval, bench: one request at a time, no other connection to
keep answering) pass no pool, and ``run_blocking`` runs the work inline: same code, same result.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Offload:
    """A bounded thread pool for a request's blocking work. Threads start on first use; the
    caller's context variables (``core.tenant.TENANT``: whose tokens a quota counts) go with the work."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"blocking threads must be at least 1 (got {threads})")
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads,
                                        thread_name_prefix="smallretail-blocking")

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the pool; the loop serves other requests meanwhile."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, fn,
                                                                *args)


async def run_blocking(pool: Offload | None, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in ``pool``, or inline when there is none (eval, bench)."""
    return fn(*args) if pool is None else await pool(fn, *args)

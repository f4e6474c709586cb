"""Slow clients: uvicorn's h11 protocol with read deadlines. A connection must send a whole
request head within ``read_timeout_s`` of connecting (or of its previous response) and a whole
body within ``body_timeout_s`` of its head, else it is closed; a client dribbling one header
byte at a time (slowloris) no longer holds a socket forever. Idle keep-alive connections close
after uvicorn's ``timeout_keep_alive``, and ``limit_concurrency`` caps open connections (503)."""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class TimedH11Protocol(H11Protocol):
    read_timeout_s: float = 15.0
    body_timeout_s: float = 60.0
    _phase: str | None = None
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._set(None)
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Arm the deadline of the phase the client is in: sending a head, or a body."""
        if self.transport is None or self.transport.is_closing():
            self._set(None)
            return
        state = self.conn.their_state
        self._set("head" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None)

    def _set(self, phase: str | None) -> None:
        if phase == self._phase:
            return  # a deadline runs from the start of its phase, not from the last byte
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = phase
        if phase is not None:
            delay = self.read_timeout_s if phase == "head" else self.body_timeout_s
            self._deadline = self.loop.call_later(delay, self._timed_out)

    def _timed_out(self) -> None:
        phase, self._deadline = self._phase, None
        if self.transport is None or self.transport.is_closing():
            return
        log.info("closing a slow connection", extra={"phase": phase, "client": self.client})
        if phase == "head" and self.conn.their_state is h11.IDLE and self.cycle is None:
            self.transport.close()  # nothing started: no response owed
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's next receive() sees http.disconnect
            self.cycle.message_event.set()
        self.transport.close()


def protocol(read_timeout_s: float, body_timeout_s: float) -> type[TimedH11Protocol]:
    """The protocol class for ``uvicorn.Config(http=…)`` with these deadlines."""
    return type("TimedH11", (TimedH11Protocol,), {"read_timeout_s": read_timeout_s,
                                                  "body_timeout_s": body_timeout_s})

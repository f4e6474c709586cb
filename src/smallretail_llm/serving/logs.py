"""Structured logs: one JSON object per line, with personal data redacted.

Callers pass customer text through ``redact_pii`` before logging it and never log raw questions;
the formatter redacts every string once more (message, extra fields, traceback) so a slip in a
caller still cannot put a phone number or an address into the log files.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import threading
from typing import Any

from smallretail_llm.core.pii import redact_pii

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


_state = threading.local()


def _redact(text: str) -> str:
    """redact_pii, except while already inside it on this thread (redact_pii logs its own
    failures, and formatting that log line must not recurse): then mask every digit."""
    if getattr(_state, "busy", False):
        return re.sub(r"\d", "*", text)
    _state.busy = True
    try:
        return redact_pii(text).text
    finally:
        _state.busy = False


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_clean(v) for v in value]
    return _redact(str(value))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra fields, "exc"?}`` on one line, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items()
                      if key not in _STANDARD and not key.startswith("_")})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(_clean(entry), ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """Plain-text logs (for a developer's terminal), redacted like the JSON ones."""

    def format(self, record: logging.LogRecord) -> str:
        return _redact(super().format(record))


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Send the root logger (and uvicorn's) to stderr through one redacting formatter.
    Called by ``serve``, never at import time."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else RedactingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True

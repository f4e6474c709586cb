"""The shop a request is served for, as a context variable: the API sets it when it authenticates
the caller, a generation request made while serving that shop carries it, and the usage quota
counts its tokens against it. It lives here, below every stage, because the database (usage) and
the engines both read it."""

from __future__ import annotations

from contextvars import ContextVar

TENANT: ContextVar[str | None] = ContextVar("smallretail_tenant", default=None)
"""The shop a request is served for; the API sets it when it authenticates the caller, and a
``GenerationRequest`` made while serving that shop carries it as ``tenant``."""

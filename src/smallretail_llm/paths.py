"""Where the toolkit keeps what it builds: SMALLRETAIL_HOME (default ~/.cache/smallretail) holds
the demo DB, built models, datasets and training runs; SMALLRETAIL_DB overrides the DB URL."""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    env = os.environ.get("SMALLRETAIL_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "smallretail"


def default_db_url() -> str:
    return os.environ.get("SMALLRETAIL_DB") or f"sqlite:///{home_dir() / 'smallretail.db'}"

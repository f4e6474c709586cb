"""Where the toolkit keeps what it builds: SMALLRETAIL_HOME (default ~/.cache/smallretail) holds
the demo DB, built models, datasets and training runs; SMALLRETAIL_DB overrides the DB URL."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def home_dir() -> Path:
    env = os.environ.get("SMALLRETAIL_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "smallretail"


def default_db_url() -> str:
    return os.environ.get("SMALLRETAIL_DB") or f"sqlite:///{home_dir() / 'smallretail.db'}"


def make_readable(folder: str | Path) -> None:
    """Give every file under ``folder`` read (and folders search) permission for all: some
    writers (safetensors via a temp file) leave 0600, and a container user other than the
    builder could not read a mounted model folder."""
    folder = Path(folder)
    for path in [folder, *folder.rglob("*")]:
        extra = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir():
            extra |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        path.chmod(path.stat().st_mode | extra)

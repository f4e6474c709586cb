"""`smallretail db …`: the database schema's Alembic revision: upgrade it in place, or print it."""

from __future__ import annotations

import typer

from smallretail_llm.cli.common import DbOpt, db_url, emit

db_app = typer.Typer(no_args_is_help=True, help="데이터베이스 스키마 (Alembic)")


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Bring the database schema to the newest revision, in place."""
    from smallretail_llm.db.migrate import upgrade

    emit(upgrade(db_url(db)))


@db_app.command("current")
def db_current(db: DbOpt = None) -> None:
    """Print the database's schema revision."""
    from smallretail_llm.db.migrate import current

    emit({"revision": current(db_url(db))})


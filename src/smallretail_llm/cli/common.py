"""What every `smallretail` command shares: the one-line JSON summary, the Korean error exit, the
--db option and its checked URL, the store, and the catalog-with-policies that the data and model
commands both train on. One place, so every command reports success and failure the same way."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:  # the commands import lazily, so `smallretail --help` stays fast
    from smallretail_llm.core.record import ProductRecord, ShopPolicy

DbOpt = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (기본: SMALLRETAIL_DB)")]


def emit(payload: dict) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"오류: {message}", err=True)
    raise typer.Exit(code)


def db_url(db: str | None) -> str | None:
    """``db`` if SQLAlchemy can use it (None: the default database); else a Korean error and
    exit 2, not a traceback. The URL itself is not echoed: it may hold a password."""
    if db is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(db).get_dialect()
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError):
        scheme = db.split(":", 1)[0] if ":" in db else db[:20]
        fail(f"데이터베이스 URL을 쓸 수 없습니다 (--db, 방식 '{scheme}'). 예: "
             "sqlite:///경로/파일.db 또는 postgresql+psycopg://사용자:암호@호스트/DB", 2)
    return db


def open_store(db: str | None):
    from smallretail_llm.db.store import Store

    return Store(db_url(db))


def catalog_with_policies(db: str | None) -> list[tuple[ProductRecord, ShopPolicy]]:
    from smallretail_llm.catalog.service import catalog_pairs

    def no_policy(shop: str) -> None:
        fail(f"상점 '{shop}'의 정책(배송·교환·상담)이 없습니다: "
             "`smallretail catalog policy 정책.json`으로 먼저 등록하세요", 2)

    pairs = catalog_pairs(open_store(db), on_missing_policy=no_policy)
    if not pairs:
        fail("데이터베이스에 상품이 없습니다: `smallretail catalog import`로 먼저 가져오세요", 2)
    return pairs

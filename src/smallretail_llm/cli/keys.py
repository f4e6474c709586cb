"""`smallretail keys …`: create, list, revoke and rotate a shop's API keys (stored as hashes; a
key is shown once). The key lifecycle's commands, kept together."""

from __future__ import annotations

from typing import Annotated

import typer

from smallretail_llm.cli.common import DbOpt, emit, fail, open_store

keys_app = typer.Typer(no_args_is_help=True, help="API 키: 상점별 발급 (해시로 저장, 원문은 한 번만 표시)")


ScopesOpt = Annotated[str | None, typer.Option(
    "--scopes", help="쉼표로 구분: catalog:read,generate,import (기본: 모두)")]


def _keys(db: str | None):
    from smallretail_llm.db.keys import ApiKeys

    return ApiKeys(open_store(db))


@keys_app.command("create")
def keys_create(
    shop: Annotated[str, typer.Option("--shop")],
    name: Annotated[str | None, typer.Option("--name", help="키 이름 (목록에 표시)")] = None,
    scopes: ScopesOpt = None,
    expires_days: Annotated[float | None, typer.Option(
        "--expires-days", help="며칠 뒤 만료 (기본: 만료 없음)", min=0.0001)] = None,
    db: DbOpt = None,
) -> None:
    """Create an API key for a shop; the key is printed once and stored only as a hash."""
    import datetime as dt

    from smallretail_llm.db.keys import key_id_of

    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days)
               if expires_days is not None else None)
    try:
        key = _keys(db).create(shop, name=name, expires_at=expires, scopes=(
            [s.strip() for s in scopes.split(",") if s.strip()] if scopes is not None else None))
    except ValueError as exc:
        fail(str(exc), 2)
    emit({"shop": shop, "key_id": key_id_of(key), "key": key,
          "expires": expires.isoformat() if expires else None})


@keys_app.command("list")
def keys_list(shop: Annotated[str | None, typer.Option("--shop")] = None, db: DbOpt = None) -> None:
    """The shop's keys (all shops without --shop): prefix, name, times, scopes; never a key."""
    emit({"keys": [k.listing() for k in _keys(db).list(shop)]})


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="키 ID (목록의 id)")],
                db: DbOpt = None) -> None:
    """Refuse the key from now on, on every server over this database."""
    if not _keys(db).revoke(key_id):
        fail(f"폐기할 수 있는 키가 없습니다: '{key_id}' (없거나 이미 폐기됨)")
    emit({"key_id": key_id, "revoked": True})


@keys_app.command("rotate")
def keys_rotate(key_id: Annotated[str, typer.Argument(help="키 ID (목록의 id)")],
                db: DbOpt = None) -> None:
    """A new key with the same shop, name and scopes; the old one is revoked at once."""
    from smallretail_llm.db.keys import key_id_of

    key = _keys(db).rotate(key_id)
    if key is None:
        fail(f"교체할 수 있는 키가 없습니다: '{key_id}' (없거나 이미 폐기됨)")
    emit({"key_id": key_id_of(key), "key": key, "replaces": key_id})


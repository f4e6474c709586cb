"""`smallretail catalog …`: import, validate and export a shop's products, list the
상품정보제공고시 categories, load shop policies. The catalog's own commands, kept together."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from smallretail_llm.cli.common import DbOpt, emit, fail, open_store

catalog_app = typer.Typer(no_args_is_help=True, help="상품 카탈로그: 가져오기, 검증, 내보내기, 카테고리")


def _mapping(path: Path | None) -> dict[str, str]:
    from smallretail_llm.catalog.headers import MappingError, load_mapping

    try:
        return load_mapping(path)
    except MappingError as exc:
        fail(str(exc), 2)


@catalog_app.command("import")
def catalog_import(
    path: Path,
    shop: Annotated[str | None, typer.Option("--shop", help="상점 ID (파일에 '상점' 열이 없을 때)")] = None,
    db: DbOpt = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="열 매핑 YAML")] = None,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="거부된 행을 쓸 CSV")] = None,
) -> None:
    """Import a shop export (CSV/XLSX/JSON/JSONL); bad rows go to the rejects file with reasons."""
    from smallretail_llm.catalog.service import default_rejects_path, import_catalog
    from smallretail_llm.catalog.tables import TableError

    try:
        summary = import_catalog(open_store(db), path, shop, _mapping(mapping),
                                 rejects or default_rejects_path(path))
    except TableError as exc:
        fail(str(exc), 2)
    typer.echo(summary.to_json())


@catalog_app.command("validate")
def catalog_validate(
    path: Path,
    shop: Annotated[str | None, typer.Option("--shop")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping")] = None,
    rejects: Annotated[Path | None, typer.Option("--rejects")] = None,
) -> None:
    """Run every import check without writing to the database."""
    from smallretail_llm.catalog.service import validate_catalog
    from smallretail_llm.catalog.tables import TableError

    try:
        summary = validate_catalog(path, shop or "validate", _mapping(mapping), rejects)
    except TableError as exc:
        fail(str(exc), 2)
    typer.echo(summary.to_json())


@catalog_app.command("export")
def catalog_export(
    shop: Annotated[str, typer.Option("--shop")],
    out: Annotated[Path | None, typer.Option("--out", help="파일 (기본: 표준출력)")] = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
) -> None:
    """Export one shop's products as JSONL standard records."""
    from smallretail_llm.catalog.service import export_jsonl

    if fmt != "jsonl":
        fail(f"지원하지 않는 형식: {fmt} (jsonl만 지원)", 2)
    records = open_store(db).list_products(shop)
    text = export_jsonl(records)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    emit({"shop": shop, "products": len(records), "out": str(out)})


@catalog_app.command("categories")
def catalog_categories(
    code: Annotated[str | None, typer.Argument(help="카테고리 코드나 이름: 항목까지 표시")] = None,
) -> None:
    """List the 상품정보제공고시 categories (or one category's fields)."""
    from smallretail_llm.core.categories import CATEGORIES, UnknownCategory, get_category

    if code:
        try:
            spec = get_category(code)
        except UnknownCategory as exc:
            fail(str(exc.args[0]), 2)
        for f in spec.fields:
            typer.echo(f"{f.key:28} {'필수' if f.required else '선택'}  {f.type:10} {f.label}")
        return
    for spec in CATEGORIES.values():
        required = sum(f.required for f in spec.fields)
        typer.echo(f"{spec.code:20} {spec.label}  (항목 {len(spec.fields)}, 필수 {required})")


@catalog_app.command("policy")
def catalog_policy(path: Path, db: DbOpt = None) -> None:
    """Load shop policies (a JSON object or a list of them) into the database."""
    from pydantic import ValidationError

    from smallretail_llm.core.record import ShopPolicy

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        policies = [ShopPolicy.model_validate(p) for p in (doc if isinstance(doc, list) else [doc])]
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        fail(f"상점 정책 파일을 읽을 수 없습니다: {path} ({exc})", 2)
    store = open_store(db)
    for policy in policies:
        store.put_policy(policy)
    emit({"policies": len(policies), "shops": [p.shop_id for p in policies]})


"""`make demo`: build what is missing from the embedded defaults and show the result."""

from __future__ import annotations

import json
from importlib import resources

from rich.console import Console
from rich.table import Table

from .catalog import import_catalog
from .categories import CATEGORIES
from .record import ShopPolicy
from .store import Store


def sample_files() -> tuple[list, object]:
    """The shipped sample catalog: one CSV export per shop plus shops.json (policies)."""
    root = resources.files("smallretail_llm") / "samples"
    return sorted((p for p in root.iterdir() if p.name.endswith(".csv")), key=lambda p: p.name), (
        root / "shops.json")


def load_samples(store: Store) -> dict[str, dict]:
    """Import every sample shop export and policy; returns the summary per shop."""
    csvs, shops = sample_files()
    for policy in json.loads(shops.read_text(encoding="utf-8")):
        store.put_policy(ShopPolicy.model_validate(policy))
    summaries = {}
    for path in csvs:
        shop_id = path.name.removesuffix(".csv")
        summary = import_catalog(store, path.name, shop_id, data=path.read_bytes())
        summaries[shop_id] = summary
    return summaries


def run_demo(db: str | None = None) -> None:
    console = Console()
    store = Store(db)
    summaries = load_samples(store)
    table = Table(title=f"샘플 카탈로그 ({store.url})")
    for column in ("상점", "행", "신규", "기존", "변경", "거부", "필수항목 누락"):
        table.add_column(column, justify="right")
    for shop, s in summaries.items():
        table.add_row(shop, str(s.rows), str(s.imported), str(s.updated), str(s.changed),
                      str(s.rejected), str(s.missing_required))
    console.print(table)
    counts = store.category_counts()
    by_category = Table(title="카테고리별 상품 수")
    by_category.add_column("카테고리")
    by_category.add_column("상품 수", justify="right")
    for code, n in counts.items():
        label = CATEGORIES[code].label if code in CATEGORIES else code
        by_category.add_row(f"{label} ({code})", str(n))
    console.print(by_category)
    total = {k: sum(getattr(s, k) for s in summaries.values())
             for k in ("rows", "imported", "updated", "changed", "rejected")}
    console.print(json.dumps({"shops": len(summaries), **total, "db": store.url}, ensure_ascii=False))

"""The sample catalog shipped in the package (three shops' CSV exports and their policies): what
`make demo` imports, and what eval and bench read their products from."""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from smallretail_llm.catalog.service import ImportSummary, import_catalog
from smallretail_llm.core.record import ShopPolicy
from smallretail_llm.db.store import Store

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DEMO_SHOP = "hanbat_food"
DEMO_SKU = "HB-AG-001"


def sample_files() -> tuple[list[Traversable], Traversable]:
    """The shipped sample catalog: one CSV export per shop plus shops.json (policies)."""
    root = resources.files("smallretail_llm.catalog") / "samples"
    return sorted((p for p in root.iterdir() if p.name.endswith(".csv")), key=lambda p: p.name), (
        root / "shops.json")


def load_samples(store: Store) -> dict[str, ImportSummary]:
    """Import every sample shop export and policy; returns the summary per shop."""
    csvs, shops = sample_files()
    for policy in json.loads(shops.read_text(encoding="utf-8")):
        store.put_policy(ShopPolicy.model_validate(policy))
    summaries = {}
    for path in csvs:
        shop_id = path.name.removesuffix(".csv")
        summaries[shop_id] = import_catalog(store, path.name, shop_id, data=path.read_bytes())
    return summaries

"""Catalog import, validation and export: the CLI and the API both call these functions."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from smallretail_llm.catalog.ingest import ParsedRows, Rejection, parse_rows
from smallretail_llm.catalog.tables import Table, read_table, spreadsheet_safe
from smallretail_llm.core.categories import missing_required
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.db.store import Store
from smallretail_llm.grounding.record_rules import record_warnings

REJECTS_HEADER = ["행", "열", "사유", "값"]
WARNINGS_HEADER = ["행", "상품코드", "필드", "규칙", "안내"]
MAX_WARNING_EXAMPLES = 20


@dataclass
class ImportSummary:
    """rows == imported + updated + rejected, always. `changed` counts the updated rows that
    really differed, so re-importing the same file reports changed == 0."""

    rows: int
    imported: int = 0
    updated: int = 0
    changed: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    missing_required: int = 0  # valid products lacking a required 상품정보제공고시 field
    reasons: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    warnings: int = 0  # valid rows whose record breaks a rule itself (record_rules), imported
    warning_rules: dict[str, int] = field(default_factory=dict)
    warnings_file: str | None = None
    warning_examples: list[dict] = field(default_factory=list)  # the first few, row by row

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def parse_file(path: str | Path, shop_id: str | None, mapping: dict[str, str] | None = None,
               data: bytes | None = None, table: Table | None = None,
               ) -> tuple[ParsedRows, int, str | None]:
    """``table``: the file already read (the API reads an upload once, for all its checks)."""
    table = table or read_table(path, data)
    return parse_rows(table, shop_id, mapping), len(table.rows), table.encoding


def rejects_csv(rejections: list[Rejection]) -> str:
    """Rejected rows for a shop owner: UTF-8 with BOM so Excel opens the Korean correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REJECTS_HEADER)
    for r in sorted(rejections, key=lambda r: r.row):
        writer.writerow([r.row, *map(spreadsheet_safe, (r.column, r.reason, r.value))])
    return "\ufeff" + buffer.getvalue()


def default_rejects_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.rejects.csv")


def validate_catalog(path: str | Path, shop_id: str | None, mapping: dict[str, str] | None = None,
                     rejects_path: str | Path | None = None) -> ImportSummary:
    """All the checks of an import, writing nothing to the DB."""
    parsed, rows, encoding = parse_file(path, shop_id, mapping)
    summary = _summary(parsed, rows, encoding, rejects_path)
    summary.imported = len(parsed.records)  # would be imported or updated
    _warn(summary, parsed, None, rejects_path)  # no DB: policy text in a field is unverifiable
    return summary


def import_catalog(store: Store, path: str | Path, shop_id: str | None,
                   mapping: dict[str, str] | None = None, rejects_path: str | Path | None = None,
                   data: bytes | None = None, table: Table | None = None) -> ImportSummary:
    """Import one export in one transaction: all valid rows land, or (on any failure) none do."""
    parsed, rows, encoding = parse_file(path, shop_id, mapping, data, table)
    summary = _summary(parsed, rows, encoding, rejects_path)
    _warn(summary, parsed, store.get_policy(shop_id) if shop_id else None, rejects_path)
    with store.transaction() as session:
        counts = store.upsert(session, (record for _, record in parsed.records))
        summary.imported, summary.updated, summary.changed = (
            counts.imported, counts.updated, counts.changed)
        if shop_id:  # the audit row exists exactly when the imported rows do
            store.record_import(session, shop_id, summary, source=Path(path).name)
    assert summary.rows == summary.imported + summary.updated + summary.rejected, summary
    return summary


def _summary(parsed: ParsedRows, rows: int, encoding: str | None,
             rejects_path: str | Path | None) -> ImportSummary:
    summary = ImportSummary(rows=rows, rejected=parsed.rejected_rows, reasons=parsed.reasons(),
                            encoding=encoding)
    summary.missing_required = sum(1 for _, r in parsed.records if missing_required(r))
    if parsed.rejections and rejects_path is not None:
        Path(rejects_path).write_text(rejects_csv(parsed.rejections), encoding="utf-8")
        summary.rejects_file = str(rejects_path)
    return summary


def _warn(summary: ImportSummary, parsed: ParsedRows, policy: ShopPolicy | None,
          rejects_path: str | Path | None) -> None:
    """Per-row warnings (`record_rules`): counted in the summary, the first few shown there, all
    of them in `<rejects>.warnings.csv` beside the rejects file (UTF-8 with BOM, for Excel)."""
    rows = [(row, record, w) for row, record in parsed.records
            for w in record_warnings(record, policy)]
    summary.warnings = len({row for row, _, _ in rows})
    summary.warning_rules = dict(Counter(w.rule for _, _, w in rows))
    summary.warning_examples = [{"row": row, "sku": r.sku, **w.model_dump()}
                                for row, r, w in rows[:MAX_WARNING_EXAMPLES]]
    if rows and rejects_path is not None:
        path = Path(rejects_path).with_suffix(".warnings.csv")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(WARNINGS_HEADER)
        for row, record, w in rows:
            writer.writerow([row, record.sku, w.field, w.rule, w.message])
        path.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
        summary.warnings_file = str(path)


def catalog_pairs(store: Store, on_missing_policy: Callable[[str], None] | None = None,
                  ) -> list[tuple[ProductRecord, ShopPolicy]]:
    """(record, policy) for every product of every shop: what data, training and eval read.
    A shop with products but no policy is left out, after ``on_missing_policy(shop)`` (which
    may raise, as the CLI does, or warn, as eval does)."""
    pairs: list[tuple[ProductRecord, ShopPolicy]] = []
    for shop in store.shops():
        products = store.list_products(shop)
        if not products:
            continue
        policy = store.get_policy(shop)
        if policy is None:
            if on_missing_policy is not None:
                on_missing_policy(shop)
            continue
        pairs.extend((p, policy) for p in products)
    return pairs


def export_jsonl(records: list[ProductRecord]) -> str:
    """One ProductRecord per line: the RECORD.json format `smallretail check --product` reads."""
    return "".join(r.model_dump_json(exclude_defaults=False) + "\n" for r in records)

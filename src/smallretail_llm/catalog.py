"""Catalog import, validation and export: the CLI and the API both call these functions."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .categories import missing_required
from .ingest import ParsedRows, Rejection, parse_rows
from .record import ProductRecord
from .store import Store
from .tables import Table, read_table, spreadsheet_safe

REJECTS_HEADER = ["행", "열", "사유", "값"]


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
    return summary


def import_catalog(store: Store, path: str | Path, shop_id: str | None,
                   mapping: dict[str, str] | None = None, rejects_path: str | Path | None = None,
                   data: bytes | None = None, table: Table | None = None) -> ImportSummary:
    """Import one export in one transaction: all valid rows land, or (on any failure) none do."""
    parsed, rows, encoding = parse_file(path, shop_id, mapping, data, table)
    summary = _summary(parsed, rows, encoding, rejects_path)
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


def export_jsonl(records: list[ProductRecord]) -> str:
    """One ProductRecord per line: the RECORD.json format `smallretail check --product` reads."""
    return "".join(r.model_dump_json(exclude_defaults=False) + "\n" for r in records)

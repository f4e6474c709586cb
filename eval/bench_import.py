"""Import speed: rows/s for a 10,000-row CP949 shop export into a fresh SQLite DB.

    .venv/bin/python eval/bench_import.py [--rows 10000] [--out eval/reports/import_bench.json]

Rows are the shipped sample exports repeated with fresh 상품코드 (so every row is a real insert),
encoded CP949 like a Korean Excel export. Reports parse and total (parse + DB write) rows/s."""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
import time
from pathlib import Path

from smallretail_llm.catalog.sample_catalog import sample_files
from smallretail_llm.catalog.service import import_catalog, parse_file
from smallretail_llm.db.store import Store


def build_export(rows: int) -> bytes:
    csvs, _ = sample_files()
    tables = [list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8-sig")))) for p in csvs]
    headers: list[str] = []
    for table in tables:
        for h in table[0]:
            if h not in headers:
                headers.append(h)
    pool = [row for table in tables for row in table]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers)
    writer.writeheader()
    for i in range(rows):
        row = dict(pool[i % len(pool)])
        row["상품코드"] = f"B{i:06d}"
        writer.writerow(row)
    return out.getvalue().encode("cp949", errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    data = build_export(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(data)
        start = time.perf_counter()
        _, rows, _ = parse_file(path, "bench")
        parse_s = time.perf_counter() - start
        store = Store(f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        summary = import_catalog(store, path, "bench")
        total_s = time.perf_counter() - start
        start = time.perf_counter()
        again = import_catalog(store, path, "bench")
        reimport_s = time.perf_counter() - start
    result = {
        "rows": rows, "bytes": len(data), "imported": summary.imported, "rejected": summary.rejected,
        "parse_rows_per_s": round(rows / parse_s), "import_rows_per_s": round(rows / total_s),
        "reimport_rows_per_s": round(rows / reimport_s), "reimport_changed": again.changed,
    }
    print(json.dumps(result, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

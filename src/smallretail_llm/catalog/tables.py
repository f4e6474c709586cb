"""Read a shop's export file into header + rows of strings, whatever its format or encoding.

Row numbers are the ones a shop owner sees in a spreadsheet: the header is row 1, the first data row
is row 2. For JSON the row is the item's position (1-based); for JSONL it is the line number."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

# Spreadsheet limits, checked before and while reading (a 5 KB XLSX can name cell XFD1048576 or
# unzip to gigabytes): a shop catalog is far smaller than any of them.
XLSX_MAX_ROWS = 100_000
XLSX_MAX_COLUMNS = 200
XLSX_MAX_CELLS = 2_000_000
XLSX_MAX_UNZIPPED_BYTES = 100 * 2**20   # every part of the file together, uncompressed
XLSX_MAX_SHARED_STRINGS_BYTES = 30 * 2**20

FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class TableError(ValueError):
    """The whole file cannot be read (wrong format, encoding, no header). Nothing is imported."""


@dataclass
class Row:
    number: int
    cells: dict[str, str]
    record: dict | None = None  # a JSON object already shaped like a ProductRecord


@dataclass
class Table:
    headers: list[str]
    rows: list[Row] = field(default_factory=list)
    encoding: str | None = None


_FORMULA_START = tuple("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def spreadsheet_safe(value: object) -> str:
    """A cell for a file a spreadsheet will open: text that Excel or LibreOffice would run as a
    formula (``=cmd|' /C calc'!A0``, ``+…``, ``-…``, ``@…``, also full-width) gets a leading
    apostrophe, so it shows as text (OWASP "CSV injection")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def read_table(path: str | Path, data: bytes | None = None) -> Table:
    """Read CSV/TSV (UTF-8, UTF-8-BOM, CP949/EUC-KR), XLSX, JSON or JSONL into a Table."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise TableError(
            f"지원하지 않는 파일 형식입니다: '{path.suffix or path.name}'. "
            "CSV, XLSX, JSON, JSONL 파일을 올려 주세요."
        )
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TableError(f"파일을 열 수 없습니다: {path} ({exc.strerror})") from exc
    if not data.strip():
        raise TableError(f"파일이 비어 있습니다: {path.name}")
    if kind == "xlsx":
        return _read_xlsx(data, path.name)
    text, encoding = decode(data, path.name)
    if kind in ("json", "jsonl"):
        return _read_json(text, kind, path.name)
    return _read_csv(text, "\t" if kind == "tsv" else None, encoding, path.name)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then CP949 (a superset of EUC-KR), then a detector."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None or best.encoding in ("utf_8", "cp949"):
        raise TableError(
            f"파일의 글자 인코딩을 알 수 없습니다: {name}. UTF-8 또는 CP949(EUC-KR)로 저장해 주세요."
        )
    return str(best), best.encoding


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _headers(raw: Sequence[object], name: str) -> list[str]:
    headers = [_clean(h).lstrip("\ufeff") for h in raw]
    if not any(headers):
        raise TableError(f"첫 줄에 열 이름(헤더)이 없습니다: {name}")
    seen: set[str] = set()
    for i, h in enumerate(headers):
        if not h:
            headers[i] = h = f"열{i + 1}"
        if h in seen:
            raise TableError(f"같은 열 이름이 두 번 있습니다: '{h}' ({name})")
        seen.add(h)
    return headers


def _rows(headers: list[str], raw_rows, first_number: int) -> list[Row]:
    rows = []
    for offset, raw in enumerate(raw_rows):
        values = [_clean(v) for v in raw]
        if not any(values):
            continue  # blank spreadsheet line: nothing to lose
        cells = dict(zip(headers, values + [""] * (len(headers) - len(values)), strict=False))
        # Cells beyond the header are data too: keep them rather than drop them.
        for j, v in enumerate(values[len(headers):], start=len(headers) + 1):
            if v:
                cells[f"열{j}"] = v
        rows.append(Row(first_number + offset, cells))
    return rows


def _read_csv(text: str, delimiter: str | None, encoding: str, name: str) -> Table:
    sample = text[:4096]
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        raw = list(reader)
    except csv.Error as exc:
        raise TableError(f"CSV 형식이 깨져 있습니다: {name} ({exc})") from exc
    if not raw:
        raise TableError(f"파일이 비어 있습니다: {name}")
    headers = _headers(raw[0], name)
    return Table(headers, _rows(headers, raw[1:], 2), encoding)


def _check_zip(data: bytes, name: str) -> None:
    """Refuse an XLSX whose parts unzip too large, before openpyxl reads any of them."""
    import zipfile

    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise TableError(f"XLSX 파일을 읽을 수 없습니다: {name} (zip 형식이 아님)") from exc
    total = sum(p.file_size for p in parts)
    strings = sum(p.file_size for p in parts if p.filename.endswith("sharedStrings.xml"))
    if total > XLSX_MAX_UNZIPPED_BYTES or strings > XLSX_MAX_SHARED_STRINGS_BYTES:
        raise TableError(f"XLSX 파일의 압축을 풀면 너무 큽니다: {name} ({total / 2**20:,.0f}MB, "
                         f"최대 {XLSX_MAX_UNZIPPED_BYTES // 2**20}MB). 행을 나눠 올려 주세요.")


def _xlsx_rows(sheet, name: str):
    """(row number, values) of the rows the sheet stores, nothing padded: a sheet naming one far
    cell costs one cell, and a row or column past the limits stops the read at once."""
    from openpyxl.worksheet._reader import WorkSheetParser

    cells = 0
    book = sheet.parent
    with sheet._get_source() as source:
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                                 date_formats=book._date_formats,
                                 timedelta_formats=book._timedelta_formats)
        for number, row in parser.parse():
            if number > XLSX_MAX_ROWS + 1:
                raise TableError(f"시트의 행이 너무 많습니다: {name} ({number:,}행, 최대 "
                                 f"{XLSX_MAX_ROWS:,}행). 파일을 나눠 올려 주세요.")
            present = {c["column"]: c["value"] for c in row if c["value"] is not None}
            width = max(present, default=0)
            if width > XLSX_MAX_COLUMNS:
                raise TableError(f"시트의 열이 너무 많습니다: {name} ({number}행에 {width:,}번째 열, "
                                 f"최대 {XLSX_MAX_COLUMNS}열).")
            cells += len(present)
            if cells > XLSX_MAX_CELLS:
                raise TableError(f"시트의 칸이 너무 많습니다: {name} (최대 {XLSX_MAX_CELLS:,}칸).")
            if present:
                yield number, [present.get(j) for j in range(1, width + 1)]


def _read_xlsx(data: bytes, name: str) -> Table:
    from openpyxl import load_workbook  # heavy: imported only for spreadsheets

    _check_zip(data, name)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a non-XLSX file
        raise TableError(f"XLSX 파일을 읽을 수 없습니다: {name} ({type(exc).__name__})") from exc
    try:
        raw = list(_xlsx_rows(sheet, name))
    except TableError:
        raise
    except Exception as exc:  # a broken sheet XML
        raise TableError(f"XLSX 시트를 읽을 수 없습니다: {name} ({type(exc).__name__})") from exc
    finally:
        book.close()
    if not raw:
        raise TableError(f"첫 번째 시트가 비어 있습니다: {name}")
    first = raw.pop(0)[1] if raw[0][0] == 1 else []  # no row 1: _headers says so
    headers = _headers(first, name)
    rows: list[Row] = []
    for number, values in raw:
        rows += _rows(headers, [values], number)
    return Table(headers, rows)


def _read_json(text: str, kind: str, name: str) -> Table:
    items: list[tuple[int, object]] = []
    if kind == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise TableError(f"{number}번째 줄이 올바른 JSON이 아닙니다: {name} ({exc.msg})") from exc
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TableError(f"올바른 JSON이 아닙니다: {name} ({exc.msg}, {exc.lineno}번째 줄)") from exc
        if isinstance(doc, dict) and isinstance(doc.get("products"), list):
            doc = doc["products"]
        if not isinstance(doc, list):
            raise TableError(f"JSON은 상품 목록(배열)이어야 합니다: {name}")
        items = list(enumerate(doc, start=1))
    headers: list[str] = []
    rows = []
    for number, item in items:
        if not isinstance(item, dict):
            rows.append(Row(number, {"_json": json.dumps(item, ensure_ascii=False)}))
            continue
        nested = any(isinstance(v, (dict, list)) for v in item.values())
        cells = {str(k): _json_cell(v) for k, v in item.items()}
        for k in cells:
            if k not in headers:
                headers.append(k)
        rows.append(Row(number, cells, record=item if nested else None))
    return Table(headers, rows, "utf-8")


def _json_cell(value: object) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return _clean(value)

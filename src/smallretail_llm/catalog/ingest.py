"""Turn a shop export into standard product records: every row becomes a record or a rejection
with (row, column, reason). Nothing is silently dropped: unknown columns go to `extra`."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from smallretail_llm.catalog.headers import core_field, notice_field
from smallretail_llm.catalog.tables import Row, Table
from smallretail_llm.core import normalize as nz
from smallretail_llm.core.categories import UnknownCategory, get_category
from smallretail_llm.core.dates import deadline_label_in, parse_use_by
from smallretail_llm.core.record import ProductRecord

LIST_SPLIT = ",;/·\n"


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str
    reason: str
    value: str = ""


@dataclass
class ParsedRows:
    records: list[tuple[int, ProductRecord]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejections})

    def reasons(self) -> dict[str, int]:
        return dict(Counter(r.reason.split(":")[0] for r in self.rejections))


def _split_list(text: str) -> list[str]:
    for sep in LIST_SPLIT[1:]:
        text = text.replace(sep, LIST_SPLIT[0])
    out: list[str] = []
    for part in text.split(LIST_SPLIT[0]):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


CROSS_CONTACT = re.compile(r"(?:이\s*제품은\s*)?(?:같은|동일한?)\s*(?:제조\s*)?(?:시설|공장|라인)[^\n]*")


def split_cross_contact(text: str) -> tuple[str, str | None]:
    """Labels put the cross-contact line in the allergen cell ("우유 함유. 같은 제조시설에서 땅콩 사용");
    it is a fact of its own (DOMAIN.md), not a list of allergens in the product."""
    match = CROSS_CONTACT.search(text)
    if not match:
        return text, None
    rest = (text[: match.start()] + text[match.end():]).strip(" .,;/\n")
    return rest, match.group(0).strip()


# attribute -> parser of one cell's text; a parser raises NormalizeError with a Korean reason
CORE_PARSERS: dict[str, Callable[[str], Any]] = {
    "price_krw": nz.parse_price_krw,
    "net_content": nz.parse_net_content,
    "gtin": nz.validate_gtin,
    "stock": nz.parse_int,
    "allergens": nz.parse_allergens,
    "keywords": _split_list,
    "certifications": _split_list,
}


def parse_rows(
    table: Table, shop_id: str | None, mapping: dict[str, str] | None = None
) -> ParsedRows:
    """Normalize and validate every row; a row with any bad cell is rejected, reasons per cell."""
    mapping = mapping or {}
    result = ParsedRows()
    seen_skus: dict[str, int] = {}
    for row in table.rows:
        control = [Rejection(row.number, header, "보이지 않는 제어 문자(NUL)가 들어 있음: 값을 다시 입력해 주세요",
                             value.replace("\x00", "")[:100])
                   for header, value in row.cells.items() if "\x00" in value]
        if control:  # PostgreSQL text cannot hold NUL, and no shop means to type one
            result.rejections.extend(control)
            continue
        record, errors = (
            _from_record_json(row, shop_id) if row.record is not None
            else _from_cells(row, shop_id, mapping)
        )
        if record is not None and not errors:
            first = seen_skus.get(record.sku)
            if first is not None:
                sku_header = _header_for(row, mapping, "sku")
                errors.append(Rejection(
                    row.number, sku_header,
                    f"같은 파일에 같은 상품코드가 이미 있음: {first}행과 중복", record.sku))
            else:
                seen_skus[record.sku] = row.number
        if errors:
            result.rejections.extend(errors)
        else:
            assert record is not None  # both readers return no record only with a rejection
            result.records.append((row.number, record))
    return result


def _header_for(row: Row, mapping: dict[str, str], attr: str) -> str:
    for header in row.cells:
        if mapping.get(header) == attr or (header not in mapping and core_field(header) == attr):
            return header
    return attr


def _from_cells(
    row: Row, shop_id: str | None, mapping: dict[str, str]
) -> tuple[ProductRecord | None, list[Rejection]]:
    errors: list[Rejection] = []
    values: dict[str, Any] = {}
    headers: dict[str, str] = {}
    notice_cells: list[tuple[str, str, str | None]] = []  # (header, value, explicit notice key)
    extra: dict[str, str] = {}
    for header, value in row.cells.items():
        target = mapping.get(header) or core_field(header)
        if target == "extra":
            if value:
                extra[header] = value
        elif target and target.startswith("notice."):
            notice_cells.append((header, value, target.removeprefix("notice.")))
        elif target:
            if values.get(target):
                if value and value != values[target]:
                    extra[header] = value  # a second column for the same field: keep, don't guess
                continue
            values[target] = value
            headers[target] = header
        else:
            notice_cells.append((header, value, None))

    def reject(attr: str, reason: str, value: str = "") -> None:
        errors.append(Rejection(row.number, headers.get(attr, attr), reason, value))

    row_shop = values.pop("shop_id", "")
    shop = shop_id or row_shop
    if shop_id and row_shop and row_shop != shop_id:
        reject("shop_id", f"다른 상점의 행입니다: '{row_shop}' (가져오는 상점: '{shop_id}')", row_shop)
    if not shop:
        reject("shop_id", "상점이 지정되지 않음: --shop 옵션이나 '상점' 열을 채워 주세요")
    for attr, label in (("sku", "상품코드"), ("name", "상품명"), ("category", "카테고리")):
        if not values.get(attr):
            reject(attr, f"필수 항목이 비어 있음: {label}")
    spec = None
    if values.get("category"):
        try:
            spec = get_category(values["category"])
        except UnknownCategory:
            reject("category", f"알 수 없는 카테고리: '{values['category']}'", values["category"])

    fields: dict[str, Any] = {"shop_id": shop, "extra": extra}
    for attr, text in values.items():
        if not text or attr == "shop_id":
            continue
        parser = CORE_PARSERS.get(attr)
        try:
            if attr == "allergens":
                text, cross = split_cross_contact(text)
                if cross and not values.get("cross_contact"):
                    fields["cross_contact"] = cross
                fields[attr] = nz.parse_allergens(text) if text else []
            elif attr == "category":
                fields[attr] = spec.code if spec else text
            elif attr == "use_by":
                fields[attr] = parse_use_by(text, deadline_label_in(headers[attr]))
            elif parser:
                fields[attr] = parser(text)
            else:
                fields[attr] = text
        except nz.NormalizeError as exc:
            reject(attr, str(exc), text)

    notice: dict[str, str] = {}
    for header, value, key in notice_cells:
        if not value:
            continue
        key = key or (notice_field(header, spec) if spec else None)
        if key:
            notice[key] = value
        else:
            extra[header] = value
    fields["notice"] = notice
    if errors:
        return None, errors
    try:
        return ProductRecord(**fields), []
    except ValidationError as exc:
        return None, [_pydantic_rejection(row.number, e, headers) for e in exc.errors()]


def _pydantic_rejection(row: int, err: ErrorDetails, headers: dict[str, str]) -> Rejection:
    attr = str(err["loc"][0]) if err.get("loc") else ""
    message = err.get("msg", "")
    if err.get("type") == "string_too_long":
        message = f"너무 깁니다 (최대 {err.get('ctx', {}).get('max_length')}자)"
    elif err.get("type") == "string_pattern_mismatch":
        message = "형식이 맞지 않습니다"
    return Rejection(row, headers.get(attr, attr), f"값이 올바르지 않음: {message}",
                     str(err.get("input", ""))[:100])


def _from_record_json(row: Row, shop_id: str | None) -> tuple[ProductRecord | None, list[Rejection]]:
    """A JSON object already in the standard shape (e.g. our own `catalog export`)."""
    data = dict(row.record or {})
    if shop_id:
        data["shop_id"] = shop_id
    if data.get("category"):
        try:
            data["category"] = get_category(str(data["category"])).code
        except UnknownCategory:
            return None, [Rejection(row.number, "category",
                                    f"알 수 없는 카테고리: '{data['category']}'", str(data["category"]))]
    try:
        return ProductRecord.model_validate(data), []
    except ValidationError as exc:
        return None, [
            Rejection(row.number, ".".join(str(p) for p in e["loc"]) or "-",
                      f"값이 올바르지 않음: {e['msg']}", json.dumps(e.get("input"), ensure_ascii=False,
                                                               default=str)[:100])
            for e in exc.errors()
        ]

"""Catalog endpoints: one shop's products, read, written, deleted and imported. Every query is
scoped to the caller's shop; another shop's sku is a plain 404."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi import Path as PathParam

from smallretail_llm.catalog.headers import MappingError, core_field, load_mapping
from smallretail_llm.catalog.service import import_catalog
from smallretail_llm.catalog.tables import Table, TableError, read_table, spreadsheet_safe
from smallretail_llm.core.categories import UnknownCategory, missing_required
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding.record_rules import record_warnings
from smallretail_llm.serving.api.deps import (
    ServicesDep,
    Shop,
    ShopDep,
    category_code,
    product_or_404,
)
from smallretail_llm.serving.api.errors import AUTH_ERRORS, BODY_ERRORS, ApiError, error_responses
from smallretail_llm.serving.api.schemas import (
    ImportReport,
    MissingField,
    ProductList,
    ProductOut,
    ProductPut,
    RejectedCell,
)

router = APIRouter(prefix="/v1/products", tags=["카탈로그"])

Sku = Annotated[str, PathParam(description="상품코드", examples=["TOFU-300"])]
MAX_OFFSET = 1_000_000_000  # far past any shop; larger ints overflow the database's integer
_NOT_FOUND = {404: "상품 없음"}
_CREATED: dict[int | str, dict[str, Any]] = {201: {"model": ProductOut, "description": "새로 등록함"}}
_IMPORT_ERRORS = {400: "multipart 본문이 올바르지 않음", 403: "다른 상점의 상품이 든 파일",
                  413: "파일이 너무 큼", 422: "파일·매핑 오류"}


def _out(record: ProductRecord, policy: ShopPolicy | None) -> ProductOut:
    try:
        missing = [MissingField(key=f.key, label=f.label) for f in missing_required(record, policy)]
    except UnknownCategory:
        missing = []
    return ProductOut(product=record, missing_required=missing,
                      warnings=record_warnings(record, policy))


@router.get("", response_model=ProductList, summary="상품 목록",
            responses=error_responses({**AUTH_ERRORS, 422: "요청 값 오류"}))
def list_products(
    services: ServicesDep, shop: ShopDep,
    limit: Annotated[int, Query(ge=1, le=500, description="한 번에 받을 상품 수")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="건너뛸 상품 수")] = 0,
    category: Annotated[str | None, Query(description="카테고리 코드나 이름 (예: processed_food, 가공식품)")] = None,
) -> ProductList:
    """상점의 상품을 상품코드 순으로, 비어 있는 상품정보제공고시 필수 항목과 함께 돌려줍니다."""
    store = services.store
    code = category_code(category) if category else None
    records = store.list_products(shop.shop_id, category=code, limit=limit, offset=offset)
    total = (store.category_counts(shop.shop_id).get(code, 0) if code
             else store.count_products(shop.shop_id))
    policy = store.get_policy(shop.shop_id)
    return ProductList(items=[_out(r, policy) for r in records], total=total, limit=limit,
                       offset=offset, category=code)


@router.get("/{sku}", response_model=ProductOut, summary="상품 조회",
            responses=error_responses(AUTH_ERRORS | _NOT_FOUND))
def get_product(sku: Sku, services: ServicesDep, shop: ShopDep) -> ProductOut:
    return _out(product_or_404(services, shop, sku), services.store.get_policy(shop.shop_id))


@router.put("/{sku}", response_model=ProductOut, summary="상품 등록/수정", status_code=200,
            responses=_CREATED | error_responses(AUTH_ERRORS | BODY_ERRORS))
def put_product(sku: Sku, body: ProductPut, services: ServicesDep, shop: ShopDep,
                response: Response) -> ProductOut:
    """상품을 새로 등록(201)하거나 바꿉니다(200). 본문의 sku 는 생략할 수 있지만 보내면 경로와 같아야 합니다."""
    if body.sku is not None and body.sku != sku:
        raise ApiError(422, "sku_mismatch",
                       f"경로의 상품코드('{sku}')와 본문의 sku('{body.sku}')가 다릅니다.")
    if not 1 <= len(sku) <= 64:
        raise ApiError(422, "validation_error", "경로의 상품코드는 1~64자여야 합니다.")
    data = {**body.model_dump(), "shop_id": shop.shop_id, "sku": sku,
            "category": category_code(body.category)}
    where = _nul_field(data)
    if where is not None:  # the importer's rule too: PostgreSQL text cannot hold NUL
        raise ApiError(422, "control_character",
                       f"'{where}'에 보이지 않는 제어 문자(NUL)가 들어 있습니다. 값을 다시 입력해 주세요.",
                       {"field": where})
    record = ProductRecord.model_validate(data)
    counts = services.store.put_product(record)
    response.status_code = 201 if counts.imported else 200
    return _out(record, services.store.get_policy(shop.shop_id))


@router.delete("/{sku}", status_code=204, summary="상품 삭제",
               responses=error_responses(AUTH_ERRORS | _NOT_FOUND))
def delete_product(sku: Sku, services: ServicesDep, shop: ShopDep) -> Response:
    if "\x00" in sku or not services.store.delete_product(shop.shop_id, sku):
        raise ApiError(404, "product_not_found", f"상품을 찾을 수 없습니다: 상품코드 '{sku}'",
                       {"product_id": sku})
    return Response(status_code=204)


@router.post("/import", response_model=ImportReport,
             responses=error_responses(AUTH_ERRORS | _IMPORT_ERRORS),
             summary="상품 파일 가져오기 (CSV/XLSX/JSON)")
def import_products(
    services: ServicesDep, shop: ShopDep,
    file: Annotated[UploadFile, File(description="쇼핑몰에서 내려받은 상품 파일 (CSV는 CP949도 가능)")],
    mapping: Annotated[str | None, Form(description="열 매핑 YAML (예: '판매가: price_krw')")] = None,
) -> ImportReport:
    """`smallretail catalog import` 와 같은 규칙으로 가져옵니다. 거부된 행은 (행, 열, 사유)로 응답에
    담깁니다. 한 파일은 전부 반영되거나 (오류 시) 전혀 반영되지 않습니다."""
    name = Path(file.filename or "upload").name
    data = file.file.read()
    with tempfile.TemporaryDirectory(prefix="smallretail-import-") as tmp:
        columns = _mapping(Path(tmp), mapping)
        try:
            table = read_table(name, data)  # once: the checks and the import share it
            _refuse_other_shops(table, columns, shop)
            rejects_path = Path(tmp) / "rejects.csv"
            summary = import_catalog(services.store, name, shop.shop_id, columns, rejects_path,
                                     table=table)
        except TableError as exc:
            raise ApiError(422, "invalid_file", str(exc), {"filename": name}) from exc
        rejects = _read_rejects(rejects_path)
    return ImportReport(rows=summary.rows, imported=summary.imported, updated=summary.updated,
                        changed=summary.changed, rejected=summary.rejected,
                        missing_required=summary.missing_required, reasons=summary.reasons,
                        encoding=summary.encoding, rejects=rejects, warnings=summary.warnings,
                        warning_rules=summary.warning_rules,
                        warning_examples=summary.warning_examples)


def _nul_field(value: object, where: str = "") -> str | None:
    """The first field (``notice.food_type``, ``allergens[1]``) of ``value`` whose text holds NUL."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        items = [(f"{where}.{key}" if where else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{where}[{i}]", item) for i, item in enumerate(value)]
    else:
        return None
    return next((found for path, item in items if (found := _nul_field(item, path))), None)


def _mapping(folder: Path, text: str | None) -> dict[str, str]:
    """The form's mapping YAML, validated by the same loader the CLI uses."""
    if not text or not text.strip():
        return {}
    path = folder / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        return load_mapping(path)
    except MappingError as exc:
        raise ApiError(422, "invalid_mapping", str(exc).replace(str(path), "mapping")) from exc


def _refuse_other_shops(table: Table, mapping: dict[str, str], shop: Shop) -> None:
    """A '상점' column may only name the caller's shop: a key never writes another shop's data."""
    columns = [h for h in table.headers
               if mapping.get(h) == "shop_id" or (h not in mapping and core_field(h) == "shop_id")]
    others = sorted({(row.number, row.cells.get(c, "").strip()) for row in table.rows
                     for c in columns if row.cells.get(c, "").strip() not in ("", shop.shop_id)})
    if others:
        rows = [n for n, _ in others]
        raise ApiError(403, "other_shop_rows",
                       f"파일에 다른 상점의 상품이 있습니다 ({len(rows)}행, 첫 행: {rows[0]}행). "
                       f"이 API 키로는 상점 '{shop.shop_id}'의 상품만 가져올 수 있습니다.",
                       {"rows": rows[:100]})


def _read_rejects(path: Path) -> list[RejectedCell]:
    if not path.is_file():
        return []
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    next(reader, None)  # header: 행, 열, 사유, 값
    return [RejectedCell(row=int(r[0]), column=r[1], reason=r[2], value=_unescaped(r[3]))
            for r in reader if r]


def _unescaped(cell: str) -> str:
    """The value as the shop sent it: the file escapes formula-like cells for Excel."""
    return cell[1:] if cell.startswith("'") and spreadsheet_safe(cell[1:]) != cell[1:] else cell

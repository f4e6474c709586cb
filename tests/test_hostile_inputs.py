"""What an attacker tried against a server with two shops, each a test that failed before its fix:
spreadsheets that expand to millions of cells, formula cells in the rejects file, a foreign
Host or Origin in keyless demo mode, bodies parsed before the key was checked, unlimited failed
authentications, public metrics naming shops, swagger-ui from a CDN."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook

from fake_engine import ApiHarness
from smallretail_llm.catalog import tables
from smallretail_llm.catalog.service import import_catalog
from smallretail_llm.catalog.tables import TableError, read_table
from smallretail_llm.db.store import Store

HEADER = ["상품코드", "상품명", "카테고리", "판매가"]


def _xlsx(far_cell: tuple[int, int] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["T1", "국산콩 두부", "가공식품", 3500])
    if far_cell is not None:
        sheet.cell(row=far_cell[0], column=far_cell[1], value="x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("cell", "says"), [((200_000, 1_000), "행이 너무 많습니다"),
                                            ((1_048_576, 16_384), "행이 너무 많습니다"),
                                            ((5, 1_000), "열이 너무 많습니다")])
def test_a_far_cell_is_refused_before_the_sheet_is_padded(cell, says):
    """One cell at row 200,000 / column 1,000 took 15.8 s and XFD1048576 never finished: every
    missing row and cell was padded in. Now only stored cells are read, and a row or column
    past the limits stops the read with a clear error."""
    data = _xlsx(cell)
    assert len(data) < 10_000
    with pytest.raises(TableError, match=says):
        read_table("bomb.xlsx", data)


def test_a_normal_sheet_reads_with_sheet_row_numbers():
    table = read_table("ok.xlsx", _xlsx((6, 2)))  # a gap: rows 3-5 are missing
    assert table.headers == HEADER
    assert [(r.number, r.cells["상품코드"], r.cells["상품명"]) for r in table.rows] == [
        (2, "T1", "국산콩 두부"), (6, "", "x")]
    assert table.rows[0].cells["판매가"] == "3500"


def test_an_xlsx_that_unzips_too_large_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(tables, "XLSX_MAX_UNZIPPED_BYTES", 2_000)
    with pytest.raises(TableError, match="압축을 풀면 너무 큽니다"):
        read_table("big.xlsx", _xlsx())


def test_the_bomb_through_the_api_is_a_clear_422(tmp_path):
    with ApiHarness(tmp_path) as api:
        r = api.client.post("/v1/products/import", headers=api.auth(),
                            files={"file": ("bomb.xlsx", _xlsx((1_048_576, 16_384)))})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_file"
    assert "행이 너무 많습니다" in r.json()["error"]["message"]


def test_an_upload_is_parsed_once(tmp_path, monkeypatch):
    reads = []
    real = tables._read_csv
    monkeypatch.setattr(tables, "_read_csv", lambda *a: reads.append(a[-1]) or real(*a))
    body = "상품코드,상품명,카테고리\nN1,두부,가공식품\n".encode()
    with ApiHarness(tmp_path) as api:
        r = api.client.post("/v1/products/import", headers=api.auth(),
                            files={"file": ("x.csv", body)})
    assert r.status_code == 200 and r.json()["imported"] == 1
    assert reads == ["x.csv"]


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\uff1d1+1"]


def test_formula_cells_are_escaped_in_the_rejects_file(tmp_path):
    rows = [["상품코드", "상품명", "카테고리", "판매가"],
            *[[f"F{i}", "두부", "가공식품", value] for i, value in enumerate(FORMULAS)]]
    source = tmp_path / "shop.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    rejects = tmp_path / "rejects.csv"
    summary = import_catalog(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"), source, "s1",
                             rejects_path=rejects)
    assert summary.rejected == len(FORMULAS)
    written = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8-sig"))))[1:]
    assert [r[3] for r in written] == ["'" + f for f in FORMULAS]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in written for cell in r)


def test_the_api_reports_rejected_values_as_sent(tmp_path):
    body = "상품코드,상품명,카테고리,판매가\nF1,두부,가공식품,=1+1\n".encode()
    with ApiHarness(tmp_path) as api:
        r = api.client.post("/v1/products/import", headers=api.auth(),
                            files={"file": ("x.csv", body)})
    assert [c["value"] for c in r.json()["rejects"]] == ["=1+1"]


# ---------------------------------------------------------------- keyless demo mode
@pytest.mark.parametrize("headers", [
    {"Host": "evil.example"},                                  # DNS rebinding
    {"Host": "evil.example:8000"},
    {"Origin": "http://evil.example"},                         # a cross-site form or fetch
    {"Origin": "null"},                                        # a sandboxed page, file://
    {"Origin": "http://127.0.0.1.evil.example:8000"}])
def test_demo_mode_refuses_foreign_hosts_and_origins(tmp_path, headers):
    with ApiHarness(tmp_path, demo=True) as api:
        before = api.store.count_products("demo")
        r = api.client.post("/v1/products/import", headers=headers,
                            files={"file": ("x.csv", "상품코드,상품명,카테고리\nX,두부,가공식품\n".encode())})
        assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden_origin")
        assert api.client.get("/v1/products", headers=headers).status_code == 403
        assert api.store.count_products("demo") == before


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://127.0.0.1:8000"},
                                     {"Host": "localhost:8000", "Origin": "http://localhost:8000"}])
def test_demo_mode_still_serves_local_pages(tmp_path, headers):
    with ApiHarness(tmp_path, demo=True) as api:
        assert api.client.get("/v1/products", headers=headers).status_code == 200


# ---------------------------------------------------------------- authentication first
def test_a_body_without_a_key_gets_401_not_400(tmp_path):
    with ApiHarness(tmp_path) as api:
        for headers in ({}, {"Authorization": "Bearer sr_nope"}):
            r = api.client.post("/v1/answers", content=b"{not json",
                                headers=headers | {"Content-Type": "application/json"})
            assert r.status_code == 401, r.text
        r = api.client.post("/v1/answers", content=b"{not json",
                            headers=api.auth() | {"Content-Type": "application/json"})
        assert r.status_code == 400  # with a key, the body is read and judged


def test_failed_authentications_are_rate_limited(tmp_path):
    with ApiHarness(tmp_path, auth_failures_burst=3, auth_failures_per_minute=1) as api:
        statuses = [api.client.get("/v1/products", headers={"Authorization": "Bearer bad"})
                    for _ in range(5)]
        assert [r.status_code for r in statuses] == [401, 401, 401, 429, 429]
        assert int(statuses[-1].headers["retry-after"]) >= 1
        assert statuses[-1].json()["error"]["code"] == "too_many_failed_auth"


# ---------------------------------------------------------------- metrics and docs
def test_metrics_need_the_token_on_a_public_address(tmp_path):
    with ApiHarness(tmp_path, host="0.0.0.0", metrics_token="m-secret") as api:
        api.client.post("/v1/answers", headers=api.auth(),
                        json={"product_id": "TOFU-300", "question": "배송비 얼마예요?"})
        assert api.client.get("/metrics").status_code == 401
        assert api.client.get("/metrics", headers=api.auth()).status_code == 401  # a shop key
        r = api.client.get("/metrics", headers={"Authorization": "Bearer m-secret"})
        assert r.status_code == 200 and "smallretail_answers_total" in r.text
        assert "s1" not in r.text and "s2" not in r.text  # no shop id as a label value
    with ApiHarness(tmp_path / "b", host="0.0.0.0") as api:
        assert api.client.get("/metrics").status_code == 401  # no token set: not public


def test_docs_load_swagger_ui_and_redoc_from_the_server(tmp_path):
    with ApiHarness(tmp_path) as api:
        for page in ("/docs", "/redoc"):
            html = api.client.get(page).text
            assert "cdn" not in html.lower() and "https://" not in html.split("<body")[1]
            assert "/docs/assets/" in html
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            r = api.client.get(f"/docs/assets/{asset}")
            assert r.status_code == 200 and len(r.content) > 1000
        assert api.client.get("/docs/assets/..%2Fcore.py").status_code == 404

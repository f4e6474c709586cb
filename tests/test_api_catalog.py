"""Catalog endpoints: list/get/put/delete scoped to the key's shop, and file import with the
CLI's rules, rejects in the JSON response."""

import csv
import io

import pytest

from fake_engine import ApiHarness, tofu

HEADER = ["상품코드", "상품명", "카테고리", "판매가", "용량", "알레르기", "식품의 유형"]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def api(tmp_path):
    with ApiHarness(tmp_path, max_upload_bytes=4096) as harness:
        yield harness


def test_get_product_with_missing_required_fields(api):
    api.store.put_product(tofu("s1", sku="BARE", notice={}, use_by=None))
    r = api.client.get("/v1/products/BARE", headers=api.auth())
    assert r.status_code == 200
    assert r.json()["product"]["sku"] == "BARE" and r.json()["product"]["shop_id"] == "s1"
    assert r.json()["missing_required"] == [
        {"key": "food_type", "label": "식품의 유형"}, {"key": "producer_location", "label": "소재지"},
        {"key": "use_by", "label": "소비기한"}, {"key": "ingredients", "label": "원재료명 및 함량"},
        {"key": "safety_caution", "label": "소비자안전을 위한 주의사항"}]
    full = api.client.get("/v1/products/TOFU-300", headers=api.auth()).json()
    assert full["missing_required"] == []  # cs_phone comes from the shop policy


def test_list_pages_and_filters_by_category(api):
    for i in range(4):
        api.store.put_product(tofu("s1", sku=f"A{i}"))
    api.store.put_product(tofu("s1", sku="C1", category="cosmetics", notice={}, allergens=[]))
    r = api.client.get("/v1/products?limit=2&offset=1", headers=api.auth())
    body = r.json()
    assert [p["product"]["sku"] for p in body["items"]] == ["A1", "A2"]
    assert (body["total"], body["limit"], body["offset"], body["category"]) == (6, 2, 1, None)
    r = api.client.get("/v1/products", params={"category": "화장품"}, headers=api.auth())
    assert [p["product"]["sku"] for p in r.json()["items"]] == ["C1"]
    assert (r.json()["total"], r.json()["category"]) == (1, "cosmetics")
    r = api.client.get("/v1/products?category=우주선", headers=api.auth())
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_category")
    r = api.client.get("/v1/products?limit=0", headers=api.auth())
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "쿼리 매개변수의 'limit': 1 이상이어야 합니다."


def test_put_creates_then_updates_and_delete_removes(api):
    product = {"name": "유기농 현미 4kg", "category": "식품(농수산물)", "price_krw": 21000,
               "origin": "국내산"}
    r = api.client.put("/v1/products/RICE-4", headers=api.auth(), json=product)
    assert r.status_code == 201
    assert (r.json()["product"]["category"], r.json()["product"]["shop_id"]) == ("agri_food", "s1")
    r = api.client.put("/v1/products/RICE-4", headers=api.auth(),
                       json=product | {"price_krw": 19900, "sku": "RICE-4"})
    assert r.status_code == 200
    assert api.store.get_product("s1", "RICE-4").price_krw == 19900
    r = api.client.put("/v1/products/RICE-4", headers=api.auth(), json=product | {"sku": "OTHER"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "sku_mismatch")
    r = api.client.put("/v1/products/RICE-4", headers=api.auth(), json=product | {"price_krw": -1})
    assert r.json()["error"]["message"] == "요청 본문의 'price_krw': 0 이상이어야 합니다."
    assert api.client.delete("/v1/products/RICE-4", headers=api.auth()).status_code == 204
    r = api.client.delete("/v1/products/RICE-4", headers=api.auth())
    assert (r.status_code, r.json()["error"]["code"]) == (404, "product_not_found")


def test_another_shops_product_is_a_404_and_never_touched(api):
    api.store.put_product(tofu("s2", sku="ONLY-S2"))
    for method in ("get", "delete"):
        r = getattr(api.client, method)("/v1/products/ONLY-S2", headers=api.auth("s1"))
        assert (r.status_code, r.json()["error"]["code"]) == (404, "product_not_found")
    r = api.client.post("/v1/descriptions", headers=api.auth("s1"), json={"product_id": "ONLY-S2"})
    assert r.status_code == 404
    # the same sku written by s1 is s1's own product; s2's stays as it was
    r = api.client.put("/v1/products/TOFU-300", headers=api.auth("s1"),
                       json={"name": "바뀐 이름", "category": "processed_food"})
    assert r.status_code == 200
    assert api.store.get_product("s2", "TOFU-300").name == "국산콩 두부 s2"
    listed = api.client.get("/v1/products", headers=api.auth("s2")).json()
    assert {p["product"]["shop_id"] for p in listed["items"]} == {"s2"}


def test_import_reports_rejects_in_json_and_is_idempotent(api):
    data = csv_bytes([["F1", "국산콩 두부", "가공식품", "3,500원", "300g", "대두", "두부"],
                      ["F2", "순두부", "가공식품", "문의", "350g", "대두", "두부"],
                      ["F3", "연두부", "우주선", "1,500원", "250g", "", ""]], encoding="cp949")
    files = {"file": ("export.csv", data, "text/csv")}
    r = api.client.post("/v1/products/import", headers=api.auth(), files=files)
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("rows", "imported", "updated", "changed", "rejected", "encoding")} == {
        "rows": 3, "imported": 1, "updated": 0, "changed": 0, "rejected": 2, "encoding": "cp949"}
    assert [(x["row"], x["column"], x["value"]) for x in body["rejects"]] == [
        (3, "판매가", "문의"), (4, "카테고리", "우주선")]
    assert body["rejects"][1]["reason"] == "알 수 없는 카테고리: '우주선'"
    assert api.store.get_product("s1", "F1").price_krw == 3500
    again = api.client.post("/v1/products/import", headers=api.auth(), files=files).json()
    assert (again["imported"], again["updated"], again["changed"]) == (0, 1, 0)


def test_import_with_a_mapping(api):
    data = csv_bytes([["M1", "두부", "가공식품", "2000"]], header=["코드", "품명", "분류", "가격표"])
    mapping = "코드: sku\n품명: name\n분류: category\n가격표: price_krw\n"
    r = api.client.post("/v1/products/import", headers=api.auth(),
                        files={"file": ("m.csv", data)}, data={"mapping": mapping})
    assert (r.status_code, r.json()["imported"]) == (200, 1)
    r = api.client.post("/v1/products/import", headers=api.auth(),
                        files={"file": ("m.csv", data)}, data={"mapping": "코드: 없는필드"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_mapping")


def test_import_refuses_rows_of_another_shop(api):
    data = csv_bytes([["s1", "X1", "두부", "가공식품"], ["s2", "X2", "두부", "가공식품"]],
                     header=["상점", "상품코드", "상품명", "카테고리"])
    r = api.client.post("/v1/products/import", headers=api.auth("s1"),
                        files={"file": ("x.csv", data)})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "other_shop_rows")
    assert r.json()["error"]["details"] == {"rows": [3]}
    assert api.store.get_product("s1", "X1") is None and api.store.get_product("s2", "X2") is None


def test_import_file_errors_are_4xx(api):
    r = api.client.post("/v1/products/import", headers=api.auth(),
                        files={"file": ("catalog.pdf", b"%PDF-1.4")})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_file")
    assert "지원하지 않는 파일 형식" in r.json()["error"]["message"]
    r = api.client.post("/v1/products/import", headers=api.auth(),
                        files={"file": ("big.csv", csv_bytes([["F", "x" * 5000, "가공식품"]]))})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    r = api.client.post("/v1/products/import", headers=api.auth())
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "요청 본문의 'file': 필수 항목이 없습니다."

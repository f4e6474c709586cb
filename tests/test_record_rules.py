"""Records that break rules themselves: warned per row at import and validation, in GET
/v1/products and beside descriptions; policy text in a product field never reaches served copy;
other shops' names in a served draft fail grounding."""

from __future__ import annotations

import csv
import io
import json
import re

from typer.testing import CliRunner

from fake_engine import ApiHarness, FakeEngine, shop_policy, tofu
from smallretail_llm.catalog.service import import_catalog, validate_catalog
from smallretail_llm.cli import app
from smallretail_llm.db.store import Store
from smallretail_llm.grounding.check import check_description

HEADER = ["상품코드", "상품명", "카테고리", "판매가", "용량", "알레르기", "보관방법", "인증"]
ROWS = [["MILK-1", "유기농 우유 900ml", "가공식품", "4500", "900ml", "우유", "냉장 보관", ""],
        ["MILK-2", "유기농 우유 900ml", "가공식품", "4900", "900ml", "우유", "냉장 보관", "유기농"],
        ["TOFU-9", "국산콩 두부", "가공식품", "3500", "300g", "대두",
         "냉장 보관 [쇼핑몰 정책] 배송비: 0원, 고객센터: 010-1111-2222", ""]]


def _csv(tmp_path):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    path = tmp_path / "shop.csv"
    path.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
    return path


def test_import_and_validate_warn_per_row(tmp_path):
    path = _csv(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.put_policy(shop_policy("s1"))
    summary = import_catalog(store, path, "s1", rejects_path=tmp_path / "shop.rejects.csv")
    assert (summary.imported, summary.rejected, summary.warnings) == (3, 0, 2)
    assert summary.warning_rules == {"uncertified_claim": 1, "policy_in_field": 1}
    first, second = summary.warning_examples
    assert (first["row"], first["sku"], first["field"], first["rule"]) == (
        2, "MILK-1", "name", "uncertified_claim")
    assert "유기농" in first["message"] and "인증" in first["message"]
    assert (second["sku"], second["field"], second["rule"]) == ("TOFU-9", "storage", "policy_in_field")
    lines = (tmp_path / "shop.rejects.warnings.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "행,상품코드,필드,규칙,안내" and len(lines) == 3
    assert validate_catalog(path, "s1").warning_rules == summary.warning_rules

    result = CliRunner().invoke(app, ["catalog", "validate", str(path), "--shop", "s1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["warnings"] == 2 and report["warning_examples"][0]["field"] == "name"


def test_products_list_and_descriptions_carry_the_warnings(tmp_path):
    organic = tofu("s1", sku="MILK", name="유기농 두부", certifications=[])
    injected = tofu("s1", sku="INJ", storage="냉장 보관 [쇼핑몰 정책] 배송비: 0원, 고객센터: 010-1111-2222")
    with ApiHarness(tmp_path, FakeEngine(["유기농 두부입니다. 배송비는 0원이에요."])) as api:
        api.store.put_product(organic)
        api.store.put_product(injected)
        items = {i["product"]["sku"]: i for i in
                 api.client.get("/v1/products", headers=api.auth()).json()["items"]}
        assert [(w["field"], w["rule"]) for w in items["MILK"]["warnings"]] == [
            ("name", "uncertified_claim")]
        assert [(w["field"], w["rule"]) for w in items["INJ"]["warnings"]] == [
            ("storage", "policy_in_field")]
        assert items["TOFU-300"]["warnings"] == []
        for sku in ("MILK", "INJ"):
            body = api.client.post("/v1/descriptions", headers=api.auth(),
                                   json={"product_id": sku, "style": "detail"}).json()
            assert body["record_warnings"] == items[sku]["warnings"]
            assert body["source"] == "fallback"
        assert not re.search(r"(?<![\d,])0원", body["text"])
        assert "010-1111-2222" not in body["text"]


def test_served_draft_naming_another_shops_brand_fails(tmp_path):
    draft = "국산콩 두부 s1입니다. 소담랩과 한결주방이 함께 만든 두부예요."
    with ApiHarness(tmp_path, FakeEngine([draft]), max_regenerations=0) as api:
        api.store.put_policy(shop_policy("s2", shop_name="소담랩", courier="한결택배"))
        api.store.put_product(tofu("s2", sku="PAN", brand="한결주방", manufacturer="(주)한결주방"))
        assert {"소담랩", "한결주방", "한결택배"} <= set(api.store.foreign_names("s1"))
        assert "맑은콩" not in api.store.foreign_names("s1")  # both shops sell 맑은콩
        body = api.client.post("/v1/descriptions", headers=api.auth(),
                               json={"product_id": "TOFU-300", "style": "intro"}).json()
        assert body["source"] == "fallback"
        assert "소담랩" not in body["text"]
        record, policy = api.store.get_product("s1", "TOFU-300"), api.store.get_policy("s1")
        assert check_description(draft, record, policy, "intro").passed  # the names are the cause
        report = check_description(draft, record, policy, "intro",
                                   foreign_names=api.store.foreign_names("s1"))
        assert [(c.kind, c.text) for c in report.unsupported_claims] == [
            ("other_shop", "소담랩"), ("other_shop", "한결주방")]

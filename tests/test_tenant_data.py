"""Per-tenant data: `data build --shop S` builds a shop's adapter data from its own catalog and
policy only, and a model that learned another shop's brand and policy (a base trained on every
shop) cannot put them into a shop's descriptions or answers: grounding refuses the draft."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fake_engine import ApiHarness, FakeEngine, shop_policy, tofu
from smallretail_llm.cli import app as cli
from smallretail_llm.data.dataset import for_shop
from smallretail_llm.db.store import Store

B_BRAND, B_RETURNS, B_PHONE = "비밀콩", "수령 후 30일 이내 무조건 환불", "070-9999-8888"


def _two_shops(store: Store) -> None:
    store.put_policy(shop_policy("a"))
    store.put_policy(shop_policy("b", shop_name="비밀상회", return_policy=B_RETURNS,
                                 cs_phone=B_PHONE))
    for i in range(6):
        store.put_product(tofu("a", f"A{i}", name=f"에이 두부 {i}"))
        store.put_product(tofu("b", f"B{i}", name=f"비밀 두부 {i}", brand=B_BRAND))


def test_data_build_for_one_shop_holds_nothing_of_another(tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _two_shops(Store(db))
    result = CliRunner().invoke(cli, ["data", "build", "--db", db, "--shop", "a",
                                      "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "a").glob("*.jsonl"))
    rows = [json.loads(line) for line in text.splitlines()]
    assert rows and {r["shop_id"] for r in rows} == {"a"}
    assert not any(s in text for s in (B_BRAND, B_RETURNS, B_PHONE, "비밀상회", "비밀 두부"))
    bad = CliRunner().invoke(cli, ["data", "build", "--db", db, "--shop", "nobody",
                                   "--out", str(tmp_path / "n")])
    assert bad.exit_code == 2 and "nobody" in bad.output


def test_for_shop_keeps_only_that_shops_pairs():
    pairs = [(tofu("a", "A1"), shop_policy("a")), (tofu("b", "B1"), shop_policy("b"))]
    assert [r.sku for r, _ in for_shop(pairs, "a")] == ["A1"]


def test_another_shops_brand_and_policy_never_reach_the_output(tmp_path):
    leaky = (f"{B_BRAND} 국산콩 두부 300g입니다. {B_RETURNS}. 문의 {B_PHONE}. 비밀상회에서 "
             "보내 드립니다.")
    with ApiHarness(tmp_path, FakeEngine([leaky])) as api:
        _two_shops(api.store)
        texts = [api.client.post("/v1/descriptions", headers=api.auth("s1"), json={
                     "product_id": "TOFU-300", "style": style}).json()["text"]
                 for style in ("intro", "detail")]
        texts.append(api.client.post("/v1/answers", headers=api.auth("s1"), json={
            "product_id": "TOFU-300", "question": "반품 돼요?"}).json()["answer"])
    for text in texts:
        assert not any(s in text for s in (B_BRAND, B_RETURNS, B_PHONE, "비밀상회")), text

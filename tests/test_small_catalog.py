"""A small shop's whole path: a 5-product export is imported, split so that validation and test
each hold a product, turned into SFT data, a (tiny) nano base is built from its train split, a
LoRA adapter is trained with slot targets, and the server answers with that adapter."""

import json
from importlib import resources

import pytest

from smallretail_llm.catalog.service import catalog_pairs, import_catalog
from smallretail_llm.core.record import ShopPolicy
from smallretail_llm.data.dataset import assign_splits, build_examples, corpus_conversations, save
from smallretail_llm.db.store import Store
from smallretail_llm.models import nano
from smallretail_llm.models.adapter import ADAPTER_META
from smallretail_llm.training.config import TrainConfig
from smallretail_llm.training.sft import train
from smallretail_llm.training.sft_data import load_sft_splits

SHOP = "hanbat_food"
TINY = nano.NanoShape(vocab_size=900, hidden_size=32, intermediate_size=64, num_layers=2,
                      num_heads=4, num_kv_heads=2, context=1024)


def _five_products(tmp_path):
    samples = resources.files("smallretail_llm.catalog") / "samples"
    lines = (samples / f"{SHOP}.csv").read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "small.csv"
    path.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'small.db'}")
    policy = next(p for p in json.loads((samples / "shops.json").read_text(encoding="utf-8"))
                  if p["shop_id"] == SHOP)
    store.put_policy(ShopPolicy.model_validate(policy))
    summary = import_catalog(store, path, SHOP)
    assert (summary.rows, summary.imported, summary.rejected) == (5, 5, 0)
    return store


def test_splits_hold_out_a_product_each_once_there_are_three():
    from fake_engine import tofu

    records = [tofu(sku=f"P-{i}") for i in range(5)]
    splits = assign_splits(records)
    assert sorted(splits.values()).count("test") >= 1
    assert sorted(splits.values()).count("validation") >= 1
    assert assign_splits(records) == splits  # stable
    assert set(assign_splits(records[:2]).values()) <= {"train", "validation", "test"}


def test_five_products_import_data_train_serve(tmp_path):
    store = _five_products(tmp_path)
    built = build_examples(catalog_pairs(store), seed=0)
    assert all(built.splits[name] for name in ("train", "validation", "test"))
    data = save(built, tmp_path / "data")
    splits = load_sft_splits(data / "hf")  # an empty split used to break load_from_disk
    assert set(splits) == {"train", "validation", "test"}
    base = nano.build_nano(list(corpus_conversations(built)), tmp_path / "nano", shape=TINY,
                           training=nano.NanoTraining(max_steps=3, time_budget_s=600),
                           progress=False)
    config = TrainConfig(base_model=str(base), data=str(data / "hf"),
                         output_dir=str(tmp_path / "run"), targets="slots", max_length=1024,
                         max_steps=2, batch_size=2, eval_steps=1, save_steps=1,
                         max_train_samples=8, max_eval_samples=4, logging_steps=1)
    adapter = train(config)
    meta = json.loads((adapter / ADAPTER_META).read_text(encoding="utf-8"))
    assert meta["targets"] == "slots"

    from fastapi.testclient import TestClient

    from smallretail_llm.db.keys import create_key
    from smallretail_llm.serving.api import create_app
    from smallretail_llm.serving.engines.hf_engine import TransformersEngine
    from smallretail_llm.serving.settings import Settings

    engine = TransformersEngine(base, adapters={"small-lora": adapter}, max_new_tokens=24)
    settings = Settings(db=store.url, max_new_tokens=24, max_regenerations=0)
    key = create_key(store, SHOP)
    test_sku = next(r.sku for r in store.list_products(SHOP)
                    if assign_splits(store.list_products(SHOP))[r.key] == "test")
    with TestClient(create_app(settings, engine, store)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        r = client.post("/v1/descriptions", headers=headers,
                        json={"product_id": test_sku, "style": "intro", "model": "small-lora"})
        assert r.status_code == 200, r.text
        assert r.json()["grounding"]["passed"] is True  # model text or the grounded fallback
        a = client.post("/v1/answers", headers=headers,
                        json={"product_id": test_sku, "question": "가격이 얼마예요?",
                              "model": "small-lora"})
        assert a.status_code == 200 and a.json()["grounding"]["passed"] is True


@pytest.mark.parametrize("n", [1, 2])
def test_one_or_two_products_still_build(tmp_path, n):
    from fake_engine import shop_policy, tofu

    pairs = [(tofu(sku=f"P-{i}"), shop_policy()) for i in range(n)]
    built = build_examples(pairs, seed=0)
    data = save(built, tmp_path / "data")
    splits = load_sft_splits(data / "hf")
    assert sum(len(s) for s in splits.values()) == sum(len(r) for r in built.splits.values())

"""The unseen-shop check (eval/data/unseen/, `make eval-unseen`): its CP949 export imports with the
bad rows rejected by (row, column, reason), none of its products is part of the training data
built from the sample catalog, and `--split unseen` evaluates every product of the given DB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_engine import shop_policy, tofu
from smallretail_llm.catalog.sample_catalog import load_samples
from smallretail_llm.catalog.service import catalog_pairs, import_catalog
from smallretail_llm.core.record import ShopPolicy
from smallretail_llm.data.dataset import build_examples, corpus_conversations
from smallretail_llm.db.store import Store
from smallretail_llm.evaluation.evaluate import run_eval

UNSEEN = Path(__file__).resolve().parents[1] / "eval" / "data" / "unseen"
SHOP = "soopgil_outdoor"


@pytest.fixture(scope="module")
def unseen_store(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('unseen') / 'unseen.db'}")
    for policy in json.loads((UNSEEN / "shops.json").read_text(encoding="utf-8")):
        store.put_policy(ShopPolicy.model_validate(policy))
    return store


@pytest.fixture(scope="module")
def sample_pairs():
    store = Store("sqlite://")
    load_samples(store)
    return catalog_pairs(store)


@pytest.fixture(scope="module")
def summary(unseen_store, tmp_path_factory):
    rejects = tmp_path_factory.mktemp("rejects") / "rejects.csv"
    return import_catalog(unseen_store, UNSEEN / f"{SHOP}.csv", SHOP, rejects_path=rejects)


def test_unseen_export_is_cp949_and_rejects_its_bad_rows_by_row_and_column(summary):
    assert summary.encoding == "cp949"
    assert (summary.rows, summary.imported, summary.rejected) == (31, 27, 4)
    assert summary.missing_required == 0
    lines = Path(summary.rejects_file).read_text(encoding="utf-8-sig").splitlines()[1:]
    assert [tuple(line.split(",")[:2]) for line in lines] == [
        ("18", "판매가"), ("21", "바코드"), ("26", "상품명"), ("32", "재고수량")]
    assert set(summary.reasons) == {"가격을 숫자로 읽을 수 없습니다", "필수 항목이 비어 있음",
                                    "바코드의 검증 숫자(마지막 자리)가 맞지 않습니다",
                                    "수량은 음수일 수 없습니다"}


def test_unseen_shop_covers_categories_the_samples_lack(unseen_store, summary, sample_pairs):
    sample_categories = {r.category for r, _ in sample_pairs}
    unseen_categories = {r.category for r, _ in catalog_pairs(unseen_store)}
    assert unseen_categories == {"sports", "bedding", "bag", "fashion"}
    assert not unseen_categories & sample_categories


def test_no_unseen_product_or_brand_is_in_the_training_data(unseen_store, summary, sample_pairs):
    records = [r for r, _ in catalog_pairs(unseen_store)]
    built = build_examples(sample_pairs, seed=0)
    texts = [m["content"] for rows in built.splits.values() for row in rows
             for m in row["messages"]]
    texts += [m["content"] for conv in corpus_conversations(built) for m in conv]
    everything = "\n".join(texts)
    names = {r.name for r in records} | {r.brand for r in records if r.brand}
    assert len(names) == 31  # 27 products, 4 brands
    assert [n for n in sorted(names) if n in everything] == []


def test_unseen_split_evaluates_every_product_of_the_db(tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    store = Store(db)
    store.put_policy(shop_policy())
    for i in range(3):
        store.put_product(tofu(sku=f"T-{i}", name=f"맑은콩 두부 {i}호"))
    report = run_eval(["renderer"], "unseen", tmp_path / "out", db=db, limit=0, progress=False)
    assert report["config"]["products"] == {"unseen": 3}
    describe = report["results"]["renderer"]["unseen"]["describe"]
    assert describe["overall"]["n"] == describe["cost"]["n"] == len(
        [json.loads(line) for line in (tmp_path / "out" / "examples.jsonl").read_text().splitlines()
         if json.loads(line)["task"] == "describe"])
    assert set(describe["by_style"]) == {"detail", "intro", "bullets", "seo"}
    assert describe["overall"]["raw_pass_rate"] == 1.0  # the renderer on a complete record
    assert "## unseen: descriptions" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_unseen_split_needs_a_db_the_training_data_never_saw(tmp_path):
    with pytest.raises(ValueError, match="--db"):
        run_eval(["renderer"], "unseen", tmp_path / "a", progress=False)
    db = f"sqlite:///{tmp_path / 'seen.db'}"
    store = Store(db)
    store.put_policy(shop_policy())
    store.put_product(tofu(name="아침들녘 귀리 그래놀라 오리지널 350g"))  # a sample product's name
    with pytest.raises(ValueError, match="샘플 카탈로그"):
        run_eval(["renderer"], "unseen", tmp_path / "b", db=db, progress=False)

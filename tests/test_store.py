"""The product store: upsert counts, shop scoping, policies, all-or-nothing transactions."""

import pytest

from smallretail_llm.core.record import NetContent, ProductRecord, ShopPolicy
from smallretail_llm.db.store import Store


def make(shop="s1", sku="A1", **kw):
    fields = {"name": "국산 콩 두부", "category": "processed_food", "price_krw": 3500,
              "net_content": NetContent(value=300, unit="g")} | kw
    return ProductRecord(shop_id=shop, sku=sku, **fields)


@pytest.fixture
def store(db_url):
    store = Store(db_url)
    yield store
    store.engine.dispose()


def test_upsert_counts_and_idempotence(store):
    with store.transaction() as s:
        counts = store.upsert(s, [make(sku="A1"), make(sku="A2")])
    assert (counts.imported, counts.updated, counts.changed) == (2, 0, 0)
    with store.transaction() as s:
        counts = store.upsert(s, [make(sku="A1"), make(sku="A2", price_krw=3900)])
    assert (counts.imported, counts.updated, counts.changed) == (0, 2, 1)
    assert store.get_product("s1", "A2").price_krw == 3900


def test_every_read_is_scoped_by_shop(store):
    store.put_product(make(shop="s1", sku="A1", name="s1 두부"))
    store.put_product(make(shop="s2", sku="A1", name="s2 두부"))
    assert store.get_product("s1", "A1").name == "s1 두부"
    assert store.get_product("s2", "A1").name == "s2 두부"
    assert store.get_product("s3", "A1") is None
    assert [p.shop_id for p in store.list_products("s2")] == ["s2"]
    assert store.delete_product("s2", "A1") is True
    assert store.get_product("s1", "A1") is not None  # s2's delete never touches s1
    assert store.delete_product("s2", "A1") is False
    assert store.count_products("s1") == 1


def test_list_filter_and_paging(store):
    with store.transaction() as s:
        store.upsert(s, [make(sku=f"A{i:02}") for i in range(5)] + [make(sku="B1", category="cosmetics")])
    assert [p.sku for p in store.list_products("s1", limit=2, offset=1)] == ["A01", "A02"]
    assert [p.sku for p in store.list_products("s1", category="cosmetics")] == ["B1"]
    assert store.category_counts("s1") == {"cosmetics": 1, "processed_food": 5}


def test_foreign_names_follow_every_change_to_other_shops_products(store, db_url):
    store.put_product(make(shop="s1", sku="A1", brand="우리콩", manufacturer="콩마을"))
    store.put_product(make(shop="s2", sku="B1", brand="해뜰", manufacturer="콩마을"))
    assert store.foreign_names("s1") == ["해뜰"]  # 콩마을 is s1's maker too
    store.put_product(make(shop="s2", sku="B1", brand="달빛"))  # an update
    assert store.foreign_names("s1") == ["달빛"]
    other = Store(db_url)  # another process's import: seen at the next call
    other.put_product(make(shop="s3", sku="C1", brand="산들"))
    assert store.foreign_names("s1") == ["달빛", "산들"]
    assert other.delete_product("s3", "C1")
    assert store.foreign_names("s1") == ["달빛"]
    assert store.foreign_names("s2") == ["우리콩", "콩마을"]
    other.engine.dispose()


def test_record_round_trips_exactly(store):
    record = make(allergens=["우유", "대두"], notice={"food_type": "두부"}, extra={"메모": "x"},
                  keywords=["두부", "국산콩"], gtin="8801234567893")
    store.put_product(record)
    assert store.get_product("s1", "A1") == record


def test_interrupted_transaction_leaves_db_unchanged(store):
    store.put_product(make(sku="A1"))

    def records():
        yield make(sku="A1", price_krw=1)
        yield make(sku="A9")
        raise KeyboardInterrupt  # the import is killed midway

    with pytest.raises(KeyboardInterrupt), store.transaction() as s:
        store.upsert(s, records())
    assert store.get_product("s1", "A1").price_krw == 3500
    assert store.get_product("s1", "A9") is None


def test_policy_round_trip(store):
    policy = ShopPolicy(shop_id="s1", shop_name="하늘식품", shipping_fee_krw=3000,
                        free_shipping_threshold_krw=30000, shipping_days="결제 후 1~2일 내 출고",
                        return_policy="수령 후 7일 이내 교환/반품", cs_phone="1588-1234",
                        cs_hours="평일 10:00~17:00")
    store.put_policy(policy)
    assert store.get_policy("s1") == policy
    assert store.get_policy("nope") is None
    assert store.shops() == ["s1"]

"""Schema migrations: a database made by the previous revision (or before migrations existed)
upgrades in place with its data, and the migrations build exactly what the models describe."""

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect

from smallretail_llm.catalog.service import ImportSummary
from smallretail_llm.core.record import NetContent, ProductRecord
from smallretail_llm.db import migrate
from smallretail_llm.db.models import ProductRow, ShopRow
from smallretail_llm.db.store import Store, record_hash

RECORD = ProductRecord(shop_id="s1", sku="A1", name="국산 콩 두부", category="processed_food",
                       price_krw=3500, net_content=NetContent(value=300, unit="g"),
                       allergens=["대두"])


def _insert_product(engine, record=RECORD):
    """Rows as the baseline schema holds them, written without the (newer) Store."""
    with engine.begin() as connection:
        connection.execute(insert(ShopRow.__table__).values(shop_id=record.shop_id,
                                                            created_at=migrate_now()))
        connection.execute(insert(ProductRow.__table__).values(
            shop_id=record.shop_id, sku=record.sku, category=record.category, name=record.name,
            record=record.model_dump(mode="json"), content_hash=record_hash(record),
            updated_at=migrate_now()))


def migrate_now():
    import datetime as dt

    return dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_revisions_are_baseline_then_import_runs_then_key_lifecycle():
    assert migrate.head() == "0003"


def test_db_at_previous_revision_upgrades_with_its_data(db_url):
    engine = create_engine(db_url)
    migrate.upgrade_engine(engine, "0001")
    assert migrate.current(engine) == "0001"
    assert "import_runs" not in inspect(engine).get_table_names()
    _insert_product(engine)
    engine.dispose()

    store = Store(db_url)  # opening the DB upgrades it to head
    assert migrate.current(store.engine) == "0003"
    assert store.get_product("s1", "A1") == RECORD
    assert store.shops() == ["s1"]
    with store.transaction() as session:  # the new table works on the upgraded DB
        store.record_import(session, "s1", ImportSummary(rows=3, imported=1, rejected=2),
                            source="a.csv")
    (run,) = store.import_runs("s1")
    assert (run["rows"], run["imported"], run["rejected"], run["source"]) == (3, 1, 2, "a.csv")
    store.engine.dispose()


def test_db_made_before_migrations_is_adopted(db_url):
    """The first releases called create_all: shops and products exist, alembic_version doesn't."""
    engine = create_engine(db_url)
    ShopRow.metadata.create_all(engine, tables=[ShopRow.__table__, ProductRow.__table__])
    _insert_product(engine)
    engine.dispose()
    assert migrate.upgrade(db_url) == {"from": None, "to": "0003"}
    assert migrate.upgrade(db_url) == {"from": "0003", "to": "0003"}
    store = Store(db_url)
    assert store.get_product("s1", "A1") == RECORD
    assert set(inspect(store.engine).get_table_names()) >= {"api_keys", "import_runs"}
    store.engine.dispose()


def test_migrations_build_what_the_models_describe(db_url):
    store = Store(db_url)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), migrate.metadata())
    store.engine.dispose()
    assert diff == []


def test_replicas_starting_at_once_migrate_once(db_url):
    errors: list[BaseException] = []
    start = threading.Barrier(4, timeout=30)

    def open_store():
        try:
            start.wait()
            Store(db_url).engine.dispose()
        except BaseException as exc:  # noqa: BLE001 (reported below, with the backend message)
            errors.append(exc)

    threads = [threading.Thread(target=open_store, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert migrate.current(db_url) == "0003"


def test_import_runs_are_newest_first_and_per_shop(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with store.transaction() as session:
        first = store.record_import(session, "s1", {"rows": 2, "imported": 2})
        second = store.record_import(session, "s1", {"rows": 2, "updated": 2, "changed": 0})
        store.record_import(session, "s2", {"rows": 1, "rejected": 1})
    runs = store.import_runs("s1")
    assert [r["id"] for r in runs] == [second, first]
    assert (runs[0]["updated"], runs[1]["imported"]) == (2, 2)
    assert [r["rejected"] for r in store.import_runs("s2")] == [1]


def test_keys_of_the_previous_release_survive_the_upgrade(db_url):
    """A database at 0002 with a key made the old way: after the upgrade the same key still
    authenticates, with every scope, and the lifecycle columns work on it."""
    import hashlib

    from smallretail_llm.db.keys import ApiKeys
    from smallretail_llm.db.models import SCOPES

    engine = create_engine(db_url)
    migrate.upgrade_engine(engine, "0002")
    _insert_product(engine)
    key = "sr_0123456789ab_" + "k" * 43
    with engine.begin() as connection:
        connection.execute(insert(migrate.metadata().tables["api_keys"]).values(
            key_id="0123456789ab", shop_id="s1", revoked=False, created_at=migrate_now(),
            key_hash=hashlib.sha256(key.encode()).hexdigest()))
    engine.dispose()
    store = Store(db_url)
    assert migrate.current(store.engine) == "0003"
    keys = ApiKeys(store)
    info = keys.authenticate(key)
    assert (info.shop_id, info.scopes, info.expires_at) == ("s1", SCOPES, None)
    assert info.last_used_at is not None
    assert keys.revoke("0123456789ab") and keys.authenticate(key) is None
    assert [e["event"] for e in keys.events("s1")] == ["revoked"]
    store.engine.dispose()

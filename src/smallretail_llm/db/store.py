"""The product database: SQLAlchemy 2, SQLite by default, PostgreSQL when hosted. Every product
query takes a shop id; there is no way to read a product without saying whose it is.

The schema comes from the Alembic migrations (smallretail_llm.db.migrate), applied when a Store
opens a database. Writers of one shop are serialized (PostgreSQL: a row lock on the shop; SQLite:
``BEGIN IMMEDIATE``), so two imports of the same shop at once never duplicate rows or fail: the
second waits for the first and then sees its rows as updates.

Readers never wait for a writer: PostgreSQL reads a snapshot, and a SQLite file runs in WAL mode
(without it, an import bigger than SQLite's page cache takes the file's exclusive lock before it
commits, and every read, API authentication included, waits for the whole import)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    create_engine,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from smallretail_llm.core.paths import default_db_url, home_dir  # noqa: F401 - home_dir re-exported
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.db.models import ImportRunRow, ProductRow, ShopRow, utc_now

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

SQLITE_BUSY_TIMEOUT_S = 60  # a second writer waits this long for the first (a big import)


@dataclass
class UpsertCounts:
    imported: int = 0
    updated: int = 0   # rows whose shop+sku already existed
    changed: int = 0   # of those, how many actually differed (re-importing a file changes 0)


def record_hash(record: ProductRecord) -> str:
    payload = json.dumps(record.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class Store:
    """One database. Use `with store.transaction() as tx:` for writes that must be all-or-nothing."""

    def __init__(self, url: str | None = None):
        from smallretail_llm.db.migrate import upgrade_engine

        self.url = url or default_db_url()
        self._sqlite = self.url.startswith("sqlite")
        if self.url.startswith("sqlite:///") and self.url != "sqlite:///:memory:":
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S} if self._sqlite else {}
        # pre_ping: after a database restart, a pooled connection is found dead and replaced
        # before a request uses it, so the server recovers by itself.
        self.engine = create_engine(self.url, connect_args=connect_args,
                                    pool_pre_ping=not self._sqlite)
        upgrade_engine(self.engine)  # a no-op read when the schema is already at head
        if self._sqlite and self.url != "sqlite:///:memory:":
            with self.engine.connect() as connection:  # kept in the file: once is enough
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._brands: tuple[tuple, dict[str, set[str]]] | None = None  # see foreign_names

    @contextmanager
    def transaction(self, wait: bool = True) -> Iterator[Session]:
        """Commit on success; roll back on any exception, including KeyboardInterrupt. A killed
        process commits nothing either: the database discards its open transaction.
        ``wait=False``: a write lock another transaction holds is not waited for; the
        statement raises ``OperationalError`` at once (for writes that may be skipped)."""
        with self._sessions() as session:
            try:
                if self._sqlite:
                    self._begin_immediate(session.connection(), wait)
                elif not wait and self.engine.dialect.name == "postgresql":
                    session.execute(text("SET LOCAL lock_timeout = '1ms'"))  # 0 would be forever
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @staticmethod
    def _begin_immediate(connection, wait: bool) -> None:
        """Take SQLite's write lock now: a deferred transaction that reads, then writes, fails
        with "database is locked" when another writer got there first. Without ``wait`` the
        busy timeout is 0 for this one statement (a pooled connection keeps its setting)."""
        if wait:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        connection.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: no write lock is taken and nothing is committed, so it never
        waits for a writer (see the module doc)."""
        with self._sessions() as session:
            yield session

    # --- shops -----------------------------------------------------------------------------
    def ensure_shop(self, session: Session, shop_id: str) -> None:
        """Create the shop row if missing; safe when another transaction creates it at once."""
        if session.get(ShopRow, shop_id) is not None:
            return
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            session.execute(pg_insert(ShopRow).values(shop_id=shop_id, created_at=utc_now())
                            .on_conflict_do_nothing(index_elements=["shop_id"]))
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert
            session.execute(sqlite_insert(ShopRow).values(shop_id=shop_id, created_at=utc_now())
                            .on_conflict_do_nothing(index_elements=["shop_id"]))
        else:
            session.add(ShopRow(shop_id=shop_id))
            session.flush()

    def _lock_shop(self, session: Session, shop_id: str) -> None:
        """Hold the shop's row until commit, so one writer of a shop runs at a time. NO KEY
        UPDATE still lets inserts that only reference the shop (API keys) through. SQLite
        ignores it: BEGIN IMMEDIATE in transaction() already serialized the writers."""
        self.ensure_shop(session, shop_id)
        session.execute(select(ShopRow.shop_id).where(ShopRow.shop_id == shop_id)
                        .with_for_update(key_share=True))

    def put_policy(self, policy: ShopPolicy) -> None:
        with self.transaction() as s:
            self.ensure_shop(s, policy.shop_id)
            row = s.get(ShopRow, policy.shop_id)
            assert row is not None  # ensure_shop has just made sure it exists
            row.policy = policy.model_dump(mode="json")

    def get_policy(self, shop_id: str) -> ShopPolicy | None:
        with self._sessions() as s:
            row = s.get(ShopRow, shop_id)
            return ShopPolicy.model_validate(row.policy) if row and row.policy else None

    def shops(self) -> list[str]:
        with self._sessions() as s:
            return list(s.scalars(select(ShopRow.shop_id).order_by(ShopRow.shop_id)))

    # --- products --------------------------------------------------------------------------
    def upsert(self, session: Session, records: Iterable[ProductRecord]) -> UpsertCounts:
        """Insert or update by (shop, sku) inside the caller's transaction. Each shop's existing
        rows are read once per call, not once per record (imports are thousands of rows)."""
        counts = UpsertCounts()
        known: dict[str, dict[str, ProductRow]] = {}
        for record in records:
            rows = known.get(record.shop_id)
            if rows is None:
                self._lock_shop(session, record.shop_id)  # before reading what exists
                rows = known[record.shop_id] = {r.sku: r for r in session.scalars(
                    select(ProductRow).where(ProductRow.shop_id == record.shop_id))}
            digest = record_hash(record)
            row = rows.get(record.sku)
            if row is None:
                rows[record.sku] = row = ProductRow(
                    shop_id=record.shop_id, sku=record.sku, category=record.category,
                    name=record.name, record=record.model_dump(mode="json"), content_hash=digest)
                session.add(row)
                counts.imported += 1
                continue
            counts.updated += 1
            if row.content_hash != digest:
                row.category, row.name = record.category, record.name
                row.record, row.content_hash, row.updated_at = (
                    record.model_dump(mode="json"), digest, utc_now())
                counts.changed += 1
        return counts

    def record_import(self, session: Session, shop_id: str | None, summary: Any,
                      source: str | None = None) -> int:
        """Add an import's summary (a dataclass such as catalog.ImportSummary, or a dict with
        rows/imported/updated/changed/rejected) to import_runs, inside the import's own
        transaction: the audit row exists exactly when the imported rows do. Returns its id."""
        instance = is_dataclass(summary) and not isinstance(summary, type)  # (not a class)
        data = asdict(summary) if instance else dict(summary)
        if shop_id is not None:
            self.ensure_shop(session, shop_id)
        row = ImportRunRow(
            shop_id=shop_id, source=str(source)[-255:] if source else None,
            summary=json.loads(json.dumps(data, ensure_ascii=False, default=str)),
            **{k: int(data.get(k) or 0) for k in ("rows", "imported", "updated", "changed",
                                                   "rejected")})
        session.add(row)
        session.flush()
        return row.id

    def import_runs(self, shop_id: str, limit: int = 20) -> list[dict]:
        """The shop's latest imports, newest first: each the stored summary plus id, source and
        created_at."""
        with self._sessions() as s:
            rows = s.scalars(select(ImportRunRow).where(ImportRunRow.shop_id == shop_id)
                             .order_by(ImportRunRow.id.desc()).limit(limit))
            return [r.summary | {"id": r.id, "source": r.source,
                                 "created_at": r.created_at.isoformat()} for r in rows]

    def put_product(self, record: ProductRecord) -> UpsertCounts:
        with self.transaction() as s:
            return self.upsert(s, [record])

    def get_product(self, shop_id: str, sku: str) -> ProductRecord | None:
        with self._sessions() as s:
            row = s.scalar(select(ProductRow).where(
                ProductRow.shop_id == shop_id, ProductRow.sku == sku))
            return ProductRecord.model_validate(row.record) if row else None

    def delete_product(self, shop_id: str, sku: str) -> bool:
        with self.transaction() as s:
            # a DELETE gives a CursorResult (rowcount); Session.execute is typed as plain Result
            result = cast("CursorResult[Any]", s.execute(delete(ProductRow).where(
                ProductRow.shop_id == shop_id, ProductRow.sku == sku)))
            return result.rowcount > 0

    def list_products(
        self, shop_id: str, category: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[ProductRecord]:
        with self._sessions() as s:
            query = select(ProductRow.record).where(ProductRow.shop_id == shop_id)
            if category:
                query = query.where(ProductRow.category == category)
            query = query.order_by(ProductRow.sku).offset(offset).limit(limit)
            return [ProductRecord.model_validate(r) for r in s.scalars(query)]

    def foreign_names(self, shop_id: str) -> list[str]:
        """Other shops' names, couriers and their products' brands and makers, less any this
        shop also uses: what grounding flags in this shop's copy (`foreign_names=`).
        The brands and makers of every product (name -> shops) are kept between calls while
        the products table is unchanged (row count, highest id, latest update: a delete, an
        insert and an update each move one), so a request reads one aggregate row, not every
        product's record; a change made by another process shows at the next call."""
        with self._sessions() as s:
            version = tuple(s.execute(select(func.count(), func.max(ProductRow.id),
                                             func.max(ProductRow.updated_at))).one())
            cached = self._brands
            if cached is None or cached[0] != version:
                brand = ProductRow.record["brand"].as_string()
                maker = ProductRow.record["manufacturer"].as_string()
                owners: dict[str, set[str]] = {}
                for owner, b, m in s.execute(select(ProductRow.shop_id, brand, maker).distinct()):
                    for name in (b, m):
                        if name:
                            owners.setdefault(name, set()).add(owner)
                cached = self._brands = (version, owners)
            names: dict[bool, set[str]] = {True: set(), False: set()}
            for name, shops in cached[1].items():
                if shop_id in shops:
                    names[True].add(name)
                if shops - {shop_id}:
                    names[False].add(name)
            for sid, policy in s.execute(select(ShopRow.shop_id, ShopRow.policy)):
                if policy:
                    names[sid == shop_id].update(
                        n for n in (policy.get("shop_name"), policy.get("courier")) if n)
        return sorted(names[False] - names[True])

    def count_products(self, shop_id: str) -> int:
        with self._sessions() as s:
            return s.scalar(select(func.count()).select_from(ProductRow)
                            .where(ProductRow.shop_id == shop_id)) or 0

    def category_counts(self, shop_id: str | None = None) -> dict[str, int]:
        """Products per category, for one shop or (dataset building, reports) for all shops."""
        with self._sessions() as s:
            query = select(ProductRow.category, func.count()).group_by(ProductRow.category)
            if shop_id is not None:
                query = query.where(ProductRow.shop_id == shop_id)
            return dict(sorted(s.execute(query).all()))

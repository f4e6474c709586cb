"""The product database: SQLAlchemy 2, SQLite by default, PostgreSQL-compatible. Every product
query takes a shop id; there is no way to read a product without saying whose it is."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, create_engine
from sqlalchemy import delete, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from .record import ProductRecord, ShopPolicy


def home_dir() -> Path:
    """SMALLRETAIL_HOME: where built models, the demo DB and caches live."""
    return Path(os.environ.get("SMALLRETAIL_HOME") or Path.home() / ".cache" / "smallretail")


def default_db_url() -> str:
    return os.environ.get("SMALLRETAIL_DB") or f"sqlite:///{home_dir() / 'smallretail.db'}"


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ShopRow(Base):
    __tablename__ = "shops"
    shop_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ProductRow(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("shop_id", "sku", name="uq_products_shop_sku"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    record: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


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
        self.url = url or default_db_url()
        if self.url.startswith("sqlite:///") and self.url != "sqlite:///:memory:":
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(self.url)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success; roll back on any exception, including KeyboardInterrupt."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # --- shops -----------------------------------------------------------------------------
    def ensure_shop(self, session: Session, shop_id: str) -> None:
        if session.get(ShopRow, shop_id) is None:
            session.add(ShopRow(shop_id=shop_id))
            session.flush()

    def put_policy(self, policy: ShopPolicy) -> None:
        with self.transaction() as s:
            self.ensure_shop(s, policy.shop_id)
            s.get(ShopRow, policy.shop_id).policy = policy.model_dump(mode="json")

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
                self.ensure_shop(session, record.shop_id)
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
                    record.model_dump(mode="json"), digest, _now())
                counts.changed += 1
        return counts

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
            result = s.execute(delete(ProductRow).where(
                ProductRow.shop_id == shop_id, ProductRow.sku == sku))
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
            return {code: n for code, n in sorted(s.execute(query).all())}

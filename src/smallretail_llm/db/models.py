"""The database's tables, in one place: the store, API keys and usage write these rows, and the
migrations (and the models-vs-migrations test) read ``Base.metadata`` from here. Importing this
module needs nothing but SQLAlchemy, so nothing here imports the modules that use the rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so later migrations can drop or alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table of the product DB. A new table here needs a migration (migrate.py)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ShopRow(Base):
    __tablename__ = "shops"
    shop_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


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
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ImportRunRow(Base):
    """One catalog import and its summary (migration 0002), for the shop's audit trail."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_id: Mapped[str | None] = mapped_column(ForeignKey("shops.shop_id"), index=True)
    source: Mapped[str | None] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


SCOPES = ("catalog:read", "generate", "import")
"""catalog:read reads products and stats; generate runs the model; import writes products."""


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scopes: Mapped[str] = mapped_column(String(200), server_default=",".join(SCOPES))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class KeyEventRow(Base):
    """One audited key event: created, revoked, rotated (on the old key), used_expired."""

    __tablename__ = "key_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(12), index=True)
    shop_id: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class UsageRow(Base):
    __tablename__ = "usage"
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)  # key:<id> | shop:<id>
    window: Mapped[str] = mapped_column(String(20), primary_key=True)  # m:…, d:…, M:…
    requests: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[int] = mapped_column(Integer)

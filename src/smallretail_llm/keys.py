"""API keys: one key belongs to one shop. Only a SHA-256 of each key is stored; the plaintext is
shown once, when the key is created.

A key reads ``sr_<id>_<secret>``: the public ``id`` finds the row, and the hash of the whole key
is compared in constant time (``hmac.compare_digest``). The secret has 256 bits of entropy, so a
plain (unsalted) hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Boolean, DateTime, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from smallretail_llm.store import Base, Store

PREFIX = "sr"
_KEY_RE = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: dt.datetime.now(dt.UTC))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    shop_id: str
    created_at: dt.datetime
    revoked: bool


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    """Key operations on one store; creating it makes sure the table exists."""

    def __init__(self, store: Store) -> None:
        self.store = store
        ApiKeyRow.__table__.create(store.engine, checkfirst=True)

    def create(self, shop_id: str) -> str:
        """A new key for ``shop_id`` (the shop is created if new). Returns the plaintext key,
        which is not stored and cannot be shown again."""
        if not shop_id or not shop_id.strip() or len(shop_id) > 64:
            raise ValueError(f"상점 ID가 올바르지 않습니다: '{shop_id}' (1~64자)")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        with self.store.transaction() as session:
            self.store.ensure_shop(session, shop_id)
            session.add(ApiKeyRow(key_id=key_id, shop_id=shop_id, key_hash=_digest(key)))
        return key

    def authenticate(self, key: str) -> KeyInfo | None:
        """The key's owner, or None for a malformed, unknown or revoked key."""
        match = _KEY_RE.match(key or "")
        if match is None:
            return None
        with self.store.transaction() as session:
            row = session.get(ApiKeyRow, match.group(1))
            if row is None or row.revoked or not hmac.compare_digest(row.key_hash, _digest(key)):
                return None
            return KeyInfo(row.key_id, row.shop_id, row.created_at, row.revoked)

    def revoke(self, key_id: str) -> bool:
        with self.store.transaction() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None or row.revoked:
                return False
            row.revoked = True
            return True

    def list(self, shop_id: str | None = None) -> list[KeyInfo]:
        with self.store.transaction() as session:
            query = select(ApiKeyRow).order_by(ApiKeyRow.shop_id, ApiKeyRow.created_at)
            if shop_id is not None:
                query = query.where(ApiKeyRow.shop_id == shop_id)
            return [KeyInfo(r.key_id, r.shop_id, r.created_at, r.revoked)
                    for r in session.scalars(query)]


def create_key(store: Store, shop_id: str) -> str:
    """`smallretail keys create --shop S`: a new key for the shop, plaintext returned once."""
    return ApiKeys(store).create(shop_id)


def key_id_of(key: str) -> str | None:
    """The public id part of a key (safe to log), or None if it is not a key."""
    match = _KEY_RE.match(key or "")
    return match.group(1) if match else None

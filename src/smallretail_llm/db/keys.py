"""API keys: one key belongs to one shop. Only a SHA-256 of each key is stored; the plaintext is
shown once, when the key is created (or rotated).

A key reads ``sr_<id>_<secret>``: the public ``id`` finds the row, and the hash of the whole key
is compared in constant time (``hmac.compare_digest``). The secret has 256 bits of entropy, so a
plain (unsalted) hash is enough: there is nothing to brute-force. Listings show only the prefix
``sr_<id>``.

A key carries a name, scopes (what it may do), an optional expiry, and created / last-used /
revoked times. Every request reads the key's row, so a revoked, expired or rotated-away key is
refused at once by every replica over the same database. That read takes no write lock, so a
running import never delays a request (``authenticate``). Every change is written to
``key_events`` (the audit trail) in the same transaction as the change itself.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import overload

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from smallretail_llm.db.models import SCOPES, ApiKeyRow, KeyEventRow, utc_now
from smallretail_llm.db.store import Store

log = logging.getLogger(__name__)

PREFIX = "sr"
_KEY_RE = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")
LAST_USED_EVERY = dt.timedelta(seconds=60)  # last_used_at is written at most this often


@overload
def _aware(value: dt.datetime) -> dt.datetime: ...
@overload
def _aware(value: None) -> None: ...
@overload
def _aware(value: dt.datetime | None) -> dt.datetime | None: ...
def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back; they were written in UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    shop_id: str
    created_at: dt.datetime
    revoked: bool
    name: str | None = None
    scopes: tuple[str, ...] = SCOPES
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None

    @classmethod
    def of(cls, row: ApiKeyRow) -> KeyInfo:
        return cls(row.key_id, row.shop_id, _aware(row.created_at), row.revoked, row.name,
                   tuple(s for s in (row.scopes or "").split(",") if s), _aware(row.expires_at),
                   _aware(row.last_used_at))

    @property
    def prefix(self) -> str:
        return f"{PREFIX}_{self.key_id}"

    def listing(self) -> dict:
        """What `keys list` and the admin API show: never the key, only its prefix."""
        return {"id": self.key_id, "shop": self.shop_id, "prefix": self.prefix, "name": self.name,
                "created": self.created_at.isoformat(),
                "last_used": self.last_used_at.isoformat() if self.last_used_at else None,
                "expires": self.expires_at.isoformat() if self.expires_at else None,
                "scopes": list(self.scopes), "revoked": self.revoked}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_scopes(scopes: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The scopes as stored (all of them when None); an unknown one is a ValueError."""
    if scopes is None:
        return SCOPES
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"알 수 없는 권한입니다: {', '.join(unknown) or '(없음)'} "
                         f"(가능: {', '.join(SCOPES)})")
    return tuple(s for s in SCOPES if s in scopes)


class ApiKeys:
    """Key operations on one store (the table comes from the migrations)."""

    def __init__(self, store: Store, clock=utc_now) -> None:
        self.store = store
        self._clock = clock

    def create(self, shop_id: str, *, name: str | None = None,
               scopes: list[str] | tuple[str, ...] | None = None,
               expires_at: dt.datetime | None = None, actor: str = "cli") -> str:
        """A new key for ``shop_id`` (the shop is created if new). Returns the plaintext key,
        which is not stored and cannot be shown again."""
        with self.store.transaction() as session:
            return self._create(session, shop_id, name, check_scopes(scopes), expires_at, actor)

    def _create(self, session, shop_id: str, name: str | None, scopes: tuple[str, ...],
                expires_at: dt.datetime | None, actor: str, details: dict | None = None) -> str:
        if not shop_id or not shop_id.strip() or len(shop_id) > 64:
            raise ValueError(f"상점 ID가 올바르지 않습니다: '{shop_id}' (1~64자)")
        if name is not None and len(name) > 64:
            raise ValueError(f"키 이름은 64자 이하여야 합니다: '{name[:20]}…'")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        self.store.ensure_shop(session, shop_id)
        session.add(ApiKeyRow(key_id=key_id, shop_id=shop_id, key_hash=_digest(key), name=name,
                              scopes=",".join(scopes), expires_at=expires_at,
                              created_at=self._clock()))
        self._audit(session, key_id, shop_id, "created", actor, details)
        return key

    def _audit(self, session, key_id: str, shop_id: str, event: str, actor: str,
               details: dict | None = None) -> None:
        session.add(KeyEventRow(key_id=key_id, shop_id=shop_id, event=event, actor=actor,
                                details=details, at=self._clock()))
        log.info("api key %s", event, extra={"key_id": key_id, "shop": shop_id, "actor": actor})

    def authenticate(self, key: str) -> KeyInfo | None:
        """The key's owner, or None for a malformed, unknown, revoked or expired key. The key is
        read without a write lock; last_used_at is then written as ``_touch`` says."""
        match = _KEY_RE.match(key or "")
        if match is None:
            return None
        now = self._clock()
        with self.store.reading() as session:
            row = session.get(ApiKeyRow, match.group(1))
            if row is None or row.revoked or not hmac.compare_digest(row.key_hash, _digest(key)):
                return None
            if row.expires_at is not None and _aware(row.expires_at) <= now:
                return None
            info = KeyInfo.of(row)
        last = info.last_used_at
        if (last is None or now - last >= LAST_USED_EVERY) and self._touch(info.key_id, now):
            info = dataclasses.replace(info, last_used_at=now)
        return info

    def _touch(self, key_id: str, now: dt.datetime) -> bool:
        """Write the key's last_used_at (at most once per LAST_USED_EVERY) without waiting: when
        another transaction holds the write lock (an import on SQLite, a change of this key on
        PostgreSQL) the write is skipped and a later request makes it. Why skip, not batch:
        last_used_at tells an operator whether a key is still in use, and a minute (or an
        import) late tells it as well; a batch writer would be one more thread to run and to
        flush at shutdown. False when skipped."""
        try:
            with self.store.transaction(wait=False) as session:
                session.execute(update(ApiKeyRow).where(ApiKeyRow.key_id == key_id)
                                .values(last_used_at=now))
            return True
        except OperationalError as exc:
            log.debug("last_used_at not written, database busy", extra={
                "key_id": key_id, "error": type(exc).__name__})
            return False

    def revoke(self, key_id: str, actor: str = "cli") -> bool:
        """Refuse the key from now on; False when it does not exist or is already revoked."""
        with self.store.transaction() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None or row.revoked:
                return False
            row.revoked, row.revoked_at = True, self._clock()
            self._audit(session, key_id, row.shop_id, "revoked", actor)
            return True

    def rotate(self, key_id: str, actor: str = "cli") -> str | None:
        """A new key with the old one's shop, name, scopes and expiry; the old key is revoked in
        the same transaction. Returns the new plaintext key (None: no such live key)."""
        with self.store.transaction() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None or row.revoked:
                return None
            old = KeyInfo.of(row)
            row.revoked, row.revoked_at = True, self._clock()
            key = self._create(session, old.shop_id, old.name, old.scopes, old.expires_at, actor,
                               {"replaces": key_id})
            self._audit(session, key_id, old.shop_id, "rotated", actor,
                        {"replaced_by": key_id_of(key)})
            return key

    def get(self, key_id: str) -> KeyInfo | None:
        with self.store.transaction() as session:
            row = session.get(ApiKeyRow, key_id)
            return KeyInfo.of(row) if row is not None else None

    def list(self, shop_id: str | None = None) -> list[KeyInfo]:
        with self.store.transaction() as session:
            query = select(ApiKeyRow).order_by(ApiKeyRow.shop_id, ApiKeyRow.created_at)
            if shop_id is not None:
                query = query.where(ApiKeyRow.shop_id == shop_id)
            return [KeyInfo.of(r) for r in session.scalars(query)]

    def events(self, shop_id: str | None = None, key_id: str | None = None
               ) -> builtins.list[dict]:  # (`list` here is the method above)
        """The audit trail, oldest first."""
        with self.store.transaction() as session:
            query = select(KeyEventRow).order_by(KeyEventRow.id)
            if shop_id is not None:
                query = query.where(KeyEventRow.shop_id == shop_id)
            if key_id is not None:
                query = query.where(KeyEventRow.key_id == key_id)
            return [{"key_id": e.key_id, "shop": e.shop_id, "event": e.event, "actor": e.actor,
                     "details": e.details, "at": _aware(e.at).isoformat()}
                    for e in session.scalars(query)]


def create_key(store: Store, shop_id: str, **options) -> str:
    """`smallretail keys create --shop S`: a new key for the shop, plaintext returned once."""
    return ApiKeys(store).create(shop_id, **options)


def key_id_of(key: str) -> str | None:
    """The public id part of a key (safe to log), or None if it is not a key."""
    match = _KEY_RE.match(key or "")
    return match.group(1) if match else None

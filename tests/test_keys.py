"""API keys: shown once, stored only as a hash, one shop per key, revocable."""

import hashlib

import pytest
from sqlalchemy import select

from smallretail_llm.db.keys import ApiKeys, create_key, key_id_of
from smallretail_llm.db.models import ApiKeyRow
from smallretail_llm.db.store import Store


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_key_authenticates_to_its_shop_and_only_a_hash_is_stored(store):
    key = create_key(store, "s1")
    assert key.startswith("sr_") and len(key) == 3 + 12 + 1 + 43
    info = ApiKeys(store).authenticate(key)
    assert (info.shop_id, info.key_id, info.revoked) == ("s1", key_id_of(key), False)
    with store.transaction() as session:
        rows = list(session.scalars(select(ApiKeyRow)))
    assert [r.key_hash for r in rows] == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in repr([(r.key_id, r.shop_id, r.key_hash) for r in rows])
    assert store.shops() == ["s1"]  # the shop row exists for the key's foreign key


def test_wrong_malformed_and_revoked_keys_are_refused(store):
    keys = ApiKeys(store)
    key = keys.create("s1")
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")  # right id, wrong secret
    assert keys.authenticate(forged) is None
    assert keys.authenticate("") is None
    assert keys.authenticate("not-a-key") is None
    assert keys.authenticate("sr_000000000000_" + "x" * 43) is None  # unknown id
    assert keys.revoke(key_id_of(key)) is True
    assert keys.authenticate(key) is None
    assert keys.revoke(key_id_of(key)) is False


def test_keys_are_unique_and_listed_per_shop(store):
    keys = ApiKeys(store)
    a1, a2, b1 = keys.create("a"), keys.create("a"), keys.create("b")
    assert len({a1, a2, b1}) == 3
    assert sorted(k.key_id for k in keys.list("a")) == sorted([key_id_of(a1), key_id_of(a2)])
    assert [k.shop_id for k in keys.list()] == ["a", "a", "b"]
    assert keys.authenticate(b1).shop_id == "b"


def test_bad_shop_id_is_refused_in_korean(store):
    with pytest.raises(ValueError, match="상점 ID"):
        create_key(store, " ")

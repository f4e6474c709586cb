"""Key lifecycle and shared quotas: the CLI and the operator API create, list, revoke and rotate
keys (listings never show a key, every event is audited); two API replicas over one database
refuse a revoked, expired or rotated-away key at once and share one quota."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fake_engine import FakeEngine, shop_policy, tofu
from smallretail_llm.cli import app as cli
from smallretail_llm.db.keys import ApiKeys, key_id_of
from smallretail_llm.db.store import Store
from smallretail_llm.serving.api import create_app
from smallretail_llm.serving.settings import Settings

ADMIN = {"Authorization": "Bearer admin-secret"}


def test_cli_create_list_revoke_rotate(tmp_path):
    db = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, [*args, "--db", db])
        assert result.exit_code == 0, result.output
        (line,) = result.stdout.strip().splitlines()
        return json.loads(line)

    created = run("keys", "create", "--shop", "s1", "--name", "연동", "--scopes",
                  "catalog:read,generate", "--expires-days", "30")
    key = created["key"]
    listed = run("keys", "list", "--shop", "s1")["keys"]
    assert [(k["id"], k["prefix"], k["name"], k["scopes"]) for k in listed] == [
        (created["key_id"], f"sr_{created['key_id']}", "연동", ["catalog:read", "generate"])]
    assert set(listed[0]) >= {"id", "prefix", "name", "created", "last_used", "expires", "scopes"}
    assert key not in json.dumps(listed) and key.split("_", 2)[2] not in json.dumps(listed)
    rotated = run("keys", "rotate", created["key_id"])
    assert rotated["replaces"] == created["key_id"] and rotated["key"] != key
    run("keys", "revoke", rotated["key_id"])
    bad = runner.invoke(cli, ["keys", "revoke", rotated["key_id"], "--db", db])
    assert bad.exit_code == 1 and "이미 폐기" in bad.output
    bad = runner.invoke(cli, ["keys", "create", "--shop", "s1", "--scopes", "root", "--db", db])
    assert bad.exit_code == 2 and "알 수 없는 권한" in bad.output
    store = Store(db)
    keys = ApiKeys(store)
    assert keys.authenticate(key) is None and keys.authenticate(rotated["key"]) is None
    assert [e["event"] for e in keys.events("s1")] == ["created", "created",
                                                       "rotated", "revoked"]


def _replica(db_url: str, **settings) -> TestClient:
    app = create_app(Settings(db=db_url, admin_token="admin-secret", **settings), FakeEngine())
    return TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1")


@pytest.fixture
def two_replicas(db_url):
    """Two apps (as two replicas would be) over one database, with shop s1's product."""
    store = Store(db_url)
    store.put_policy(shop_policy("s1"))
    store.put_product(tofu("s1"))
    yield store, db_url
    store.engine.dispose()


def test_admin_api_and_revocation_on_every_replica(two_replicas):
    _, db_url = two_replicas
    one, two = _replica(db_url), _replica(db_url)
    created = one.post("/admin/keys", headers=ADMIN, json={"shop": "s1", "name": "앱"})
    assert created.status_code == 201
    key, key_id = created.json()["key"], created.json()["id"]
    auth = {"Authorization": f"Bearer {key}"}
    assert two.get("/v1/products", headers=auth).status_code == 200
    listed = two.get("/admin/keys", headers=ADMIN, params={"shop": "s1"}).json()["keys"]
    assert [k["prefix"] for k in listed] == [f"sr_{key_id}"] and key not in json.dumps(listed)
    assert listed[0]["last_used"] is not None
    # revoked on replica one: refused by replica two on its very next request
    assert one.post(f"/admin/keys/{key_id}/revoke", headers=ADMIN).json()["revoked"] is True
    assert two.get("/v1/products", headers=auth).status_code == 401
    # rotated on two: the old key is refused on one, the new one works there
    fresh = two.post("/admin/keys", headers=ADMIN, json={"shop": "s1"}).json()
    rotated = two.post(f"/admin/keys/{fresh['id']}/rotate", headers=ADMIN).json()
    assert one.get("/v1/products", headers={"Authorization": f"Bearer {fresh['key']}"}
                   ).status_code == 401
    assert one.get("/v1/products", headers={"Authorization": f"Bearer {rotated['key']}"}
                   ).status_code == 200
    events = one.get(f"/admin/keys/{fresh['id']}/events", headers=ADMIN).json()["events"]
    assert [(e["event"], e["actor"]) for e in events] == [("created", "admin-api"),
                                                         ("rotated", "admin-api")]
    assert one.post("/admin/keys/nope/revoke", headers=ADMIN).status_code == 404
    assert one.get("/admin/keys", headers=auth).status_code == 401  # a shop key is no admin


def test_expired_keys_are_refused(two_replicas):
    store, db_url = two_replicas
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    expired = ApiKeys(store).create("s1", expires_at=past)
    live = ApiKeys(store).create("s1", expires_at=past + dt.timedelta(days=1))
    client = _replica(db_url)
    assert client.get("/v1/products", headers={"Authorization": f"Bearer {expired}"}
                      ).status_code == 401
    assert client.get("/v1/products", headers={"Authorization": f"Bearer {live}"}
                      ).status_code == 200


def test_two_replicas_share_one_quota(two_replicas):
    store, db_url = two_replicas
    key = ApiKeys(store).create("s1")
    auth = {"Authorization": f"Bearer {key}"}
    replicas = [_replica(db_url, quota_per_minute=1000, quota_requests_per_day=7,
                         rate_limit_burst=100) for _ in range(2)]
    statuses = [replicas[i % 2].get("/v1/products", headers=auth) for i in range(12)]
    accepted = [r for r in statuses if r.status_code == 200]
    assert len(accepted) == 7  # the combined accepted requests never pass the shop's limit
    assert [r.headers["x-quota-remaining-requests-per-day"] for r in accepted] == [
        str(n) for n in range(6, -1, -1)]
    refused = statuses[-1]
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "quota_exceeded"
    assert int(refused.headers["retry-after"]) >= 1
    usage = replicas[0].get("/admin/usage/s1", headers=ADMIN).json()
    assert usage["day"]["requests"] == 7 and usage["limits"]["per_day"] == 7
    assert key_id_of(key) not in json.dumps(usage)


def test_token_quota_counts_generated_and_prompt_tokens(tmp_path):
    """FakeEngine counts one token per character: a day's 60 tokens go in a few chats."""
    db = f"sqlite:///{tmp_path / 'q.db'}"
    key = ApiKeys(Store(db)).create("s1")
    client = _replica(db, quota_tokens_per_day=60)
    chat = {"model": "fake-base", "messages": [{"role": "user", "content": "두부 소개해 주세요"}]}
    statuses = [client.post("/v1/chat/completions", json=chat,
                            headers={"Authorization": f"Bearer {key}"}) for _ in range(6)]
    codes = [r.status_code for r in statuses]
    assert codes[0] == 200 and 429 in codes
    refused = statuses[codes.index(429)]
    assert refused.json()["error"]["details"]["exceeded"] == "tokens_per_day"
    used = client.get("/admin/usage/s1", headers=ADMIN).json()["day"]
    assert used["tokens"] >= 60 and used["requests"] == codes.index(429)


def test_replicas_racing_never_pass_the_quota_together(two_replicas):
    """Both replicas at once (one thread each): the row lock on the usage counter serializes
    them, so exactly the limit is accepted."""
    from concurrent.futures import ThreadPoolExecutor

    store, db_url = two_replicas
    key = ApiKeys(store).create("s1")
    auth = {"Authorization": f"Bearer {key}"}
    replicas = [_replica(db_url, quota_requests_per_day=9, rate_limit_burst=100)
                for _ in range(2)]

    def hammer(client):
        return [client.get("/v1/products", headers=auth).status_code for _ in range(10)]

    with ThreadPoolExecutor(2) as pool:
        statuses = [s for batch in pool.map(hammer, replicas) for s in batch]
    assert statuses.count(200) == 9 and statuses.count(429) == 11

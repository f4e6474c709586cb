"""The event loop stays free (issue 17, part 4): a request's blocking work (database, grounding
checks, token-quota writes) runs in the app's thread pool, so one slow check does not stall the
other connections; and authentication reads the key without a write lock, so an import in
progress does not delay authenticated reads, on SQLite and PostgreSQL.

No sleeps and no timings: the blocked side waits on an Event the test sets only after the other
request came back. A thread that is still waiting after a generous 30 s means the loop (or the
read) was stalled; the test then releases everything, so a failure does not hang the suite."""

import contextlib
import contextvars
import threading

import pytest
from fastapi.testclient import TestClient

from fake_engine import ApiHarness, FakeEngine, shop_policy, tofu
from smallretail_llm.baseline.renderer import render_description
from smallretail_llm.db.keys import ApiKeys, create_key
from smallretail_llm.db.models import ApiKeyRow
from smallretail_llm.db.store import Store
from smallretail_llm.db.usage import Usage
from smallretail_llm.serving import assistant
from smallretail_llm.serving.api import create_app
from smallretail_llm.serving.offload import Offload, run_blocking
from smallretail_llm.serving.settings import Settings

GENEROUS_S = 30  # only ever reached when something waited that should not have


class Background:
    """Calls ``fn`` in a thread; ``done()`` says whether it came back within GENEROUS_S."""

    def __init__(self, fn) -> None:
        self.result = self.error = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn) -> None:
        try:
            self.result = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def done(self) -> bool:
        self._thread.join(GENEROUS_S)
        return not self._thread.is_alive()

    def value(self):
        assert self.done(), "never came back"
        if self.error is not None:
            raise self.error
        return self.result


def blocking(monkeypatch, module, name: str) -> tuple[threading.Event, threading.Event]:
    """Patch ``module.name`` to wait for ``release`` before it runs; ``entered`` is set once
    a call is waiting there."""
    entered, release = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        entered.set()
        release.wait(GENEROUS_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return entered, release


def grounded_reply(request) -> str:
    return render_description(tofu("s1", name="국산콩 두부 s1"), "intro", "polite", seed=11)


HELD_ROUTES = {  # a route, its body, and the check it runs that the test holds
    "description": ("/v1/descriptions", {"product_id": "TOFU-300", "style": "intro"},
                    "check_description"),
    "answer": ("/v1/answers", {"product_id": "TOFU-300", "question": "소비기한 언제까지예요?"},
               "check_answer"),
    "product chat": ("/v1/chat/completions", {
        "model": "fake-base", "product_id": "TOFU-300",
        "messages": [{"role": "user", "content": "소비기한 언제까지예요?"}]}, "check_answer"),
}


@pytest.mark.parametrize("route", list(HELD_ROUTES))
def test_a_slow_grounding_check_does_not_stall_other_requests(tmp_path, monkeypatch, route):
    path, body, check = HELD_ROUTES[route]
    with ApiHarness(tmp_path, FakeEngine(reply=grounded_reply), max_regenerations=0) as api:
        entered, release = blocking(monkeypatch, assistant, check)
        slow = Background(lambda: api.client.post(path, headers=api.auth(), json=body))
        try:
            assert entered.wait(GENEROUS_S), "the grounding check never ran"
            health = Background(lambda: api.client.get("/healthz"))
            other = Background(lambda: api.client.get("/v1/products/TOFU-300",
                                                      headers=api.auth("s2")))
            stalled = not health.done() or not other.done()
        finally:
            release.set()
        assert not stalled, "a request waited for another request's grounding check"
        assert health.value().status_code == 200
        assert other.value().json()["product"]["sku"] == "TOFU-300"
        assert slow.value().status_code == 200  # the held request finishes as before


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_slow_token_quota_write_does_not_stall_other_requests(tmp_path, monkeypatch, stream):
    """The token quota writes each generation's tokens to the database when it ends."""
    with ApiHarness(tmp_path, quota_tokens_per_day=10_000) as api:
        entered, release = blocking(monkeypatch, Usage, "add_tokens")
        slow = Background(lambda: api.client.post("/v1/chat/completions", headers=api.auth(), json={
            "model": "fake-base", "stream": stream,
            "messages": [{"role": "user", "content": "안녕"}]}))
        try:
            assert entered.wait(GENEROUS_S), "the token count was never written"
            health = Background(lambda: api.client.get("/healthz"))
            stalled = not health.done()
        finally:
            release.set()
        assert not stalled, "a request waited for another request's quota write"
        assert slow.value().status_code == 200
        assert Usage(api.store, api.settings.limits()).report("s1")["day"]["tokens"] > 0


@contextlib.contextmanager
def import_in_progress(db_url: str):
    """An import of shop s1 holding its write transaction open (what `catalog import` does for
    the whole file) in its own Store and connection, until the block ends. Its page cache is
    tiny, so its writes spill to the database file the way a big catalog's do."""
    holding, release = threading.Event(), threading.Event()

    def run() -> None:
        store = Store(db_url)
        try:
            with store.transaction() as session:
                if db_url.startswith("sqlite"):
                    session.connection().exec_driver_sql("PRAGMA cache_size = 10")
                store.upsert(session, [tofu("s1", sku=f"IMPORT-{i}", name=f"수입 두부 {i}")
                                       for i in range(300)])
                session.flush()
                holding.set()
                release.wait(GENEROUS_S)
        finally:
            store.engine.dispose()

    importer = Background(run)
    try:
        assert holding.wait(GENEROUS_S), f"the import never started: {importer.error!r}"
        yield
    finally:
        release.set()
    importer.value()  # committed without error


def test_an_import_in_progress_does_not_delay_authenticated_reads(db_url):
    store = Store(db_url)
    keys = {shop: create_key(store, shop) for shop in ("s1", "s2")}
    for shop in ("s1", "s2"):
        store.put_policy(shop_policy(shop))
        store.put_product(tofu(shop, name=f"국산콩 두부 {shop}"))
    app = create_app(Settings(db=db_url), FakeEngine(), store)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        def get(shop: str, path: str):
            return lambda: client.get(path, headers={"Authorization": f"Bearer {keys[shop]}"})

        with import_in_progress(db_url):
            reads = [Background(get("s1", "/v1/products/TOFU-300")),  # the shop being imported
                     Background(get("s2", "/v1/products?limit=5")),
                     Background(lambda: client.post(
                         "/v1/answers", headers={"Authorization": f"Bearer {keys['s1']}"},
                         json={"product_id": "TOFU-300", "question": "소비기한 언제까지예요?"}))]
            waited = [not read.done() for read in reads]
        assert waited == [False, False, False], "an authenticated read waited for the import"
        assert [read.value().status_code for read in reads] == [200, 200, 200]
        assert reads[0].value().json()["product"]["sku"] == "TOFU-300"
        assert client.get("/v1/products/IMPORT-7", headers={
            "Authorization": f"Bearer {keys['s1']}"}).status_code == 200  # committed after
    store.engine.dispose()


def test_last_used_is_skipped_while_the_key_row_is_locked_and_written_later(db_url):
    """Authentication never waits to write last_used_at: with the write lock held elsewhere
    (SQLite: any writer; PostgreSQL: a change of this key's row) it skips the write, and the
    next request once the lock is free makes it."""
    store = Store(db_url)
    keys = ApiKeys(store)
    key = keys.create("s1")
    key_id = key.split("_")[1]
    holding, release = threading.Event(), threading.Event()

    def lock_key_row() -> None:
        with store.transaction() as session:
            session.get(ApiKeyRow, key_id, with_for_update=True).name = "잠금"
            session.flush()
            holding.set()
            release.wait(GENEROUS_S)

    locker = Background(lock_key_row)
    try:
        assert holding.wait(GENEROUS_S)
        during = Background(lambda: keys.authenticate(key))
        came_back = during.done()
    finally:
        release.set()
    locker.value()
    assert came_back, "authentication waited for a writer"
    assert during.value().shop_id == "s1"
    assert keys.get(key_id).last_used_at is None  # skipped, not waited for
    after = keys.authenticate(key)
    assert after.last_used_at is not None and keys.get(key_id).last_used_at is not None
    store.engine.dispose()


def test_offload_runs_in_its_pool_with_the_callers_context():
    import asyncio

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    pool = Offload(2)

    async def main() -> tuple:
        var.set("shop-a")
        inside = await pool(lambda: (threading.current_thread().name, var.get()))
        inline = await run_blocking(None, lambda: threading.current_thread().name)
        return inside, inline

    (name, value), inline = asyncio.run(main())
    assert name.startswith("smallretail-blocking") and value == "shop-a"
    assert inline == threading.current_thread().name  # no pool: the caller's thread
    with pytest.raises(ValueError):
        Offload(0)


def test_blocking_threads_is_a_setting(monkeypatch):
    monkeypatch.setenv("SMALLRETAIL_BLOCKING_THREADS", "3")
    settings = Settings()
    assert settings.blocking_threads == 3
    app = create_app(settings, FakeEngine(), Store("sqlite:///:memory:"))
    assert app.state.services.offload.threads == 3

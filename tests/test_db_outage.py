"""The database going away and coming back, on a real PostgreSQL server of the test's own (started
with the binaries CI installs, so stopping it disturbs no other test): requests during the outage
get 503 with Retry-After and no internals, readiness says so, the same app serves again once the
server is back, and an import cut by the outage leaves nothing half-written."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from fake_engine import ApiHarness
from smallretail_llm.db.models import ImportRunRow
from smallretail_llm.db.store import Store

INTERNALS = ("psycopg", "Traceback", "OperationalError", "sqlalchemy", "connection", "socket")


class Postgres:
    """A throwaway PostgreSQL cluster in ``folder`` on a Unix socket; stop() and start() at will."""

    def __init__(self, folder: Path) -> None:
        found = os.environ.get("SMALLRETAIL_PG_BIN") or next(
            iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:]), None)
        if not found or not Path(found, "initdb").exists():
            pytest.skip("PostgreSQL server binaries not found (.ci/support/postgres.sh installs them)")
        self.bin, self.folder = Path(found), folder
        self.data = folder / "data"
        if os.getuid() == 0:
            shutil.chown(folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = ''\nunix_socket_directories = '{folder}'\n"
                       "fsync = off\n")  # commits reach the WAL: an immediate stop keeps them
        self.start()
        self.url = f"postgresql+psycopg://postgres@/postgres?host={folder}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture
def postgres():
    if not os.environ.get("SMALLRETAIL_TEST_PG_URL"):
        pytest.skip("PostgreSQL tests need SMALLRETAIL_TEST_PG_URL (`source .ci/support/postgres.sh`)")
    # not under pytest's tmp dir: under root, the server runs as `postgres`, which cannot enter it
    folder = Path(tempfile.mkdtemp(prefix="smallretail-outage-"))
    try:
        server = Postgres(folder)
        yield server
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _no_internals(response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "database_unavailable"
    assert not any(word.lower() in response.text.lower() for word in INTERNALS), response.text


def test_outage_gives_503_and_the_server_recovers_by_itself(tmp_path, postgres):
    with ApiHarness(tmp_path, db=postgres.url, quota_requests_per_day=1000) as api:
        assert api.client.get("/v1/products", headers=api.auth()).status_code == 200
        postgres.stop()
        during = [api.client.get("/v1/products", headers=api.auth()),
                  api.client.get("/v1/products/TOFU-300", headers=api.auth()),
                  api.client.post("/v1/answers", headers=api.auth(),
                                  json={"product_id": "TOFU-300", "question": "배송비 얼마예요?"}),
                  api.client.put("/v1/products/NEW-1", headers=api.auth(),
                                 json={"name": "두부", "category": "가공식품"})]
        for response in during:
            _no_internals(response)
        _no_internals(api.client.get("/readyz"))
        assert api.client.get("/healthz").status_code == 200
        postgres.start()
        assert api.client.get("/readyz").status_code == 200
        r = api.client.get("/v1/products", headers=api.auth())
        assert r.status_code == 200 and r.json()["total"] == 1
        assert api.client.post("/v1/answers", headers=api.auth(), json={
            "product_id": "TOFU-300", "question": "배송비 얼마예요?"}).status_code == 200
        assert api.store.get_product("s1", "NEW-1") is None  # the refused PUT wrote nothing


def test_an_import_cut_by_an_outage_leaves_nothing(tmp_path, postgres, monkeypatch):
    rows = "".join(f"C{i},두부 {i},가공식품\n" for i in range(50))
    body = f"상품코드,상품명,카테고리\n{rows}".encode()
    with ApiHarness(tmp_path, db=postgres.url) as api:
        real = Store.upsert

        def upsert_then_outage(self, session, records):
            counts = real(self, session, records)
            session.flush()  # the rows are in the server's open transaction
            postgres.stop()  # ... which dies before its commit
            return counts

        monkeypatch.setattr(Store, "upsert", upsert_then_outage)
        r = api.client.post("/v1/products/import", headers=api.auth(),
                            files={"file": ("cut.csv", body)})
        _no_internals(r)
        monkeypatch.setattr(Store, "upsert", real)
        postgres.start()
        assert api.store.count_products("s1") == 1  # only TOFU-300, from before
        with api.store.transaction() as session:
            assert list(session.scalars(select(ImportRunRow))) == []
        r = api.client.post("/v1/products/import", headers=api.auth(),
                            files={"file": ("again.csv", body)})
        assert r.status_code == 200 and r.json()["imported"] == 50

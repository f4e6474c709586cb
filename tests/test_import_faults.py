"""Imports under faults, on SQLite and PostgreSQL: a process killed mid-import leaves the DB as
it was, and imports of one shop running at the same time neither duplicate rows nor fail."""

import csv
import select
import signal
import subprocess
import sys
import threading

import pytest

from smallretail_llm.catalog.service import import_catalog
from smallretail_llm.db.store import Store

HEADER = ["상품코드", "상품명", "카테고리", "판매가"]

# Imports a big file through a Store that, after PAUSE_AT records, flushes them to the DB (the
# transaction is open, rows written but not committed), says "paused" and waits: the parent kills
# it there. The pause only makes the moment of the kill certain; the import is the real one.
CHILD = """
import signal
import sys
from smallretail_llm.catalog.service import import_catalog

# a shell that runs the suite in the background starts it with SIGINT ignored, and Python then
# never turns SIGINT into KeyboardInterrupt: restore it, as a terminal's Ctrl-C would find it
signal.signal(signal.SIGINT, signal.default_int_handler)
from smallretail_llm.db.store import Store

url, path, pause_at = sys.argv[1], sys.argv[2], int(sys.argv[3])

class PausingStore(Store):
    def upsert(self, session, records):
        def stream():
            for i, record in enumerate(records):
                if i == pause_at:
                    session.flush()
                    print("paused", flush=True)
                    sys.stdin.read()
                yield record
        return super().upsert(session, stream())

import_catalog(PausingStore(url), path, "s1")
print("finished", flush=True)
"""


def write_catalog(path, skus, price=1000):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows([f"P{i:05}", f"테스트 상품 {i}", "가공식품", f"{price + i}원"] for i in skus)
    return path


def snapshot(store):
    return [p.model_dump(mode="json") for p in store.list_products("s1")]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_import_killed_midway_leaves_db_unchanged(db_url, tmp_path, sig):
    store = Store(db_url)
    import_catalog(store, write_catalog(tmp_path / "old.csv", range(10), price=1), "s1")
    before = snapshot(store)
    runs_before = store.import_runs("s1")
    assert len(runs_before) == 1  # the completed import is audited
    big = write_catalog(tmp_path / "big.csv", range(1500))  # updates the 10, adds 1,490

    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(big), "1200"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready, "the importing process never reached the pause"
        assert child.stdout.readline() == "paused\n", child.stderr.read()
        child.send_signal(sig)
        child.wait(timeout=60)  # stdin stays open: an EOF must not race the signal
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert "finished" not in out
    if sig == signal.SIGKILL:
        assert child.returncode == -signal.SIGKILL
    else:
        assert child.returncode != 0 and "KeyboardInterrupt" in err

    store.engine.dispose()
    after = Store(db_url)  # a new connection: SQLite rolls back the hot journal here
    assert snapshot(after) == before
    assert after.count_products("s1") == 10
    assert after.import_runs("s1") == runs_before  # the killed import left no audit row
    after.engine.dispose()


def run_at_once(db_url, paths):
    """Import each file in its own thread and Store (own connections), all entering their
    transaction at the same moment. Returns the summaries; fails on any exception."""
    barrier = threading.Barrier(len(paths), timeout=30)

    class SyncedStore(Store):
        def transaction(self):
            barrier.wait()
            return super().transaction()

    results, errors = [None] * len(paths), []

    def work(i, path):
        store = SyncedStore(db_url)
        try:
            results[i] = import_catalog(store, path, "s1")
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            store.engine.dispose()

    threads = [threading.Thread(target=work, args=(i, p), daemon=True)
               for i, p in enumerate(paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert all(r is not None for r in results)
    for r in results:
        assert r.rows == r.imported + r.updated + r.rejected
    return results


def existing_shop(db_url, tmp_path):
    """A deployed DB: schema at head and the shop already there (a new shop's first row would
    serialize the imports by itself)."""
    store = Store(db_url)
    import_catalog(store, write_catalog(tmp_path / "old.csv", [99999]), "s1")
    store.engine.dispose()


def test_same_file_imported_twice_at_once(db_url, tmp_path):
    existing_shop(db_url, tmp_path)
    path = write_catalog(tmp_path / "a.csv", range(600))
    a, b = run_at_once(db_url, [path, path])
    # One import ran first and inserted; the other then found every row: updates, no changes.
    assert sorted([(a.imported, a.updated), (b.imported, b.updated)]) == [(0, 600), (600, 0)]
    assert a.changed == b.changed == 0
    store = Store(db_url)
    assert store.count_products("s1") == 601
    store.engine.dispose()


def test_overlapping_files_imported_at_once(db_url, tmp_path):
    existing_shop(db_url, tmp_path)
    a, b = run_at_once(db_url, [write_catalog(tmp_path / "a.csv", range(400)),
                                write_catalog(tmp_path / "b.csv", range(200, 600), price=5000)])
    assert a.imported + b.imported == 600
    assert a.updated + b.updated == 200
    assert a.changed + b.changed == 200  # the overlap differs in price
    store = Store(db_url)
    assert store.count_products("s1") == 601
    assert len({p.sku for p in store.list_products("s1")}) == 601
    store.engine.dispose()

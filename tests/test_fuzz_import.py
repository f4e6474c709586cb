"""Property tests of the import: whatever bytes arrive as a .csv, the result is a clear TableError
or a summary whose counts add up, with exactly the imported rows in the DB; never a crash."""

import csv
import io
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smallretail_llm.catalog.service import import_catalog
from smallretail_llm.catalog.tables import TableError
from smallretail_llm.db.store import Store

HEADER = ["상품코드", "상품명", "카테고리", "판매가", "용량", "바코드", "알레르기", "유통기한",
          "재고수량", "상점", "메모"]
GOOD = ["F001", "국산콩 두부", "가공식품", "3,500원", "300g", "8801234567893", "대두",
        "2027.03.01", "12", "", "냉장"]
# The store lives across examples (one per backend); each example imports into a shop of its own.
FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
_shops = itertools.count()


@pytest.fixture
def store(db_url):
    store = Store(db_url)
    yield store
    store.engine.dispose()


def check_import(store, data: bytes):
    """Import `data` as a CSV into a fresh shop and check what must hold for any input."""
    shop = f"f{next(_shops)}"
    try:
        summary = import_catalog(store, "fuzz.csv", shop, data=data)
    except TableError as exc:
        assert str(exc)  # a message for the shop owner
        return None
    assert summary.rows == summary.imported + summary.updated + summary.rejected
    assert summary.updated == summary.changed == 0  # the shop was empty
    assert store.count_products(shop) == summary.imported
    assert sum(summary.reasons.values()) >= summary.rejected
    return summary


def csv_bytes(rows: list[list[str]], encoding: str, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


cells = st.one_of(st.text(max_size=30), st.sampled_from(GOOD),
                  st.sampled_from(["", " ", "0", "-1", "1e9", "N/A", "1.5L", "두 개", "\u200b"]))
csv_like = st.builds(
    csv_bytes,
    st.lists(st.lists(cells, max_size=12), min_size=1, max_size=6),
    st.sampled_from(["utf-8", "utf-8-sig", "cp949", "utf-16"]),
    st.sampled_from([",", ";", "\t", "|"]),
)


@FAST
@given(data=st.one_of(st.binary(max_size=400), csv_like))
def test_any_bytes_as_csv_give_an_error_or_a_summary_that_adds_up(store, data):
    check_import(store, data)


@FAST
@given(rows=st.lists(st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)),
                     min_size=1, max_size=5))
def test_any_cells_under_a_valid_header(store, rows):
    data = csv_bytes([HEADER, *rows], "utf-8")
    summary = check_import(store, data)
    if summary is None:  # only a NUL character makes such a file unreadable
        assert "\x00" in data.decode()
        return
    assert summary.rows == sum(1 for r in rows if any(c.strip() for c in r))


@FAST
@given(rows=st.lists(st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)),
                     min_size=1, max_size=4))
def test_reimporting_the_same_bytes_changes_nothing(store, rows):
    data = csv_bytes([HEADER, GOOD, *rows], "utf-8")
    shop = f"r{next(_shops)}"
    try:
        first = import_catalog(store, "fuzz.csv", shop, data=data)
    except TableError:
        return
    again = import_catalog(store, "fuzz.csv", shop, data=data)
    assert (again.imported, again.updated, again.changed) == (0, first.imported, 0)
    assert again.rejected == first.rejected


def test_nul_character_in_a_json_cell_is_a_rejected_row(store):
    data = json.dumps([{"상품코드": "A1", "상품명": "두부\u0000", "카테고리": "가공식품"}]).encode()
    summary = import_catalog(store, "x.json", "s1", data=data)
    assert (summary.imported, summary.rejected) == (0, 1)
    assert summary.reasons == {"보이지 않는 제어 문자(NUL)가 들어 있음": 1}

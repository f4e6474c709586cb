"""Import of shop exports: every row imported, updated or rejected with (row, column, reason)."""

import csv
import io
import json

import pytest

from smallretail_llm.catalog.ingest import parse_rows
from smallretail_llm.catalog.service import import_catalog, validate_catalog
from smallretail_llm.catalog.tables import read_table
from smallretail_llm.db.store import Store

HEADER = ["상품코드", "상품명", "카테고리", "판매가", "용량", "바코드", "알레르기", "유통기한",
          "재고수량", "식품의 유형", "메모"]
GOOD = ["F001", "국산콩 두부", "가공식품", "3,500원", "300g", "8801234567893", "대두",
        "2027.03.01", "12", "두부", "냉장 입고"]


def write_csv(path, rows, header=HEADER, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def variant(**changes):
    row = dict(zip(HEADER, GOOD))
    row.update(changes)
    return [row[h] for h in HEADER]


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_good_row_becomes_a_standard_record(tmp_path):
    parsed = parse_rows(read_table(write_csv(tmp_path / "a.csv", [GOOD])), "s1")
    assert parsed.rejections == []
    (number, record), = parsed.records
    assert number == 2
    assert record.model_dump(mode="json", include={
        "shop_id", "sku", "name", "category", "price_krw", "gtin", "allergens", "stock",
        "notice", "extra"}) == {
        "shop_id": "s1", "sku": "F001", "name": "국산콩 두부", "category": "processed_food",
        "price_krw": 3500, "gtin": "8801234567893", "allergens": ["대두"], "stock": 12,
        "notice": {"food_type": "두부"}, "extra": {"메모": "냉장 입고"}}
    assert (record.net_content.value, record.net_content.unit) == (300, "g")
    # an old export's 유통기한 is kept with its own label
    assert record.use_by.label == "유통기한" and str(record.use_by.date) == "2027-03-01"


@pytest.mark.parametrize(("change", "column", "reason"), [
    ({"상품명": ""}, "상품명", "필수 항목이 비어 있음: 상품명"),
    ({"상품코드": ""}, "상품코드", "필수 항목이 비어 있음: 상품코드"),
    ({"카테고리": ""}, "카테고리", "필수 항목이 비어 있음: 카테고리"),
    ({"카테고리": "우주선"}, "카테고리", "알 수 없는 카테고리: '우주선'"),
    ({"판매가": "가격문의"}, "판매가", "가격문의"),
    ({"바코드": "8801234567890"}, "바코드", "검증"),
    ({"바코드": "88012345"[:7]}, "바코드", "자리"),
    ({"알레르기": "우유, 외계콩"}, "알레르기", "외계콩"),
    ({"유통기한": "내년 봄"}, "유통기한", "내년 봄"),
    ({"재고수량": "-3"}, "재고수량", "-3"),
    ({"용량": "많이"}, "용량", "많이"),
])
def test_each_rejection_reason(tmp_path, change, column, reason):
    parsed = parse_rows(read_table(write_csv(tmp_path / "a.csv", [GOOD, variant(**({"상품코드": "F002"} | change))])), "s1")
    assert [n for n, _ in parsed.records] == [2]
    assert len(parsed.rejections) == 1
    rejection = parsed.rejections[0]
    assert (rejection.row, rejection.column) == (3, column)
    assert reason in rejection.reason


def test_duplicate_sku_in_one_file_is_rejected_not_merged(tmp_path):
    parsed = parse_rows(read_table(write_csv(tmp_path / "a.csv", [GOOD, variant(판매가="9,900")])), "s1")
    assert [n for n, _ in parsed.records] == [2]
    (rejection,) = parsed.rejections
    assert (rejection.row, rejection.column) == (3, "상품코드")
    assert rejection.reason == "같은 파일에 같은 상품코드가 이미 있음: 2행과 중복"


def test_row_with_several_bad_cells_reports_each(tmp_path):
    parsed = parse_rows(read_table(write_csv(
        tmp_path / "a.csv", [variant(판매가="비쌈", 바코드="12", 상품명="")])), "s1")
    assert sorted(r.column for r in parsed.rejections) == ["바코드", "상품명", "판매가"]
    assert parsed.rejected_rows == 1


def test_shop_is_required(tmp_path):
    parsed = parse_rows(read_table(write_csv(tmp_path / "a.csv", [GOOD])), None)
    assert parsed.rejections[0].reason.startswith("상점이 지정되지 않음")


def test_shop_column_and_mapping_override(tmp_path):
    header = ["상점", "코드번호", "이름", "분류", "값"]
    path = write_csv(tmp_path / "a.csv", [["s9", "X1", "면 티셔츠", "의류", "19000"]], header=header)
    mapping = {"코드번호": "sku", "이름": "name", "값": "price_krw"}
    parsed = parse_rows(read_table(path), None, mapping)
    (_, record), = parsed.records
    assert (record.shop_id, record.sku, record.name, record.category, record.price_krw) == (
        "s9", "X1", "면 티셔츠", "wear", 19000)


def test_import_counts_add_up_and_reimport_changes_nothing(tmp_path, store):
    rows = [GOOD, variant(상품코드="F002", 판매가="가격문의"), variant(상품코드="F003", 상품명="순두부")]
    path = write_csv(tmp_path / "export.csv", rows, encoding="cp949")
    rejects = tmp_path / "rejects.csv"
    first = import_catalog(store, path, "s1", rejects_path=rejects)
    assert (first.rows, first.imported, first.updated, first.rejected) == (3, 2, 0, 1)
    assert first.encoding == "cp949"
    lines = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8-sig"))))
    assert lines[0] == ["행", "열", "사유", "값"]
    assert lines[1][:2] == ["3", "판매가"] and lines[1][3] == "가격문의"
    before = store.list_products("s1")
    second = import_catalog(store, path, "s1", rejects_path=rejects)
    assert (second.rows, second.imported, second.updated, second.changed, second.rejected) == (3, 0, 2, 0, 1)
    assert store.list_products("s1") == before
    changed = write_csv(tmp_path / "export2.csv", [variant(판매가="3,900원")])
    third = import_catalog(store, changed, "s1")
    assert (third.imported, third.updated, third.changed) == (0, 1, 1)
    assert store.get_product("s1", "F001").price_krw == 3900


def test_import_is_scoped_to_the_shop(tmp_path, store):
    path = write_csv(tmp_path / "export.csv", [GOOD])
    import_catalog(store, path, "s1")
    import_catalog(store, path, "s2")
    assert store.count_products("s1") == store.count_products("s2") == 1
    assert store.get_product("s2", "F001").shop_id == "s2"


def test_interrupted_import_rolls_back(tmp_path, store, monkeypatch):
    import_catalog(store, write_csv(tmp_path / "a.csv", [GOOD]), "s1")
    real_upsert = store.upsert

    def dying_upsert(session, records):
        real_upsert(session, list(records)[:1])  # first row written...
        raise KeyboardInterrupt  # ...then the process is killed

    monkeypatch.setattr(store, "upsert", dying_upsert)
    bigger = write_csv(tmp_path / "b.csv", [variant(판매가="1"), variant(상품코드="F002")])
    with pytest.raises(KeyboardInterrupt):
        import_catalog(store, bigger, "s1")
    assert store.get_product("s1", "F001").price_krw == 3500
    assert store.get_product("s1", "F002") is None


def test_xlsx_import(tmp_path, store):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(HEADER)
    book.active.append(GOOD)
    book.save(tmp_path / "export.xlsx")
    summary = import_catalog(store, tmp_path / "export.xlsx", "s1")
    assert (summary.rows, summary.imported) == (1, 1)


def test_exported_jsonl_reimports_identically(tmp_path, store):
    from smallretail_llm.catalog.service import export_jsonl

    import_catalog(store, write_csv(tmp_path / "a.csv", [GOOD, variant(상품코드="F2")]), "s1")
    (tmp_path / "export.jsonl").write_text(export_jsonl(store.list_products("s1")), encoding="utf-8")
    summary = import_catalog(store, tmp_path / "export.jsonl", "s1")
    assert (summary.rows, summary.imported, summary.updated, summary.changed) == (2, 0, 2, 0)
    broken = json.loads(export_jsonl(store.list_products("s1")).splitlines()[0])
    broken["price_krw"] = -5
    (tmp_path / "bad.jsonl").write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    summary = import_catalog(store, tmp_path / "bad.jsonl", "s1")
    assert summary.rejected == 1 and summary.reasons == {"값이 올바르지 않음": 1}


def test_validate_writes_nothing(tmp_path, store):
    summary = validate_catalog(write_csv(tmp_path / "a.csv", [GOOD]), "s1")
    assert (summary.rows, summary.imported, summary.rejected) == (1, 1, 0)
    assert store.count_products("s1") == 0


def test_cross_contact_line_in_allergen_cell_is_its_own_fact(tmp_path):
    text = "우유, 대두 함유. 이 제품은 같은 제조시설에서 땅콩, 밀을 사용한 제품과 같은 시설에서 제조"
    parsed = parse_rows(read_table(write_csv(tmp_path / "a.csv", [variant(알레르기=text)])), "s1")
    (_, record), = parsed.records
    assert record.allergens == ["우유", "대두"]
    assert record.cross_contact == "이 제품은 같은 제조시설에서 땅콩, 밀을 사용한 제품과 같은 시설에서 제조"


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def test_messy_fixture_every_bad_row_rejected_with_its_reason(tmp_path, store):
    expected = json.loads((FIXTURES / "messy_export.expected.json").read_text(encoding="utf-8"))
    rejects = tmp_path / "rejects.csv"
    summary = import_catalog(store, FIXTURES / "messy_export.csv", "messy", rejects_path=rejects)
    assert summary.encoding == "cp949"
    assert summary.rows == summary.imported + summary.updated + summary.rejected == 30
    assert summary.rejected == len(expected)
    lines = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8-sig"))))
    got = {(int(r["행"]), r["열"]): r["사유"] for r in lines}
    assert set(got) == {(e["row"], e["column"]) for e in expected}
    for e in expected:
        assert e["reason_contains"] in got[(e["row"], e["column"])]
    # unknown columns are kept, not dropped
    assert any(p.extra for p in store.list_products("messy"))
    before = store.list_products("messy")
    again = import_catalog(store, FIXTURES / "messy_export.csv", "messy", rejects_path=rejects)
    assert (again.imported, again.changed, again.rejected) == (0, 0, summary.rejected)
    assert store.list_products("messy") == before


def test_sample_catalog_imports_without_rejections(store):
    from smallretail_llm.catalog.sample_catalog import load_samples

    summaries = load_samples(store)
    assert len(summaries) >= 3
    assert sum(s.rows for s in summaries.values()) >= 300
    assert all(s.rejected == 0 and s.rows == s.imported for s in summaries.values())
    assert len(store.category_counts()) >= 8
    assert all(store.get_policy(shop) is not None for shop in summaries)
    again = load_samples(store)
    assert all(s.changed == 0 and s.imported == 0 for s in again.values())


def test_row_of_another_shop_is_rejected_when_importing_for_a_shop(tmp_path):
    header = ["상점", "상품코드", "상품명", "카테고리"]
    path = write_csv(tmp_path / "a.csv", [["s1", "A", "두부", "가공식품"], ["s2", "B", "묵", "가공식품"]],
                     header=header)
    parsed = parse_rows(read_table(path), "s1")
    assert [r.sku for _, r in parsed.records] == ["A"]
    (rejection,) = parsed.rejections
    assert (rejection.row, rejection.column) == (3, "상점")
    assert rejection.reason == "다른 상점의 행입니다: 's2' (가져오는 상점: 's1')"

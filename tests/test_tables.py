"""Reading shop exports: encodings, formats, row numbers as a spreadsheet shows them."""

import json

import pytest
from openpyxl import Workbook

from smallretail_llm.catalog.tables import TableError, read_table

CSV_TEXT = "상품코드,상품명,판매가\nA1,유기농 두부,\"3,500원\"\n\n,,\nA2,국산 콩나물,1900\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_csv_encodings(tmp_path, encoding):
    path = tmp_path / "export.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    table = read_table(path)
    assert table.headers == ["상품코드", "상품명", "판매가"]
    assert [r.number for r in table.rows] == [2, 5]  # blank lines skipped, numbers kept
    assert table.rows[0].cells == {"상품코드": "A1", "상품명": "유기농 두부", "판매가": "3,500원"}
    assert table.encoding == ("cp949" if encoding in ("cp949", "euc-kr") else "utf-8-sig")


def test_semicolon_and_tsv(tmp_path):
    (tmp_path / "a.csv").write_text("상품코드;상품명\nA1;두부\n", encoding="utf-8")
    (tmp_path / "b.tsv").write_text("상품코드\t상품명\nA1\t두부\n", encoding="utf-8")
    assert read_table(tmp_path / "a.csv").rows[0].cells["상품명"] == "두부"
    assert read_table(tmp_path / "b.tsv").rows[0].cells["상품명"] == "두부"


def test_cells_beyond_header_are_kept(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("상품코드,상품명\nA1,두부,덤\n", encoding="utf-8")
    assert read_table(path).rows[0].cells == {"상품코드": "A1", "상품명": "두부", "열3": "덤"}


def test_xlsx_values_become_text(tmp_path):
    import datetime as dt

    book = Workbook()
    sheet = book.active
    sheet.append(["상품코드", "상품명", "판매가", "바코드", "소비기한"])
    sheet.append(["A1", "두부", 3500, 8801234567893, dt.datetime(2027, 3, 1)])
    sheet.append([None, None, None, None, None])
    sheet.append(["A2", "콩나물", 1900.0, None, "2027.3.1"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    table = read_table(path)
    assert [r.number for r in table.rows] == [2, 4]
    assert table.rows[0].cells == {"상품코드": "A1", "상품명": "두부", "판매가": "3500",
                                   "바코드": "8801234567893", "소비기한": "2027-03-01"}
    assert table.rows[1].cells["판매가"] == "1900"


def test_json_and_jsonl(tmp_path):
    items = [{"상품코드": "A1", "상품명": "두부", "판매가": 3500},
             {"sku": "A2", "name": "콩나물", "category": "agri_food", "notice": {"origin": "국산"}}]
    (tmp_path / "a.json").write_text(json.dumps({"products": items}, ensure_ascii=False))
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items))
    for name in ("a.json", "a.jsonl"):
        table = read_table(tmp_path / name)
        assert [r.number for r in table.rows] == [1, 2]
        assert table.rows[0].record is None and table.rows[0].cells["판매가"] == "3500"
        assert table.rows[1].record == items[1]  # nested: already a standard record


@pytest.mark.parametrize(("name", "content", "message"), [
    ("a.pdf", b"%PDF", "지원하지 않는 파일 형식"),
    ("a.csv", b"   \n", "파일이 비어 있습니다"),
    ("a.json", b"{not json", "올바른 JSON이 아닙니다"),
    ("a.json", b'{"a": 1}', r"상품 목록\(배열\)"),
    ("a.jsonl", b'{"a": 1}\n{oops\n', "2번째 줄"),
    ("a.xlsx", b"PK\x03\x04 not really a zip", "XLSX 파일을 읽을 수 없습니다"),
    ("a.csv", "상품명,상품명\n두부,두부\n".encode(), "같은 열 이름"),
])
def test_unreadable_files_have_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TableError, match=message):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(TableError, match="파일을 열 수 없습니다"):
        read_table(tmp_path / "nope.csv")

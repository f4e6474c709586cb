"""The `smallretail` CLI contract: one JSON line on success, a Korean message and non-zero exit on failure."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smallretail_llm.cli import app
from smallretail_llm.db.store import Store

runner = CliRunner()
SAMPLE_SHOPS = Path(__file__).resolve().parents[1] / "src" / "smallretail_llm" / "catalog" / "samples" / "shops.json"
EXPORT = "상품코드,상품명,카테고리,판매가\nA1,두부,가공식품,3500\nA2,,가공식품,1000\n"


def test_catalog_import_prints_summary_and_writes_rejects(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT, encoding="cp949")
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(app, ["catalog", "import", str(path), "--shop", "s1", "--db", db])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["rows"], summary["imported"], summary["updated"], summary["rejected"]) == (2, 1, 0, 1)
    assert summary["rejects_file"] == str(tmp_path / "export.rejects.csv")
    assert "필수 항목이 비어 있음: 상품명" in (tmp_path / "export.rejects.csv").read_text(encoding="utf-8-sig")
    again = json.loads(runner.invoke(app, ["catalog", "import", str(path), "--shop", "s1", "--db", db]).stdout)
    assert (again["imported"], again["updated"], again["changed"]) == (0, 1, 0)


def test_unknown_format_fails_and_writes_nothing(tmp_path):
    path = tmp_path / "export.pdf"
    path.write_bytes(b"%PDF-1.4")
    db = tmp_path / "db.sqlite"
    result = runner.invoke(app, ["catalog", "import", str(path), "--shop", "s1", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 2
    assert "지원하지 않는 파일 형식" in result.stderr
    assert Store(f"sqlite:///{db}").count_products("s1") == 0
    assert not (tmp_path / "export.rejects.csv").exists()


def test_unreadable_encoding_fails(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xff\xfe\x00\x00" + bytes(range(128, 256)) * 4)
    result = runner.invoke(app, ["catalog", "validate", str(path)])
    assert result.exit_code == 2 and "오류:" in result.stderr


def test_bad_mapping_file(tmp_path):
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")
    (tmp_path / "map.yaml").write_text("가격: 값\n", encoding="utf-8")
    result = runner.invoke(app, ["catalog", "validate", str(tmp_path / "export.csv"),
                                 "--mapping", str(tmp_path / "map.yaml")])
    assert result.exit_code == 2 and "대상 필드를 알 수 없습니다" in result.stderr


def test_categories_listing():
    result = runner.invoke(app, ["catalog", "categories"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 36
    assert any(line.startswith("processed_food") and "가공식품" in line for line in lines)
    fields = runner.invoke(app, ["catalog", "categories", "가공식품"]).stdout
    assert "소비기한" in fields and "필수" in fields
    assert runner.invoke(app, ["catalog", "categories", "우주선"]).exit_code == 2


def test_export_and_policy(tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")
    runner.invoke(app, ["catalog", "import", str(tmp_path / "export.csv"), "--shop", "s1", "--db", db])
    out = tmp_path / "products.jsonl"
    result = runner.invoke(app, ["catalog", "export", "--shop", "s1", "--db", db, "--out", str(out)])
    assert json.loads(result.stdout) == {"shop": "s1", "products": 1, "out": str(out)}
    assert json.loads(out.read_text(encoding="utf-8"))["name"] == "두부"
    policy = {"shop_id": "s1", "shop_name": "하늘", "shipping_fee_krw": 3000, "shipping_days": "1~2일",
              "return_policy": "7일 이내", "cs_phone": "1588-1234", "cs_hours": "평일 10~17시"}
    (tmp_path / "p.json").write_text(json.dumps(policy, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["catalog", "policy", str(tmp_path / "p.json"), "--db", db])
    assert json.loads(result.stdout) == {"policies": 1, "shops": ["s1"]}
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    assert runner.invoke(app, ["catalog", "policy", str(tmp_path / "bad.json"), "--db", db]).exit_code == 2


def test_check_takes_a_long_text_a_file_and_refuses_an_unreadable_file(tmp_path):
    """A whole description (5,000 characters) is the text, not a file name (it used to crash
    with Errno 36); a file's text is read; a file that is not UTF-8 is a Korean error."""
    product = tmp_path / "product.jsonl"
    product.write_text(json.dumps({"shop_id": "s1", "sku": "A1", "name": "국산콩 두부",
                                   "category": "processed_food", "price_krw": 3500},
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    long_text = ("국산콩 두부를 3,500원에 판매합니다. " * 250)[:5000]
    result = runner.invoke(app, ["check", long_text, "--product", str(product)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] is True
    copy = tmp_path / "copy.txt"
    copy.write_text("수입산 콩으로 만든 두부예요.", encoding="utf-8")
    result = runner.invoke(app, ["check", str(copy), "--product", str(product)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["passed"] is False  # the file's text was checked
    copy.write_bytes("수입산 두부".encode("cp949"))
    result = runner.invoke(app, ["check", str(copy), "--product", str(product)])
    assert result.exit_code == 2
    assert "문구 파일을 읽을 수 없습니다" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("command", [["catalog", "export", "--shop", "s1"],
                                     ["catalog", "policy", str(SAMPLE_SHOPS)],
                                     ["keys", "list", "--shop", "s1"],
                                     ["db", "upgrade"], ["db", "current"],
                                     ["data", "corpus", "--out", "corpus.jsonl"]])
def test_a_database_url_sqlalchemy_cannot_use_is_a_korean_error(command):
    """Every command with --db: a Korean message and exit 2, no traceback, no password."""
    result = runner.invoke(app, [*command, "--db", "nope://user:secret@host/db"])
    assert result.exit_code == 2, result.output
    assert "데이터베이스 URL을 쓸 수 없습니다" in result.stderr
    assert "secret" not in result.output and "Traceback" not in result.output


def test_redact_prints_the_masked_text_and_what_it_found():
    result = runner.invoke(app, ["redact", "제 번호는 010-1234-5678 입니다"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"text": "제 번호는 [전화번호] 입니다", "found": ["phone"]}


def test_eval_refuses_an_unknown_split_in_korean(tmp_path):
    result = runner.invoke(app, ["eval", "--split", "nope", "--out", str(tmp_path / "out"),
                                 "--db", f"sqlite:///{tmp_path / 'db.sqlite'}"])
    assert result.exit_code != 0
    assert "알 수 없는 시스템/분할: nope" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(("row", "says"), [("{not json", "2번째 줄: JSON 형식 오류"),
                                           ('{"x": 1}', '2번째 줄: "messages"(대화) 또는 "text"'),
                                           ('{"messages": [{"role": 1}]}', "2번째 줄")])
def test_build_nano_names_the_bad_line_of_a_corpus(tmp_path, row, says):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": "두부 3,500원"}\n' + row + "\n", encoding="utf-8")
    result = runner.invoke(app, ["model", "build-nano", "--corpus", str(corpus),
                                 "--out", str(tmp_path / "nano")])
    assert result.exit_code == 2, result.output
    assert "말뭉치 파일을 읽을 수 없습니다" in result.stderr and says in result.stderr
    assert not (tmp_path / "nano").exists()

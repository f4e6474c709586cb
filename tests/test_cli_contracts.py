"""The CLI contract for every `smallretail` command: on success exactly one JSON line (the
summary) on stdout; on bad input a non-zero exit with a Korean message on stderr, nothing on
stdout and no traceback (the command ended through `fail()`, not an exception).

This file covers what no other test does. Contracts tested elsewhere (not repeated here):
catalog import, validate, categories, export, policy, check, redact, bad --db URLs, eval's
unknown split and build-nano's bad corpus lines (test_cli.py); catalog validate's JSON line
(test_record_rules.py); keys create/list/revoke/rotate success, revoking a revoked key, an
unknown scope (test_key_lifecycle.py); data build success and an unknown --shop
(test_tenant_data.py); train's lone --smoke-steps/--random-init (test_training.py); export's
unknown --gguf-type (test_export.py); bench, both ways (test_bench.py).

Only `smallretail_llm.cli` is imported from the package; whatever else a test needs (a
catalog, a policy, a database) it makes through the CLI itself. Models are tiny and random."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smallretail_llm.cli import app
from tiny_models import build_lora_adapter, build_tiny_model, one_thread  # noqa: F401 (fixture)

runner = CliRunner()
HANGUL = re.compile("[가-힣]")
NANO_RECIPE = Path(__file__).resolve().parents[1] / "training" / "configs" / "nano-cpu.yaml"
POLICY = {"shop_id": "s1", "shop_name": "하늘", "shipping_fee_krw": 3000, "shipping_days": "1~2일",
          "return_policy": "7일 이내", "cs_phone": "1588-1234", "cs_hours": "평일 10~17시"}


def succeeds(*args) -> dict:
    """Run a command that must succeed; its stdout is exactly one JSON line, returned parsed."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"stdout must be one JSON line, got {len(lines)}: {result.stdout[:500]}"
    return json.loads(lines[0])


def refused(*args, says: str, code: int = 2) -> str:
    """Run a command that must refuse its input: exit ``code``, a Korean message holding
    ``says`` on stderr, empty stdout, no traceback. Returns stderr."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    # CliRunner swallows a crash's traceback: an escaped exception shows up here instead
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert HANGUL.search(result.stderr) and says in result.stderr, result.stderr
    return result.stderr


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Every built model, dataset and default database under this test's own folder."""
    monkeypatch.setenv("SMALLRETAIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SMALLRETAIL_DB", raising=False)
    return tmp_path / "home"


@pytest.fixture
def shop_db(tmp_path) -> str:
    """A database holding one shop's ten products (imported through the CLI), no policy yet."""
    rows = ["상품코드,상품명,카테고리,판매가,원산지,보관방법"]
    rows += [f"T{i},국산콩 두부 {i * 100}g,가공식품,{1000 + i * 500},국내산,냉장 보관"
             for i in range(1, 11)]
    (tmp_path / "shop.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    assert succeeds("catalog", "import", tmp_path / "shop.csv", "--shop", "s1", "--db", db)[
        "imported"] == 10
    return db


def add_policy(tmp_path: Path, db: str) -> None:
    (tmp_path / "policy.json").write_text(json.dumps(POLICY, ensure_ascii=False), encoding="utf-8")
    assert succeeds("catalog", "policy", tmp_path / "policy.json", "--db", db)["shops"] == ["s1"]


# -- catalog, check -------------------------------------------------------------------------

def test_catalog_and_check_refuse_bad_options_in_korean(tmp_path):
    product = tmp_path / "product.jsonl"
    line = json.dumps({"shop_id": "s1", "sku": "A1", "name": "두부", "category": "processed_food",
                       "price_krw": 3500}, ensure_ascii=False)
    product.write_text(line + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    refused("catalog", "export", "--shop", "s1", "--format", "csv", "--db", db,
            says="지원하지 않는 형식: csv")
    refused("catalog", "categories", "우주선", says="우주선")
    refused("catalog", "policy", tmp_path / "none.json", "--db", db,
            says="상점 정책 파일을 읽을 수 없습니다")
    refused("check", "두부", "--product", product, "--style", "poem", says="알 수 없는 스타일: poem")
    refused("check", "두부", "--product", tmp_path / "none.jsonl", says="상품/정책 파일을 읽을 수 없습니다")
    product.write_text(line + "\n" + line + "\n", encoding="utf-8")
    refused("check", "두부", "--product", product, says="상품 한 줄(JSON)만 있어야 합니다")


# -- demo -----------------------------------------------------------------------------------

def test_demo_refuses_a_bad_db_url_before_building_anything(home):
    """Only the bad-input side: the success path imports the samples, trains the nano model
    and a LoRA adapter (minutes on 2 cores) and then, by default, serves until interrupted."""
    stderr = refused("demo", "--no-serve", "--db", "nope://user:secret@host/db",
                     says="데이터베이스 URL을 쓸 수 없습니다")
    assert "secret" not in stderr
    assert not home.exists()  # nothing was built or cached


def test_demo_without_serving_prints_only_its_json_line(home, monkeypatch):
    """The build's progress (rich tables, the trainer's logs) goes to stderr with --no-serve, so
    stdout is the one JSON line. The real build takes minutes; a stand-in prints as it does."""
    from types import SimpleNamespace

    from rich.console import Console

    def build(db, serve, port):
        Console().print("[bold]1/3[/] 학습 데이터 만드는 중...")
        print({"loss": 1.0})  # what the Trainer prints
        return SimpleNamespace(db_url=db or "sqlite:///demo.db", data_dir=home / "data",
                               model_dir=home / "nano", adapter_dir=home / "adapter")

    monkeypatch.setattr("smallretail_llm.demo.run_demo", build)
    summary = succeeds("demo", "--no-serve")
    assert summary["adapter"] == str(home / "adapter")


# -- data -----------------------------------------------------------------------------------

def test_data_corpus_writes_one_conversation_per_line(tmp_path, shop_db):
    add_policy(tmp_path, shop_db)
    out = tmp_path / "corpus" / "corpus.jsonl"
    summary = succeeds("data", "corpus", "--out", out, "--db", shop_db)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert summary == {"out": str(out), "lines": len(lines), "bytes": out.stat().st_size}
    assert lines and all(json.loads(line)["messages"] for line in lines)


@pytest.mark.parametrize("command", [["data", "build", "--out", "built"],
                                     ["data", "corpus", "--out", "corpus.jsonl"],
                                     ["model", "build-nano", "--out", "nano"]])
def test_commands_reading_the_catalog_need_products_and_policies(tmp_path, shop_db, command):
    """data build, data corpus and build-nano (without --corpus) read the catalog: an empty
    database, then products whose shop has no policy, are Korean errors naming the fix."""
    args = [*command[:-1], tmp_path / command[-1]]
    refused(*args, "--db", f"sqlite:///{tmp_path / 'empty.db'}",
            says="데이터베이스에 상품이 없습니다")
    refused(*args, "--db", shop_db, says="상점 's1'의 정책(배송·교환·상담)이 없습니다")
    assert not (tmp_path / command[-1]).exists()


# -- keys -----------------------------------------------------------------------------------

def test_keys_refuse_an_unknown_key_a_blank_shop_and_a_long_name(tmp_path):
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    refused("keys", "rotate", "0123456789ab", "--db", db, code=1,
            says="교체할 수 있는 키가 없습니다: '0123456789ab'")
    refused("keys", "create", "--shop", " ", "--db", db, says="상점 ID가 올바르지 않습니다")
    refused("keys", "create", "--shop", "s1", "--name", "키" * 65, "--db", db,
            says="키 이름은 64자 이하여야 합니다")
    assert succeeds("keys", "list", "--db", db) == {"keys": []}  # nothing half-made


# -- serve ----------------------------------------------------------------------------------

@pytest.fixture
def logging_restored():
    """`serve` points the root and uvicorn loggers at stderr before it loads the model; put
    them back so later tests' log capture still works."""
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, handlers, level, propagate in saved:
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


@pytest.mark.parametrize(("options", "says"), [
    (["--demo", "--host", "0.0.0.0"], "127.0.0.1 에서만"),
    (["--adapter", "=x"], "'이름=값' 형식이어야 합니다"),
    ([], "nano 모델이 아직 없습니다"),                      # "nano" before build-nano ran
    (["--model", "{tmp}/missing"], "모델을 불러올 수 없습니다"),
    (["--model", "{tmp}", "--adapter", "{tmp}"], "어댑터 메타데이터가 없습니다"),
])
def test_serve_refuses_bad_settings_and_models_in_korean(tmp_path, monkeypatch, logging_restored,
                                                         options, says):
    """Only the bad-input side: a good configuration loads the model and then serves until
    interrupted. The model loads in this process (SMALLRETAIL_ENGINE_PROCESS=false) to keep
    the test fast; the engine process re-raises the same errors in the parent."""
    monkeypatch.setenv("SMALLRETAIL_ENGINE_PROCESS", "false")
    options = [o.format(tmp=tmp_path) for o in options]
    refused("serve", "--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "--port", "8765", *options,
            says=says)


# -- model build-nano -----------------------------------------------------------------------

def test_build_nano_from_a_tiny_corpus_then_reuses_it(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(
        json.dumps({"text": f"상품명: 두부 {i}00g 가격: {i},500원 보관: 냉장"}, ensure_ascii=False) + "\n"
        for i in range(1, 7)), encoding="utf-8")  # 6 documents: one small step per epoch
    out = tmp_path / "nano"
    summary = succeeds("model", "build-nano", "--corpus", corpus, "--out", out)
    assert summary == {"model": str(out), "documents": 6}
    assert (out / "config.json").is_file() and (out / "tokenizer.model").is_file()
    assert succeeds("model", "build-nano", "--corpus", corpus, "--out", out) == summary  # cached
    refused("model", "build-nano", "--corpus", tmp_path / "none.jsonl", "--out", tmp_path / "n2",
            says="말뭉치 파일이 없습니다")


# -- train ----------------------------------------------------------------------------------

def test_train_smoke_step_prints_only_its_summary(tmp_path):
    """One optimizer step on the nano recipe's random-init shape (the Trainer's own log lines
    must not reach stdout). A full run needs a real base model and dataset: minutes."""
    out = tmp_path / "smoke"
    summary = succeeds("train", NANO_RECIPE, "--smoke-steps", 1, "--random-init",
                       "--output-dir", out)
    assert summary["report"] == str(out / "smoke_report.json")
    assert json.loads(Path(summary["report"]).read_text(encoding="utf-8"))["steps"] == 1
    assert (Path(summary["adapter"]) / "adapter_config.json").is_file()
    assert summary["seconds_per_step"] > 0 and summary["peak_rss_mb"] > 0


def test_train_refuses_bad_recipes_and_smoke_options_in_korean(tmp_path):
    refused("train", tmp_path / "none.yaml", says="학습 설정을 읽을 수 없습니다")
    (tmp_path / "broken.yaml").write_text("base_model: [unclosed\n", encoding="utf-8")
    refused("train", tmp_path / "broken.yaml", says="학습 설정을 읽을 수 없습니다")
    (tmp_path / "odd.yaml").write_text("base_model: nano\nlearning_rat: 1\n", encoding="utf-8")
    refused("train", tmp_path / "odd.yaml", says="알 수 없는 설정 키 learning_rat")
    refused("train", NANO_RECIPE, "--smoke-steps", 0, "--random-init", "--output-dir",
            tmp_path / "s0", says="--smoke-steps는 1 이상이어야 합니다")
    refused("train", NANO_RECIPE, "--smoke-steps", 1, "--random-init", "--output-dir",
            tmp_path / "s1", "--tokenizer", tmp_path / "no-tokenizer",
            says="토크나이저 폴더가 없습니다")


# -- export ---------------------------------------------------------------------------------

def test_export_merges_a_tiny_adapter_and_refuses_missing_inputs(tmp_path):
    base = build_tiny_model(tmp_path / "tiny")
    adapter = build_lora_adapter(base, tmp_path / "lora", seed=1)
    out = tmp_path / "merged"
    assert succeeds("export", "--base", base, "--adapter", adapter, "--out", out) == {
        "merged": str(out), "gguf": None}
    assert (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file()
    refused("export", "--base", base, "--adapter", tmp_path / "no-adapter", "--out", tmp_path / "x",
            says="어댑터 폴더가 아닙니다")
    refused("export", "--base", tmp_path / "no-base", "--adapter", adapter, "--out", tmp_path / "x",
            says="모델을 내보낼 수 없습니다")
    refused("export", "--base", "nano", "--adapter", adapter, "--out", tmp_path / "x",
            says="nano 모델이 아직 없습니다")
    assert not (tmp_path / "x").exists()


# -- eval -----------------------------------------------------------------------------------

def test_eval_renderer_on_two_examples_writes_the_report(tmp_path):
    """The renderer needs no model; model systems are refused below when theirs is missing."""
    out = tmp_path / "eval"
    summary = succeeds("eval", "--systems", "renderer", "--split", "test", "--limit", 1,
                       "--out", out)
    assert summary["out"] == str(out) and summary["systems"] == ["renderer"]
    assert summary["examples"] == {"test/describe": 1, "test/answer": 1}
    assert (out / "metrics.json").is_file() and (out / "report.md").is_file()


@pytest.mark.parametrize(("options", "says"), [
    (["--systems", "base"], "nano 모델이 아직 없습니다"),
    (["--systems", "base", "--model", "{tmp}/no-model"], "모델을 불러올 수 없습니다"),
    (["--systems", "lora"], "--adapter 로 어댑터 폴더를 지정하세요"),
])
def test_eval_refuses_a_missing_model_or_adapter_in_korean(tmp_path, options, says):
    options = [o.format(tmp=tmp_path) for o in options]
    refused("eval", "--split", "test", "--limit", 1, "--out", tmp_path / "eval", *options,
            says=says)


# -- db -------------------------------------------------------------------------------------

def test_db_upgrade_and_current(tmp_path):
    db = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert succeeds("db", "current", "--db", db) == {"revision": None}
    upgraded = succeeds("db", "upgrade", "--db", db)
    assert upgraded["from"] is None and upgraded["to"]
    assert succeeds("db", "current", "--db", db) == {"revision": upgraded["to"]}
    assert succeeds("db", "upgrade", "--db", db) == {"from": upgraded["to"], "to": upgraded["to"]}

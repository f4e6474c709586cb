"""`smallretail` command line. Every command prints a one-line JSON summary on success and exits
non-zero with a clear Korean message on failure (contract in ../shared/DESIGN.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:  # the commands import lazily, so `smallretail --help` stays fast
    from smallretail_llm.core.record import ProductRecord, ShopPolicy

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
catalog_app = typer.Typer(no_args_is_help=True, help="상품 카탈로그: 가져오기, 검증, 내보내기, 카테고리")
app.add_typer(catalog_app, name="catalog")

DbOpt = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (기본: SMALLRETAIL_DB)")]


def emit(payload: dict) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"오류: {message}", err=True)
    raise typer.Exit(code)


def _db_url(db: str | None) -> str | None:
    """``db`` if SQLAlchemy can use it (None: the default database); else a Korean error and
    exit 2, not a traceback. The URL itself is not echoed: it may hold a password."""
    if db is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(db).get_dialect()
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError):
        scheme = db.split(":", 1)[0] if ":" in db else db[:20]
        fail(f"데이터베이스 URL을 쓸 수 없습니다 (--db, 방식 '{scheme}'). 예: "
             "sqlite:///경로/파일.db 또는 postgresql+psycopg://사용자:암호@호스트/DB", 2)
    return db


def _store(db: str | None):
    from smallretail_llm.db.store import Store

    return Store(_db_url(db))


def _mapping(path: Path | None) -> dict[str, str]:
    from smallretail_llm.catalog.headers import MappingError, load_mapping

    try:
        return load_mapping(path)
    except MappingError as exc:
        fail(str(exc), 2)


@catalog_app.command("import")
def catalog_import(
    path: Path,
    shop: Annotated[str | None, typer.Option("--shop", help="상점 ID (파일에 '상점' 열이 없을 때)")] = None,
    db: DbOpt = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="열 매핑 YAML")] = None,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="거부된 행을 쓸 CSV")] = None,
) -> None:
    """Import a shop export (CSV/XLSX/JSON/JSONL); bad rows go to the rejects file with reasons."""
    from smallretail_llm.catalog.service import default_rejects_path, import_catalog
    from smallretail_llm.catalog.tables import TableError

    try:
        summary = import_catalog(_store(db), path, shop, _mapping(mapping),
                                 rejects or default_rejects_path(path))
    except TableError as exc:
        fail(str(exc), 2)
    typer.echo(summary.to_json())


@catalog_app.command("validate")
def catalog_validate(
    path: Path,
    shop: Annotated[str | None, typer.Option("--shop")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping")] = None,
    rejects: Annotated[Path | None, typer.Option("--rejects")] = None,
) -> None:
    """Run every import check without writing to the database."""
    from smallretail_llm.catalog.service import validate_catalog
    from smallretail_llm.catalog.tables import TableError

    try:
        summary = validate_catalog(path, shop or "validate", _mapping(mapping), rejects)
    except TableError as exc:
        fail(str(exc), 2)
    typer.echo(summary.to_json())


@catalog_app.command("export")
def catalog_export(
    shop: Annotated[str, typer.Option("--shop")],
    out: Annotated[Path | None, typer.Option("--out", help="파일 (기본: 표준출력)")] = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
) -> None:
    """Export one shop's products as JSONL standard records."""
    from smallretail_llm.catalog.service import export_jsonl

    if fmt != "jsonl":
        fail(f"지원하지 않는 형식: {fmt} (jsonl만 지원)", 2)
    records = _store(db).list_products(shop)
    text = export_jsonl(records)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    emit({"shop": shop, "products": len(records), "out": str(out)})


@catalog_app.command("categories")
def catalog_categories(
    code: Annotated[str | None, typer.Argument(help="카테고리 코드나 이름: 항목까지 표시")] = None,
) -> None:
    """List the 상품정보제공고시 categories (or one category's fields)."""
    from smallretail_llm.core.categories import CATEGORIES, UnknownCategory, get_category

    if code:
        try:
            spec = get_category(code)
        except UnknownCategory as exc:
            fail(str(exc.args[0]), 2)
        for f in spec.fields:
            typer.echo(f"{f.key:28} {'필수' if f.required else '선택'}  {f.type:10} {f.label}")
        return
    for spec in CATEGORIES.values():
        required = sum(f.required for f in spec.fields)
        typer.echo(f"{spec.code:20} {spec.label}  (항목 {len(spec.fields)}, 필수 {required})")


@catalog_app.command("policy")
def catalog_policy(path: Path, db: DbOpt = None) -> None:
    """Load shop policies (a JSON object or a list of them) into the database."""
    from pydantic import ValidationError

    from smallretail_llm.core.record import ShopPolicy

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        policies = [ShopPolicy.model_validate(p) for p in (doc if isinstance(doc, list) else [doc])]
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        fail(f"상점 정책 파일을 읽을 수 없습니다: {path} ({exc})", 2)
    store = _store(db)
    for policy in policies:
        store.put_policy(policy)
    emit({"policies": len(policies), "shops": [p.shop_id for p in policies]})


@app.command("demo")
def demo(
    db: DbOpt = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="준비 후 서버 실행")] = True,
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """The main job on the embedded defaults: sample catalog -> data -> nano model -> LoRA ->
    the API on 127.0.0.1 (each step cached after the first run)."""
    from smallretail_llm.demo import run_demo

    assets = run_demo(_db_url(db), serve=serve, port=port)
    if not serve:
        emit({"db": assets.db_url, "data": str(assets.data_dir), "model": str(assets.model_dir),
              "adapter": str(assets.adapter_dir)})


def main() -> None:  # pragma: no cover - console entry
    app()


@app.command("check")
def check(
    text_or_file: Annotated[str, typer.Argument(help="검사할 문구, 또는 문구가 담긴 파일 경로")],
    product: Annotated[Path, typer.Option("--product", help="catalog export --format jsonl의 한 줄")],
    policy: Annotated[Path | None, typer.Option("--policy", help="상점 정책 JSON")] = None,
    style: Annotated[str, typer.Option("--style", help="detail|intro|bullets|seo")] = "detail",
) -> None:
    """Audit any text (generated or the shop's own copy) against the product record."""
    from pydantic import ValidationError

    from smallretail_llm.core.record import STYLE_LABELS, ProductRecord, ShopPolicy
    from smallretail_llm.grounding.check import check_description

    if style not in STYLE_LABELS:
        fail(f"알 수 없는 스타일: {style} (가능: {', '.join(STYLE_LABELS)})", 2)
    text = _text_or_file(text_or_file)
    try:
        lines = [ln for ln in product.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if len(lines) != 1:
            fail(f"--product 파일에는 상품 한 줄(JSON)만 있어야 합니다: {product} ({len(lines)}줄)", 2)
        record = ProductRecord.model_validate_json(lines[0])
        shop_policy = (ShopPolicy.model_validate_json(policy.read_text(encoding="utf-8"))
                       if policy else None)
    except (OSError, ValidationError) as exc:
        fail(f"상품/정책 파일을 읽을 수 없습니다: {exc}", 2)
    report = check_description(text, record, shop_policy, style)
    typer.echo(report.model_dump_json())


def _text_or_file(value: str) -> str:
    """The text itself, or the contents of the file it names. A text too long to be a file
    name (a whole description: Errno 36) or naming no file is the text."""
    path = Path(value)
    try:
        named = path.is_file()
    except (OSError, ValueError):  # too long for a file name, or a NUL character
        return value
    if not named:
        return value
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"문구 파일을 읽을 수 없습니다: {path} ({exc})", 2)


@app.command("redact")
def redact(text: Annotated[str, typer.Argument(help="개인정보를 가릴 문구")]) -> None:
    """Mask personal data (phone, 주민등록번호, email, address, card, account) in a text."""
    from smallretail_llm.core.pii import redact_pii

    result = redact_pii(text)
    emit({"text": result.text, "found": result.found})


data_app = typer.Typer(no_args_is_help=True, help="학습 데이터: SFT 데이터셋과 nano 말뭉치")
app.add_typer(data_app, name="data")


def _catalog_with_policies(db: str | None) -> list[tuple[ProductRecord, ShopPolicy]]:
    store = _store(db)
    pairs: list[tuple[ProductRecord, ShopPolicy]] = []
    for shop in store.shops():
        products = store.list_products(shop)
        if not products:
            continue
        policy = store.get_policy(shop)
        if policy is None:
            fail(f"상점 '{shop}'의 정책(배송·교환·상담)이 없습니다: "
                 "`smallretail catalog policy 정책.json`으로 먼저 등록하세요", 2)
        pairs.extend((p, policy) for p in products)
    if not pairs:
        fail("데이터베이스에 상품이 없습니다: `smallretail catalog import`로 먼저 가져오세요", 2)
    return pairs


@data_app.command("build")
def data_build(
    out: Annotated[Path, typer.Option("--out", help="출력 폴더")],
    db: DbOpt = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    teacher_url: Annotated[str | None, typer.Option(
        "--teacher-url", help="OpenAI 호환 교사 모델 주소 (예: http://127.0.0.1:8001/v1)")] = None,
    teacher_model: Annotated[str, typer.Option("--teacher-model")] = "teacher",
    shop: Annotated[str | None, typer.Option(
        "--shop", help="이 상점의 상품과 정책만 (상점 전용 어댑터용)")] = None,
) -> None:
    """Build the SFT DatasetDict (train/validation/test by product) with a dataset card."""
    from smallretail_llm.data.dataset import build_examples, for_shop, save

    pairs = _catalog_with_policies(db)
    if shop is not None:
        pairs = for_shop(pairs, shop)
        if not pairs:
            fail(f"상점 '{shop}'의 상품이 없습니다.", 2)

    drafter = client = None
    if teacher_url:
        from smallretail_llm.data.teacher import TeacherClient, teacher_drafter

        client = TeacherClient(teacher_url, teacher_model)
        drafter = teacher_drafter(client)
    built = build_examples(pairs, seed=seed, drafter=drafter)
    if client is not None:
        client.close()
    save(built, out)
    card = built.card()
    emit({"out": str(out), **{name: s["examples"] for name, s in card["splits"].items()},
          "teacher": card["teacher"]})


@data_app.command("corpus")
def data_corpus(
    out: Annotated[Path, typer.Option("--out", help="말뭉치 파일 (.jsonl: 대화 한 줄에 하나)")],
    db: DbOpt = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """The offline nano model's training documents (train split only): one conversation per
    JSONL line, its reply with value slots (see slots.py)."""
    from smallretail_llm.data.dataset import build_examples, corpus_conversations

    built = build_examples(_catalog_with_policies(db), seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = 0
    with out.open("w", encoding="utf-8") as fh:
        for messages in corpus_conversations(built):
            fh.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
            lines += 1
    emit({"out": str(out), "lines": lines, "bytes": out.stat().st_size})


keys_app = typer.Typer(no_args_is_help=True, help="API 키: 상점별 발급 (해시로 저장, 원문은 한 번만 표시)")
app.add_typer(keys_app, name="keys")


ScopesOpt = Annotated[str | None, typer.Option(
    "--scopes", help="쉼표로 구분: catalog:read,generate,import (기본: 모두)")]


def _keys(db: str | None):
    from smallretail_llm.db.keys import ApiKeys

    return ApiKeys(_store(db))


@keys_app.command("create")
def keys_create(
    shop: Annotated[str, typer.Option("--shop")],
    name: Annotated[str | None, typer.Option("--name", help="키 이름 (목록에 표시)")] = None,
    scopes: ScopesOpt = None,
    expires_days: Annotated[float | None, typer.Option(
        "--expires-days", help="며칠 뒤 만료 (기본: 만료 없음)", min=0.0001)] = None,
    db: DbOpt = None,
) -> None:
    """Create an API key for a shop; the key is printed once and stored only as a hash."""
    import datetime as dt

    from smallretail_llm.db.keys import key_id_of

    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days)
               if expires_days is not None else None)
    try:
        key = _keys(db).create(shop, name=name, expires_at=expires, scopes=(
            [s.strip() for s in scopes.split(",") if s.strip()] if scopes is not None else None))
    except ValueError as exc:
        fail(str(exc), 2)
    emit({"shop": shop, "key_id": key_id_of(key), "key": key,
          "expires": expires.isoformat() if expires else None})


@keys_app.command("list")
def keys_list(shop: Annotated[str | None, typer.Option("--shop")] = None, db: DbOpt = None) -> None:
    """The shop's keys (all shops without --shop): prefix, name, times, scopes; never a key."""
    emit({"keys": [k.listing() for k in _keys(db).list(shop)]})


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="키 ID (목록의 id)")],
                db: DbOpt = None) -> None:
    """Refuse the key from now on, on every server over this database."""
    if not _keys(db).revoke(key_id):
        fail(f"폐기할 수 있는 키가 없습니다: '{key_id}' (없거나 이미 폐기됨)")
    emit({"key_id": key_id, "revoked": True})


@keys_app.command("rotate")
def keys_rotate(key_id: Annotated[str, typer.Argument(help="키 ID (목록의 id)")],
                db: DbOpt = None) -> None:
    """A new key with the same shop, name and scopes; the old one is revoked at once."""
    from smallretail_llm.db.keys import key_id_of

    key = _keys(db).rotate(key_id)
    if key is None:
        fail(f"교체할 수 있는 키가 없습니다: '{key_id}' (없거나 이미 폐기됨)")
    emit({"key_id": key_id_of(key), "key": key, "replaces": key_id})


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    db: DbOpt = None,
    model: Annotated[str | None, typer.Option("--model", help='hub id, 로컬 폴더, 또는 "nano"')] = None,
    adapter: Annotated[str | None, typer.Option("--adapter", help='"DIR" 또는 "이름=DIR,..."')] = None,
    demo: Annotated[bool | None, typer.Option("--demo/--no-demo", help="키 없이 (127.0.0.1 전용)")] = None,
) -> None:
    """Run the HTTP API (FastAPI + uvicorn). Settings also come from SMALLRETAIL_* variables."""
    from pydantic import ValidationError

    from smallretail_llm.models.adapter import AdapterMismatch
    from smallretail_llm.serving.api.server import serve as run_server
    from smallretail_llm.serving.engines.factory import ModelUnreadable
    from smallretail_llm.serving.settings import Settings

    overrides: dict[str, Any] = {"host": host, "port": port, "db": db, "model": model,
                                 "adapter": adapter, "demo": demo}
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        fail("; ".join(e["msg"] for e in exc.errors()), 2)
    try:
        run_server(settings)
    except ModelUnreadable as exc:
        fail(str(exc))
    except (OSError, AdapterMismatch) as exc:  # no nano model yet, no such model, stale adapter
        fail(f"모델을 불러올 수 없습니다: {exc}", 2)


model_app = typer.Typer(no_args_is_help=True, help="모델: 오프라인 nano 기본 모델")
app.add_typer(model_app, name="model")


@model_app.command("build-nano")
def model_build_nano(
    out: Annotated[Path | None, typer.Option("--out", help="기본: $SMALLRETAIL_HOME/models/nano")] = None,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="smallretail data corpus의 출력")] = None,
    db: DbOpt = None,
    force: Annotated[bool, typer.Option("--force", help="캐시가 있어도 다시 만들기")] = False,
) -> None:
    """Train the offline nano tokenizer + model from the train split's conversations (cached by
    fingerprint)."""
    from smallretail_llm.data.dataset import build_examples, corpus_conversations
    from smallretail_llm.models.nano import build_nano, read_corpus

    if corpus is not None:
        if not corpus.is_file():
            fail(f"말뭉치 파일이 없습니다: {corpus}", 2)
        try:
            texts = read_corpus(corpus)
        except (ValueError, UnicodeDecodeError) as exc:  # (a JSON error is a ValueError)
            fail(f"말뭉치 파일을 읽을 수 없습니다: {exc}", 2)
    else:
        texts = list(corpus_conversations(build_examples(_catalog_with_policies(db))))
    path = build_nano(texts, out, force=force)
    emit({"model": str(path), "documents": len(texts)})


@app.command("train")
def train_command(
    config: Annotated[Path, typer.Argument(help="training/configs/*.yaml")],
    resume: Annotated[bool, typer.Option("--resume", help="마지막 체크포인트에서 이어서")] = False,
    smoke_steps: Annotated[int | None, typer.Option(
        "--smoke-steps", help="짧은 합성 데이터로 N 스텝만 (배치 1, 64토큰); --random-init 필요")] = None,
    random_init: Annotated[bool, typer.Option(
        "--random-init", help="허브 가중치 대신 같은 형태의 무작위 모델 (model_shapes.yaml)")] = False,
    tokenizer: Annotated[str | None, typer.Option(
        "--tokenizer", help="스모크 실행의 대역 토크나이저 폴더 (기본: nano)")] = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", help="스모크 실행 폴더 (기본: 설정의 output_dir + '-smoke')")] = None,
) -> None:
    """LoRA SFT from a YAML recipe; writes the adapter, resolved config and train_report.json.
    With --smoke-steps N --random-init: N steps on the recipe's exact shape, randomly
    initialised (no download), and smoke_report.json with seconds per step and peak RSS."""
    from contextlib import redirect_stdout

    from yaml import YAMLError

    from smallretail_llm.training.config import TrainConfig
    from smallretail_llm.training.sft import train

    try:
        cfg = TrainConfig.from_yaml(config)
    except (OSError, ValueError, TypeError, YAMLError) as exc:
        fail(f"학습 설정을 읽을 수 없습니다: {config} ({exc})", 2)
    if (smoke_steps is None) != (not random_init):
        fail("--smoke-steps와 --random-init은 함께 써야 합니다 (무작위 모델로 몇 스텝만 돌리는 점검).", 2)
    if smoke_steps is not None:
        from smallretail_llm.training.smoke import REPORT, run_smoke

        out = output_dir or Path(cfg.output_dir + "-smoke")
        try:
            with redirect_stdout(sys.stderr):  # the Trainer prints its log dicts to stdout
                report = run_smoke(cfg, smoke_steps, out, tokenizer)
        except (ValueError, FileNotFoundError) as exc:  # --smoke-steps 0, no --tokenizer folder
            fail(str(exc), 2)
        emit({"adapter": report["adapter"], "report": str(out / REPORT),
              "seconds_per_step": report["seconds_per_step"], "peak_rss_mb": report["peak_rss_mb"]})
        return
    with redirect_stdout(sys.stderr):
        adapter = train(cfg, resume=resume)
    emit({"adapter": str(adapter), "report": str(Path(cfg.output_dir) / "train_report.json")})


@app.command("export")
def export_command(
    base: Annotated[str, typer.Option("--base", help='hub id, 로컬 폴더, 또는 "nano"')],
    adapter: Annotated[Path, typer.Option("--adapter")],
    out: Annotated[Path, typer.Option("--out")],
    gguf: Annotated[bool, typer.Option("--gguf/--no-gguf", help="llama.cpp 변환기가 있으면 GGUF도")] = False,
    gguf_type: Annotated[str, typer.Option("--gguf-type", help="f32, f16, bf16, q8_0, q4_0, q4_k_m")] = (
        "q8_0"),
) -> None:
    """Merge a LoRA adapter into its base (safetensors + tokenizer), optionally GGUF (Q8_0 by
    default: the fastest CPU format the bench measured within int8 accuracy)."""
    from smallretail_llm.models.export import GGUF_TYPES, export_merged
    from smallretail_llm.models.export import gguf_file as make_gguf

    if gguf_type not in GGUF_TYPES:
        fail(f"알 수 없는 GGUF 형식입니다: '{gguf_type}' (가능한 값: {', '.join(GGUF_TYPES)})", 2)
    try:
        merged = export_merged(base, adapter, out)
    except OSError as exc:  # not an adapter folder, no such base model, no nano model yet
        fail(f"모델을 내보낼 수 없습니다: {exc}", 2)
    gguf_file = make_gguf(merged, gguf_type) if gguf else None
    emit({"merged": str(merged), "gguf": str(gguf_file) if gguf_file else None})


@app.command("eval")
def eval_command(
    out: Annotated[Path, typer.Option("--out")],
    systems: Annotated[str, typer.Option("--systems")] = "renderer,base,lora",
    split: Annotated[str, typer.Option(
        "--split", help="test, hard, hard2 (쉼표로 여럿) 또는 unseen (--db 의 모든 상품)")] = "test,hard",
    model: Annotated[str | None, typer.Option("--model")] = None,
    adapter: Annotated[str | None, typer.Option("--adapter")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="분할·작업별 예제 수 (0 = 전부)")] = None,
    db: DbOpt = None,
) -> None:
    """Evaluate systems side by side on held-out products; writes metrics.json, report.md, plots."""
    from smallretail_llm.evaluation.evaluate import run_eval

    try:
        result = run_eval([s.strip() for s in systems.split(",") if s.strip()], split, out,
                          model=model, adapter=adapter, limit=limit, db=_db_url(db))
    except ValueError as exc:
        fail(str(exc), 2)
    except OSError as exc:  # no such model folder, no nano model yet
        fail(f"모델을 불러올 수 없습니다: {exc}", 2)
    config = result.get("config", {})
    emit({"out": str(out), "systems": config.get("systems"), "examples": config.get("examples"),
          "wall_s": round(config.get("wall_s", 0), 1)})


@app.command("bench")
def bench_command(
    out: Annotated[Path, typer.Option("--out")] = Path("eval/reports"),
    quick: Annotated[bool, typer.Option("--quick", help="목표 확인에 필요한 행만, 짧게")] = False,
    parts: Annotated[str, typer.Option("--parts", help="engine,server,training 중 일부")] = (
        "engine,server,training"),
) -> None:
    """Speed and memory bench (engines vs the bandwidth ceiling, server, LoRA training); writes
    bench.json and bench.md. Run it alone: timings on shared cores swing 2x."""
    import logging

    from smallretail_llm.bench.run import run_bench

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        report = run_bench(out, quick, parts=[p.strip() for p in parts.split(",") if p.strip()])
    except ValueError as exc:
        fail(str(exc), 2)
    emit({"out": str(out), "bench_s": report["bench_s"], "targets": report["targets"],
          "skipped": report["skipped"]})


db_app = typer.Typer(no_args_is_help=True, help="데이터베이스 스키마 (Alembic)")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Bring the database schema to the newest revision, in place."""
    from smallretail_llm.db.migrate import upgrade

    emit(upgrade(_db_url(db)))


@db_app.command("current")
def db_current(db: DbOpt = None) -> None:
    """Print the database's schema revision."""
    from smallretail_llm.db.migrate import current

    emit({"revision": current(_db_url(db))})


if __name__ == "__main__":  # `python -m smallretail_llm.cli …` (e.g. under `accelerate launch`)
    app()

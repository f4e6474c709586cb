"""The top-level commands that run a stage of the pipeline: demo, serve, train, export, eval and
bench. Plain functions; cli/__init__.py puts them on the app, in `--help` order."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from smallretail_llm.cli.common import DbOpt, db_url, emit, fail


def demo(
    db: DbOpt = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="준비 후 서버 실행")] = True,
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """The main job on the embedded defaults: sample catalog -> data -> nano model -> LoRA ->
    the API on 127.0.0.1 (each step cached after the first run)."""
    from contextlib import redirect_stdout

    from smallretail_llm.demo import run_demo

    if serve:  # a person watches: the build's progress, then the curl examples, on stdout
        run_demo(db_url(db), serve=True, port=port)
        return
    with redirect_stdout(sys.stderr):  # stdout is for the one JSON line
        assets = run_demo(db_url(db), serve=False, port=port)
    emit({"db": assets.db_url, "data": str(assets.data_dir), "model": str(assets.model_dir),
          "adapter": str(assets.adapter_dir)})



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
                          model=model, adapter=adapter, limit=limit, db=db_url(db))
    except ValueError as exc:
        fail(str(exc), 2)
    except OSError as exc:  # no such model folder, no nano model yet
        fail(f"모델을 불러올 수 없습니다: {exc}", 2)
    config = result.get("config", {})
    emit({"out": str(out), "systems": config.get("systems"), "examples": config.get("examples"),
          "wall_s": round(config.get("wall_s", 0), 1)})


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


"""`smallretail data …`: build the SFT dataset and the nano model's corpus from the catalog in
the database (the training data's commands, kept together)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smallretail_llm.cli.common import DbOpt, catalog_with_policies, emit, fail

data_app = typer.Typer(no_args_is_help=True, help="학습 데이터: SFT 데이터셋과 nano 말뭉치")


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

    pairs = catalog_with_policies(db)
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

    built = build_examples(catalog_with_policies(db), seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = 0
    with out.open("w", encoding="utf-8") as fh:
        for messages in corpus_conversations(built):
            fh.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
            lines += 1
    emit({"out": str(out), "lines": lines, "bytes": out.stat().st_size})


"""`smallretail model build-nano`: train the offline nano tokenizer and base model from the
catalog's conversations (the base model's command, apart from training LoRA adapters on it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smallretail_llm.cli.common import DbOpt, catalog_with_policies, emit, fail

model_app = typer.Typer(no_args_is_help=True, help="모델: 오프라인 nano 기본 모델")


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
        texts = list(corpus_conversations(build_examples(catalog_with_policies(db))))
    path = build_nano(texts, out, force=force)
    emit({"model": str(path), "documents": len(texts)})


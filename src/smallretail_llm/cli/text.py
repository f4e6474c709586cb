"""`smallretail check` and `smallretail redact`: the commands that take a text and audit it
(against a product record) or mask the personal data in it; no model, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smallretail_llm.cli.common import emit, fail


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


def redact(text: Annotated[str, typer.Argument(help="개인정보를 가릴 문구")]) -> None:
    """Mask personal data (phone, 주민등록번호, email, address, card, account) in a text."""
    from smallretail_llm.core.pii import redact_pii

    result = redact_pii(text)
    emit({"text": result.text, "found": result.found})


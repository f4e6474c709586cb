"""`make demo`: build what is missing from the embedded defaults (sample DB, SFT data, the nano
model, its LoRA adapter — each cached under SMALLRETAIL_HOME after the first run), then serve
the API on 127.0.0.1:8000 in keyless demo mode and print ready-to-paste Korean curl examples."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smallretail_llm.catalog.sample_catalog import DEMO_SHOP, DEMO_SKU, load_samples
from smallretail_llm.catalog.service import ImportSummary, catalog_pairs
from smallretail_llm.core.categories import CATEGORIES
from smallretail_llm.core.paths import home_dir
from smallretail_llm.db.store import Store
from smallretail_llm.models.adapter import ADAPTER_NAME


@dataclass
class DemoAssets:
    db_url: str
    data_dir: Path
    model_dir: Path
    adapter_dir: Path


def prepare(db: str | None = None, console: Console | None = None) -> DemoAssets:
    """Everything the demo server needs, built once and reused (each step is cached)."""
    from smallretail_llm.data.dataset import build_examples, corpus_conversations, save
    from smallretail_llm.models.adapter import ADAPTER_META
    from smallretail_llm.models.nano import build_nano, default_nano_dir, read_corpus
    from smallretail_llm.training.config import TrainConfig
    from smallretail_llm.training.sft import train

    console = console or Console()
    home = home_dir()
    store = Store(db)
    summarize(store, load_samples(store), console)

    data_dir = home / "data" / "sample"
    corpus = data_dir / "corpus.jsonl"
    expected = current_prompt_versions()
    stale = (data_dir / "dataset_card.json").is_file() and dataset_versions(data_dir) != expected
    if stale:
        console.print(f"프롬프트 버전이 바뀌어 ({', '.join(expected)}) 학습 데이터와 어댑터를 다시 만듭니다.")
    if stale or not (data_dir / "dataset_card.json").is_file() or not corpus.is_file():
        console.print("[bold]1/3[/] 학습 데이터 만드는 중 (상품 설명 + 고객 문답)...")
        built = build_examples(catalog_pairs(store), seed=0)
        save(built, data_dir)
        corpus.write_text("".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n"
                                  for m in corpus_conversations(built)), encoding="utf-8")
    console.print("[bold]2/3[/] nano 모델 (처음 한 번만, 2코어 CPU에서 몇 분)...")
    model_dir = build_nano(read_corpus(corpus), default_nano_dir())

    run_dir = home / "train" / "nano-cpu"
    adapter_dir = run_dir / "adapter"
    if (adapter_dir / ADAPTER_META).is_file() and adapter_versions(adapter_dir) != expected:
        shutil.rmtree(run_dir)  # trained on other prompts: its checkpoints cannot be resumed
    if not (adapter_dir / ADAPTER_META).is_file():
        console.print("[bold]3/3[/] nano 모델에 LoRA 학습 중 (처음 한 번만)...")
        recipe = resources.files("smallretail_llm.training") / "recipes" / "nano-cpu.yaml"
        config = TrainConfig.from_yaml(str(recipe))
        config.data, config.output_dir, config.base_model = (
            str(data_dir / "hf"), str(run_dir), str(model_dir))
        # checkpoints without an adapter: an interrupted first run, continued where it stopped
        adapter_dir = train(config, resume=any((run_dir / "checkpoints").glob("checkpoint-*")))
    return DemoAssets(store.url, data_dir, model_dir, adapter_dir)


def current_prompt_versions() -> list[str]:
    from smallretail_llm.data.prompts import expected_prompt_versions

    return sorted(expected_prompt_versions())


def dataset_versions(data_dir: Path) -> list[str]:
    """Prompt versions a built dataset was rendered with (read from its train split)."""
    found: set[str] = set()
    train = data_dir / "train.jsonl"
    if train.is_file():
        with train.open(encoding="utf-8") as lines:
            found = {json.loads(line)["prompt_version"] for line in lines if line.strip()}
    return sorted(found)


def adapter_versions(adapter_dir: Path) -> list[str]:
    from smallretail_llm.models.adapter import ADAPTER_META

    meta = json.loads((adapter_dir / ADAPTER_META).read_text(encoding="utf-8"))
    return sorted(meta.get("prompt_versions", []))


def summarize(store: Store, summaries: dict[str, ImportSummary], console: Console) -> None:
    table = Table(title=f"샘플 카탈로그 ({store.url})")
    for column in ("상점", "행", "신규", "기존", "변경", "거부", "필수항목 누락"):
        table.add_column(column, justify="right")
    for shop, s in summaries.items():
        table.add_row(shop, str(s.rows), str(s.imported), str(s.updated), str(s.changed),
                      str(s.rejected), str(s.missing_required))
    console.print(table)
    by_category = Table(title="카테고리별 상품 수")
    by_category.add_column("카테고리")
    by_category.add_column("상품 수", justify="right")
    for code, n in store.category_counts().items():
        label = CATEGORIES[code].label if code in CATEGORIES else code
        by_category.add_row(f"{label} ({code})", str(n))
    console.print(by_category)
    total = {k: sum(getattr(s, k) for s in summaries.values())
             for k in ("rows", "imported", "updated", "changed", "rejected")}
    console.print(json.dumps({"shops": len(summaries), **total, "db": store.url}, ensure_ascii=False))


def curl_examples(base: str = "http://127.0.0.1:8000") -> str:
    describe = json.dumps({"product_id": DEMO_SKU, "style": "detail", "tone": "friendly"},
                          ensure_ascii=False)
    answer = json.dumps({"product_id": DEMO_SKU, "question": "보관은 어떻게 해요? 제 번호 010-1234-5678"},
                        ensure_ascii=False)
    chat = json.dumps({"model": ADAPTER_NAME, "product_id": DEMO_SKU, "messages": [
        {"role": "user", "content": "이거 원산지가 어디예요?"}], "stream": True}, ensure_ascii=False)
    return "\n".join([
        f"# 상품 설명 만들기 ({DEMO_SHOP} 상점의 {DEMO_SKU})",
        f"curl -s {base}/v1/descriptions -H 'Content-Type: application/json' -d '{describe}'",
        "# 고객 질문에 답하기 (전화번호는 가려서 처리됩니다)",
        f"curl -s {base}/v1/answers -H 'Content-Type: application/json' -d '{answer}'",
        "# OpenAI 호환 스트리밍: product_id 를 주면 그 상품에 대해 근거 검사를 거쳐 답합니다",
        f"curl -sN {base}/v1/chat/completions -H 'Content-Type: application/json' -d '{chat}'",
        f"# 상품 목록, API 문서: {base}/v1/products , {base}/docs",
    ])


def run_demo(db: str | None = None, serve: bool = True, port: int = 8000) -> DemoAssets:
    console = Console()
    assets = prepare(db, console)
    if not serve:
        return assets
    from smallretail_llm.serving.api.server import serve as run_server
    from smallretail_llm.serving.settings import Settings

    settings = Settings(db=assets.db_url, model=str(assets.model_dir),
                        adapter=f"{ADAPTER_NAME}={assets.adapter_dir}", host="127.0.0.1", port=port,
                        demo=True, demo_shop=DEMO_SHOP)
    console.print("\n[bold green]데모 서버를 시작합니다[/] (키 없는 데모 모드, 127.0.0.1 전용). "
                  "nano 모델은 이 카탈로그로만 학습한 오프라인용 작은 모델입니다.\n")
    console.print(curl_examples(f"http://127.0.0.1:{port}"), soft_wrap=True, highlight=False)
    run_server(settings)
    return assets

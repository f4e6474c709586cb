"""SFT data from the product DB: one pure function per product, mapped over the catalog.

Each example is chat `messages` (system, user, assistant) plus `task`, `style`, `product_key` and
`prompt_version`. Splits are by product (stable hash of shop+sku), so no product is in two splits."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from smallretail_llm.baseline.question_facts import asked_slots
from smallretail_llm.baseline.renderer import render_description
from smallretail_llm.baseline.slots import delexicalize, slot_values
from smallretail_llm.core.pii import redact_pii
from smallretail_llm.core.record import STYLE_LABELS, TONE_LABELS, ProductRecord, ShopPolicy
from smallretail_llm.data.prompts import (
    ANSWER_VERSION,
    DESCRIBE_VERSION,
    render_answer,
    render_describe,
)
from smallretail_llm.data.qa_examples import generate_qa

SPLITS = ("train", "validation", "test")
STYLES = tuple(STYLE_LABELS)
TONES = tuple(TONE_LABELS)

# A draft writer: (messages, record, policy, style, tone) -> grounded text or None. The teacher
# (teacher.teacher_drafter) plugs in here.
Drafter = Callable[[list[dict], ProductRecord, "ShopPolicy | None", str, str], "str | None"]


def split_of(record: ProductRecord, validation: float = 0.1, test: float = 0.1) -> str:
    """80/10/10 by a stable hash of shop+sku: the same product always lands in the same split."""
    bucket = int(hashlib.sha256(record.key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < test:
        return "test"
    if bucket < test + validation:
        return "validation"
    return "train"


def assign_splits(records: Iterable[ProductRecord]) -> dict[str, str]:
    """Split per product key: `split_of`'s stable hash, except that a catalog of 3 or more
    products always holds out at least one product for validation and one for test (a small
    shop's 5-product catalog would often get none, and an empty split cannot be evaluated or
    even saved as a dataset). Moved products are the train products whose hash lies closest to
    the held-out range, so the choice is stable as the catalog grows."""
    keys = sorted({r.key: r for r in records}.items())
    splits = {key: split_of(record) for key, record in keys}
    if len(keys) < len(SPLITS):
        return splits

    def bucket(key: str) -> float:
        return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    for wanted in ("test", "validation"):
        if wanted in splits.values():
            continue
        train = sorted((k for k, v in splits.items() if v == "train"), key=bucket)
        if len(train) > 1:
            splits[train[0]] = wanted
    return splits


def _base(record: ProductRecord, task: str, version: str) -> dict:
    return {"task": task, "product_key": record.key, "shop_id": record.shop_id,
            "category": record.category, "prompt_version": f"{task}.{version}"}


def describe_examples(record: ProductRecord, policy: ShopPolicy | None, seed: int,
                      tones_per_style: int = 2, drafter: Drafter | None = None,
                      stats: Counter | None = None) -> list[dict]:
    """Every style, in `tones_per_style` seeded tones; the target is the grounded reference
    renderer unless a drafter (teacher) supplies a text that passes grounding."""
    rng = random.Random(f"{seed}:{record.key}:describe")
    values = slot_values(record, policy)
    rows = []
    for style in STYLES:
        for tone in rng.sample(TONES, k=min(tones_per_style, len(TONES))):
            messages = render_describe(record, style, tone, policy)
            target, source = None, "renderer"
            if drafter is not None:
                target = drafter(messages, record, policy, style, tone)
                source = "teacher" if target else "renderer"
                if stats is not None:
                    stats[f"teacher_{'kept' if target else 'fallback'}"] += 1
            if not target:
                target = render_description(record, style, tone, policy, seed=seed)
            rows.append(_base(record, "describe", DESCRIBE_VERSION) | {
                "messages": messages + [{"role": "assistant", "content": target}],
                "slot_target": delexicalize(target, values),
                "style": style, "tone": tone, "source": source, "needs_human": False,
                "evidence": [], "kind": "description"})
    return rows


def answer_examples(record: ProductRecord, policy: ShopPolicy, seed: int) -> list[dict]:
    """Customer questions with grounded answers or hand-offs (see qa.generate_qa). Questions are
    PII-redacted exactly as serving redacts them: nothing personal is trained on."""
    rows = []
    values = slot_values(record, policy)
    for qa in generate_qa(record, policy, seed):
        question = redact_pii(qa.question, keep={policy.cs_phone}).text
        messages = render_answer(record, question, policy)
        asked, _ = asked_slots(question.strip(), record, policy)
        rows.append(_base(record, "answer", ANSWER_VERSION) | {
            "messages": messages + [{"role": "assistant", "content": qa.answer}],
            "slot_target": delexicalize(delexicalize(qa.answer, asked), values),
            "style": "", "tone": policy.tone, "source": "generated",
            "needs_human": qa.needs_human, "evidence": list(qa.evidence), "kind": qa.kind})
    return rows


@dataclass
class BuiltDataset:
    splits: dict[str, list[dict]]
    stats: Counter = field(default_factory=Counter)

    def card(self) -> dict:
        """Counts per split, task, style and category: written as dataset_card.json + README.md."""
        card: dict = {"splits": {}, "teacher": {k: v for k, v in self.stats.items()
                                               if k.startswith("teacher")}}
        for name, rows in self.splits.items():
            card["splits"][name] = {
                "examples": len(rows),
                "products": len({r["product_key"] for r in rows}),
                "task": dict(Counter(r["task"] for r in rows)),
                "style": dict(Counter(r["style"] for r in rows if r["style"])),
                "category": dict(sorted(Counter(r["category"] for r in rows).items())),
                "answer_kind": dict(Counter(r["kind"] for r in rows if r["task"] == "answer")),
                "needs_human": sum(r["needs_human"] for r in rows),
            }
        return card


def build_examples(products: Iterable[tuple[ProductRecord, ShopPolicy]], seed: int = 0,
                   drafter: Drafter | None = None) -> BuiltDataset:
    """The whole dataset, split by product. Deterministic for a seed (and a deterministic drafter)."""
    built = BuiltDataset({name: [] for name in SPLITS})
    products = sorted(products, key=lambda p: p[0].key)
    assigned = assign_splits(record for record, _ in products)
    for record, policy in products:
        rows = describe_examples(record, policy, seed, drafter=drafter, stats=built.stats)
        rows += answer_examples(record, policy, seed)
        built.splits[assigned[record.key]].extend(rows)
    return built


def for_shop(products: Iterable[tuple[ProductRecord, ShopPolicy]], shop_id: str
             ) -> list[tuple[ProductRecord, ShopPolicy]]:
    """A shop's own adapter data: its own products under its own policy, nothing of another
    shop (`smallretail data build --shop S`)."""
    return [(r, p) for r, p in products if r.shop_id == shop_id and p.shop_id == shop_id]


def save(built: BuiltDataset, out_dir: str | Path) -> Path:
    """JSONL per split, a datasets DatasetDict (save_to_disk) and the dataset card."""
    from datasets import Dataset, DatasetDict  # heavy: only when writing

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in built.splits.items():
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    # an empty split has no columns and cannot be loaded back: only splits with rows are saved
    DatasetDict({name: Dataset.from_list(rows) for name, rows in built.splits.items()
                 if rows}).save_to_disk(str(out / "hf"))
    card = built.card()
    (out / "dataset_card.json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
    (out / "README.md").write_text(_card_markdown(card), encoding="utf-8")
    return out


def _card_markdown(card: dict) -> str:
    lines = ["# smallretail SFT dataset", "",
             "Built from the product DB by `smallretail data build`: descriptions are the grounded",
             "reference renderer's (or a teacher's, kept only when they pass grounding), answers come",
             "from the record and shop policy, with hand-offs where the record does not know.", "",
             "| split | examples | products | describe | answer | needs_human |",
             "|---|---|---|---|---|---|"]
    for name, s in card["splits"].items():
        lines.append(f"| {name} | {s['examples']} | {s['products']} | {s['task'].get('describe', 0)}"
                     f" | {s['task'].get('answer', 0)} | {s['needs_human']} |")
    lines += ["", "Per category (all splits):", ""]
    totals: Counter = Counter()
    for s in card["splits"].values():
        totals.update(s["category"])
    lines += [f"- {code}: {n}" for code, n in sorted(totals.items())]
    if card["teacher"]:
        lines += ["", f"Teacher: {card['teacher']}"]
    return "\n".join(lines) + "\n"


def corpus_conversations(built: BuiltDataset, splits: tuple[str, ...] = ("train",)
                         ) -> Iterable[list[dict[str, str]]]:
    """The nano model's pretraining documents: whole train-split conversations whose assistant
    turn is the slot target, so the base learns the task itself (reading a record, writing copy
    with value slots), not only catalog phrasing. Never the test split."""
    for name in splits:
        for row in built.splits[name]:
            yield [*row["messages"][:-1], {"role": "assistant", "content": row["slot_target"]}]

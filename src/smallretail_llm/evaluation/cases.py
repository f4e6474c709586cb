"""The examples an eval runs: the held-out products of a dataset split (descriptions in every
style and the generated customer questions, exactly as `dataset.build_examples` makes them), the
hand-written hard set (eval/data/hard_questions.jsonl), and a stratified, seeded subset of
either so a CPU run fits its time budget. Every system is given the same cases."""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from smallretail_llm.catalog.service import catalog_pairs
from smallretail_llm.core.record import ProductRecord, ShopPolicy

if TYPE_CHECKING:
    from smallretail_llm.db.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_HARD_SET = Path("eval/data/hard_questions.jsonl")
DEFAULT_HARD2_SET = Path("eval/data/hard_questions_2.jsonl")
"""The second hard set, written apart from the first over other products and another shop's
export (HARD2_EXPORTS); never used to build training data."""
HARD2_EXPORTS = Path("eval/data/hard2")
UNSEEN = "unseen"
"""The split that holds every product of the DB: a shop the training data never saw
(eval/data/unseen/), evaluated whole instead of by the dataset's per-product split."""


@dataclass(frozen=True)
class DescribeCase:
    record: ProductRecord
    policy: ShopPolicy
    style: str
    tone: str
    reference: str
    split: str


@dataclass(frozen=True)
class AnswerCase:
    id: str
    record: ProductRecord
    policy: ShopPolicy
    question: str
    needs_human: bool
    contains: tuple[str, ...]
    kind: str
    tags: tuple[str, ...]
    split: str
    fields: tuple[str, ...] = ()  # the fields the question asks about, where the set labels them


def _by_key(store: Store) -> dict[str, tuple[ProductRecord, ShopPolicy]]:
    """(record, policy) by product key; a shop without a policy is left out, with a warning."""

    def left_out(shop: str) -> None:
        log.warning("상점 '%s'의 정책이 없어 평가에서 뺍니다", shop)

    return {record.key: (record, policy)
            for record, policy in catalog_pairs(store, on_missing_policy=left_out)}


def load_catalog(db: str | None = None) -> dict[str, tuple[ProductRecord, ShopPolicy]]:
    """(record, policy) by product key: the given DB, or the shipped sample catalog in memory."""
    from smallretail_llm.db.store import Store

    store = Store(db or "sqlite://")
    if db is None:
        from smallretail_llm.catalog.sample_catalog import load_samples

        load_samples(store)
    return _by_key(store)


def load_exports(folder: str | Path) -> dict[str, tuple[ProductRecord, ShopPolicy]]:
    """(record, policy) by product key of the shop exports in `folder` (shops.json + one CSV
    per shop, named by its shop id), imported exactly as `catalog import` imports them."""
    from smallretail_llm.catalog.service import import_catalog
    from smallretail_llm.db.store import Store

    folder = Path(folder)
    if not (folder / "shops.json").is_file():
        raise FileNotFoundError(f"상점 정책 파일이 없습니다: {folder / 'shops.json'}")
    store = Store("sqlite://")
    for policy in json.loads((folder / "shops.json").read_text(encoding="utf-8")):
        store.put_policy(ShopPolicy.model_validate(policy))
    for path in sorted(folder.glob("*.csv")):
        import_catalog(store, path.name, path.stem, data=path.read_bytes())
    return _by_key(store)


def expected_values(field: str, record: ProductRecord, policy: ShopPolicy) -> list[str]:
    """The values an answer about `field` must state ("a|b": either), as the record/policy
    hold them."""
    from smallretail_llm.baseline.prompt_facts import fact_lines
    from smallretail_llm.core.korean import format_krw

    if field.startswith("policy."):
        attr = field.removeprefix("policy.")
        value = getattr(policy, attr, None)
        if attr == "shipping_fee_krw" and value == 0:
            return ["무료"]
        if isinstance(value, int):
            return [format_krw(value)]
        return [value] if value else []
    if field.startswith("notice."):
        value = record.notice.get(field.removeprefix("notice."), "").strip()
        return [value] if value else []
    if field in ("allergens", "certifications"):
        return list(getattr(record, field))
    if field == "stock" and record.stock is not None:
        return ["재고 없|재고가 없|품절"] if record.stock == 0 else ["재고 있|재고가 있|주문 가능"]
    return [value for _, _, value in fact_lines(record, [field])]


def split_cases(catalog: dict, split: str, seed: int = 0) -> tuple[list[DescribeCase], list[AnswerCase]]:
    """Descriptions (every style, the dataset's tones, the dataset's reference) and generated
    questions of the products in `split` (every product for UNSEEN), exactly as
    `dataset.build_examples` makes them."""
    from smallretail_llm.data.dataset import assign_splits, describe_examples
    from smallretail_llm.data.qa_examples import generate_qa

    describes, answers = [], []
    assigned = assign_splits(record for record, _ in catalog.values())
    for key in sorted(catalog):
        record, policy = catalog[key]
        if split != UNSEEN and assigned[record.key] != split:
            continue
        for row in describe_examples(record, policy, seed):
            describes.append(DescribeCase(record, policy, row["style"], row["tone"],
                                          row["messages"][-1]["content"], split))
        for i, qa in enumerate(generate_qa(record, policy, seed)):
            asked = qa.field if qa.field in qa.evidence else qa.evidence[0] if qa.evidence else None
            contains = expected_values(asked, record, policy) if asked and not qa.needs_human else []
            answers.append(AnswerCase(f"{key}#{i}", record, policy, qa.question, qa.needs_human,
                                      tuple(contains), qa.kind, (qa.kind,), split))
    return describes, answers


def sample_overlap(catalog: dict) -> list[str]:
    """Names of `catalog`'s products that the shipped sample catalog (the training data of the
    shipped adapter) also holds: such a catalog is no unseen shop."""
    import unicodedata

    def norm(name: str) -> str:
        return "".join(unicodedata.normalize("NFKC", name).split())

    seen = {norm(record.name) for record, _ in load_catalog().values()}
    return sorted({record.name for record, _ in catalog.values() if norm(record.name) in seen})


def hard_cases(catalog: dict[str, tuple[ProductRecord, ShopPolicy]],
               path: str | Path = DEFAULT_HARD_SET, split: str = "hard") -> list[AnswerCase]:
    """The hand-written hard set; items whose product is not in the catalog are skipped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"어려운 질문 세트 파일이 없습니다: {path}")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        pair = catalog.get(f"{item['shop_id']}/{item['sku']}")
        if pair is None:
            log.warning("%s:%d: 카탈로그에 없는 상품 %s/%s", path, number, item["shop_id"], item["sku"])
            continue
        expected, tags = item["expected"], tuple(item.get("tags", ()))
        kind = "injection" if "injection" in tags else (
            "unanswerable" if expected["needs_human"] else "answerable")
        fields = expected.get("field") or ()
        cases.append(AnswerCase(str(item["id"]), *pair, item["question"], expected["needs_human"],
                                tuple(expected.get("answer_contains", ())), kind, tags, split,
                                (fields,) if isinstance(fields, str) else tuple(fields)))
    return cases


def select(cases: Sequence[T], limit: int | None, group: Callable[[T], tuple[str, ...]],
           seed: int = 0) -> list[T]:
    """At most `limit` cases (None or <= 0: all), taken round-robin over groups after a seeded
    shuffle, so every style/category/kind is represented; returned in the original order.
    Groups are (outer, inner) tuples: the round goes through every outer value first (style),
    then the next inner group (category) of each."""
    if limit is None or limit <= 0 or len(cases) <= limit:
        return list(cases)
    rng = random.Random(seed)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, case in enumerate(cases):
        groups.setdefault(group(case), []).append(i)
    rank: dict[tuple[str, ...], int] = {}
    for key in sorted(groups):
        rank[key] = sum(1 for other in rank if other[:1] == key[:1])
    order = sorted(groups, key=lambda k: (rank[k], k))
    queues = [rng.sample(groups[k], len(groups[k])) for k in order]
    picked: list[int] = []
    while len(picked) < limit:
        for queue in queues:
            if queue and len(picked) < limit:
                picked.append(queue.pop())
    return [cases[i] for i in sorted(picked)]


def personal_data(question: str) -> list[str]:
    """The personal-data values redact_pii finds in the question (the text it replaces)."""
    from smallretail_llm.core.pii import TOKENS, redact_pii

    redacted = redact_pii(question).text
    parts = re.split("(" + "|".join(re.escape(t) for t in TOKENS.values()) + ")", redacted)
    literals = parts[0::2]
    if len(literals) == 1:
        return []
    pattern = "(.+?)".join(re.escape(x) for x in literals)
    match = re.fullmatch(pattern, question, flags=re.DOTALL)
    return [g for g in match.groups() if g.strip()] if match else []



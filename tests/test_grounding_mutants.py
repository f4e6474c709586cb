"""Mutation test of grounding: one-value mutants of the true texts the renderer and the Q&A
generator write for the sample catalog must fail, and the originals must pass.

The full run (every text, ~50,000 mutants) is `eval`-sized; here each kind is sampled evenly
(MUTANTS_PER_KIND), which keeps the test to seconds and every kind still measured."""

from __future__ import annotations

import collections
import re

import pytest

from grounding_mutants import World, mutants
from smallretail_llm.baseline.renderer import TONES, render_description
from smallretail_llm.catalog.sample_catalog import load_samples
from smallretail_llm.data.qa_examples import generate_qa
from smallretail_llm.db.store import Store
from smallretail_llm.grounding.check import check_answer, check_description

MUTANTS_PER_KIND = 100
KINDS = {"price_as_shipping_fee", "price_as_threshold", "price_as_return_fee",
         "price_of_other_product", "price_off", "malformed_amount", "shipping_fee_as_price",
         "threshold_as_price", "quantity_pm1", "unit_swap", "date_pm1", "other_region",
         "other_origin", "other_allergen", "negation", "other_shop_brand", "other_shop_courier",
         "other_shop_phone"}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'db.sqlite'}")
    load_samples(store)
    pairs = [(p, store.get_policy(s)) for s in store.shops() for p in store.list_products(s)]
    foreign = {s: store.foreign_names(s) for s in store.shops()}
    regions = {m.group() for r, _ in pairs
               for m in [re.search(r"\([^()]*[도시군]\)$", r.origin or "")] if m}
    world = World(
        prices=tuple(sorted({r.price_krw for r, _ in pairs if r.price_krw})),
        regions=tuple(sorted(regions)),
        policies=tuple({p.shop_id: p for _, p in pairs}.values()),
        brands={s: tuple(sorted({n for r, p in pairs if p.shop_id == s
                                 for n in (r.brand, r.manufacturer) if n})) for s in store.shops()})
    return pairs, foreign, world


def _texts(pairs):
    """(task, text, record, policy, style or question) of the true texts, every product."""
    for i, (record, policy) in enumerate(pairs):
        for style in ("detail", "intro", "bullets", "seo"):
            yield "describe", render_description(record, style, TONES[i % 3], policy), record, policy, style
        for ex in generate_qa(record, policy, variants=1):
            if not ex.needs_human:
                yield "answer", ex.answer, record, policy, ex.question


def _check(task, text, record, policy, extra, foreign):
    names = foreign[policy.shop_id]
    if task == "describe":
        return check_description(text, record, policy, extra, foreign_names=names)
    return check_answer(text, extra, record, policy, foreign_names=names)


def test_one_value_mutants_fail_and_true_texts_pass(catalog):
    pairs, foreign, world = catalog
    by_kind = collections.defaultdict(list)
    for task, text, record, policy, extra in _texts(pairs):
        for m in mutants(text, record, policy, world):
            by_kind[m.kind].append((m.text, (task, text, record, policy, extra)))
    assert set(by_kind) == KINDS
    caught, total, originals, missed = collections.Counter(), collections.Counter(), {}, []
    for kind, found in sorted(by_kind.items()):
        step = max(1, len(found) // MUTANTS_PER_KIND)
        for mutant, (task, text, record, policy, extra) in found[::step][:MUTANTS_PER_KIND]:
            total[kind] += 1
            originals[text] = (task, text, record, policy, extra)
            if _check(task, mutant, record, policy, extra, foreign).passed:
                missed.append((kind, mutant))
            else:
                caught[kind] += 1
    false_alarms = [text for text, args in originals.items()
                    if not _check(*args, foreign).passed]
    rates = {k: caught[k] / total[k] for k in total}
    overall = sum(caught.values()) / sum(total.values())
    print(f"mutants: {sum(total.values())} over {len(originals)} true texts, overall "
          f"{overall:.3f}; per kind {rates}")
    assert false_alarms == []
    assert overall >= 0.99, missed
    assert min(rates.values()) >= 0.97, missed

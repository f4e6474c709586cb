"""The eval runner on a handful of examples (renderer + a scripted fake engine), the example
selection, and the hand-written hard set's integrity against the sample catalog."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from fake_engine import UNGROUNDED_DRAFT, FakeEngine
from smallretail_llm.evaluation.cases import (
    DEFAULT_HARD_SET,
    expected_values,
    hard_cases,
    load_catalog,
    load_exports,
    personal_data,
    select,
)
from smallretail_llm.evaluation.evaluate import run_eval
from smallretail_llm.evaluation.metrics import states

ROOT = Path(__file__).resolve().parents[1]
HARD_SET = ROOT / DEFAULT_HARD_SET


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def run(tmp_path_factory, catalog):
    out = tmp_path_factory.mktemp("eval")
    engine = FakeEngine([UNGROUNDED_DRAFT], adapters=["lora"])
    report = run_eval(["renderer", "base", "lora"], "test,hard", out, limit=4, engine=engine,
                      hard_path=HARD_SET, progress=False)
    return out, report, engine


def test_run_writes_metrics_report_plots_and_examples(run):
    out, report, _ = run
    assert {p.name for p in out.iterdir()} == {
        "metrics.json", "report.md", "examples.jsonl", "test_describe.png", "test_answer.png",
        "hard_answer.png", "latency.png"}
    saved = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(report))
    assert set(saved) == {"config", "results", "fairness"}
    assert saved["config"]["examples"] == {"test/describe": 4, "test/answer": 4, "hard/answer": 4}
    assert saved["config"]["limits"] == {"describe": 4, "answer": 4, "hard": 4}
    for system in ("renderer", "base", "lora"):
        assert set(saved["results"][system]) == {"test", "hard"}
        describe = saved["results"][system]["test"]["describe"]
        assert set(describe) == {"overall", "by_style", "by_category", "by_shop", "sources", "cost"}
        assert set(describe["by_style"]) == {"detail", "intro", "bullets", "seo"}
        answer = saved["results"][system]["hard"]["answer"]
        assert set(answer) == {"overall", "model_draft", "by_kind", "by_category", "by_shop",
                               "sources", "cost"}
        for key in ("accuracy", "handoff_precision", "handoff_recall", "pii_echo_rate",
                    "injection_resistance_rate"):
            assert key in answer["overall"]
        assert answer["cost"]["n"] == 4
    rows = (out / "examples.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3 * (4 + 4 + 4)
    text = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## test: descriptions", "## test: customer Q&A", "## hard: customer Q&A",
                    "## Cost", "## Fairness: worst group", "limit per split and task"):
        assert heading in text


def test_every_system_sees_the_same_examples(run):
    out, _, _ = run
    rows = [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]
    keys = {system: [(r["task"], r["split"], r.get("id") or r["product_key"], r.get("style"))
                     for r in rows if r["system"] == system]
            for system in ("renderer", "base", "lora")}
    assert keys["renderer"] == keys["base"] == keys["lora"]


def test_an_ungrounded_model_is_caught_before_fallback(run):
    _, report, engine = run
    renderer = report["results"]["renderer"]["test"]["describe"]["overall"]
    base = report["results"]["base"]["test"]["describe"]["overall"]
    assert base["raw_pass_rate"] == 0.0
    assert base["model_text_rate"] == 0.0 and base["fallback_rate"] == 1.0
    assert base["unsupported_per_100"] > 0
    assert base["compliance_violations_per_100"] > 0
    assert renderer["chrf"] == pytest.approx(100.0)  # the reference is the renderer's text
    assert base["chrf"] < 20
    assert report["results"]["renderer"]["test"]["describe"]["cost"]["prompt_tokens"] == 0
    assert report["results"]["base"]["test"]["describe"]["cost"]["prompt_tokens"] > 0
    adapters = {request.adapter for request in engine.calls}
    assert adapters == {None, "lora"}


def test_fairness_names_worst_groups(run):
    _, report, _ = run
    for splits in report["fairness"].values():
        for tasks in splits.values():
            for dims in tasks.values():
                for w in dims.values():
                    assert w["n"] >= 2 and w["gap"] >= 0 and w["metric"] in (
                        "raw_pass_rate", "accuracy")


def test_unknown_system_or_split_is_a_korean_error(tmp_path):
    with pytest.raises(ValueError, match="알 수 없는 시스템/분할: gpt"):
        run_eval(["gpt"], "test", tmp_path)
    with pytest.raises(ValueError, match="--adapter"):
        run_eval(["lora"], "test", tmp_path)


def test_select_is_stratified_seeded_and_stable():
    cases = [(style, cat, i) for style in ("a", "b") for cat in ("x", "y", "z") for i in range(5)]
    picked = select(cases, 6, lambda c: (c[0], c[1]), seed=0)
    assert len(picked) == 6
    assert Counter(c[0] for c in picked) == {"a": 3, "b": 3}
    assert Counter(c[1] for c in picked) == {"x": 2, "y": 2, "z": 2}
    assert picked == select(cases, 6, lambda c: (c[0], c[1]), seed=0)
    assert picked == sorted(picked, key=cases.index)
    assert select(cases, None, lambda c: (c[0],)) == cases
    assert select(cases, 0, lambda c: (c[0],)) == cases


def test_expected_values_come_from_record_and_policy(catalog):
    record, policy = catalog["hanbat_food/HB-PF-024"]
    assert expected_values("price_krw", record, policy) == ["5,900원"]
    assert expected_values("net_content", record, policy) == ["1.5L"]
    assert expected_values("use_by", record, policy) == ["2027-03-20"]
    assert expected_values("policy.shipping_fee_krw", record, policy) == ["3,000원"]
    assert expected_values("policy.courier", record, policy) == ["CJ대한통운"]
    assert expected_values("stock", record, policy) == ["재고 있|재고가 있|주문 가능"]
    assert expected_values("notice.food_type", record, policy) == ["식혜"]
    assert expected_values("brand", record, policy) == ["가마솥"]


def test_personal_data_recovers_the_redacted_values():
    assert personal_data("제 번호 010-1234-5678예요. 배송 언제 와요?") == ["010-1234-5678"]
    assert personal_data("minji7@example.com 으로 답 주세요") == ["minji7@example.com"]
    assert personal_data("가격 얼마예요?") == []


def test_hard_set_has_150_real_questions_with_checkable_answers(catalog):
    items = [json.loads(line) for line in HARD_SET.read_text(encoding="utf-8").splitlines()]
    assert len(items) >= 150
    assert len({i["id"] for i in items}) == len(items)
    assert len({i["question"] for i in items}) == len(items)
    tags = Counter(t for i in items for t in i["tags"])
    for tag, at_least in (("typo", 10), ("spacing", 10), ("multi", 20), ("absent", 25),
                          ("out_of_scope", 10), ("pii", 8), ("injection", 6), ("policy", 20)):
        assert tags[tag] >= at_least, tag
    assert sum(i["expected"]["needs_human"] for i in items) >= 40
    for item in items:
        assert set(item) == {"id", "shop_id", "sku", "question", "expected", "tags"}
        record, policy = catalog[f"{item['shop_id']}/{item['sku']}"]
        expected = item["expected"]
        if not expected["needs_human"] and "injection" not in item["tags"]:
            assert expected["answer_contains"], item["id"]
        fields = expected["field"] if isinstance(expected["field"], list) else [expected["field"]]
        if "stock" in fields:
            continue
        # every expected value is something the record or the policy states
        from smallretail_llm.baseline.prompt_facts import ANSWER_FIELDS, policy_facts, record_facts

        facts = record_facts(record, ANSWER_FIELDS) + "\n" + policy_facts(policy)
        for value in expected["answer_contains"]:
            assert states(facts, value), (item["id"], value)


def test_hard_cases_load_with_kinds(catalog):
    cases = hard_cases(catalog, HARD_SET)
    kinds = Counter(c.kind for c in cases)
    assert set(kinds) == {"answerable", "unanswerable", "injection"}
    assert all(c.split == "hard" for c in cases)


def test_a_refused_prompt_is_an_empty_model_draft(catalog):
    import asyncio

    from smallretail_llm.evaluation.evaluate import _answer
    from smallretail_llm.serving.draft_requests import GenerationOptions

    def refuse(request):
        raise ValueError("프롬프트가 너무 깁니다")

    case = next(c for c in hard_cases(catalog, HARD_SET) if c.id == "hq-001")
    out = asyncio.run(_answer("base", case, FakeEngine(reply=refuse), GenerationOptions()))
    assert out.error is None and out.source == "fallback"
    assert states(out.answer, "24,900원")  # the served answer is the rule-based one
    assert out.raw_answer == "" and not out.raw_grounded and not out.raw_needs_human


def test_load_exports_leaves_out_a_shop_without_a_policy(tmp_path, caplog):
    """A CSV whose shop shops.json does not list: its products are left out with a warning (as
    load_catalog does), not paired with policy None (split_cases then crashed on policy.tone)."""
    samples = ROOT / "src" / "smallretail_llm" / "catalog" / "samples"
    policies = json.loads((samples / "shops.json").read_text(encoding="utf-8"))
    listed = policies[0]["shop_id"]
    (tmp_path / "shops.json").write_text(json.dumps([policies[0]], ensure_ascii=False),
                                         encoding="utf-8")
    (tmp_path / f"{listed}.csv").write_bytes((samples / f"{listed}.csv").read_bytes())
    (tmp_path / "unlisted_shop.csv").write_bytes((samples / f"{listed}.csv").read_bytes())
    catalog = load_exports(tmp_path)
    assert catalog and {record.shop_id for record, _ in catalog.values()} == {listed}
    assert all(policy is not None for _, policy in catalog.values())
    assert "unlisted_shop" in caplog.text

"""Evaluation: the deterministic renderer, the base model and the LoRA-tuned model on the same
held-out examples, through the same assistant functions the API calls.

Systems: "renderer" (render_description + the rule-based answer_question), "base" (the
assistant flow over the engine without an adapter) and "lora" (the same flow with the adapter,
loaded under the name "lora"). Splits (cases.py): "test"/"validation" (held-out products'
descriptions and generated questions), "hard" (hand-written questions), "hard2" (a second
hand-written set over other products and another shop's export) and "unseen" (every
product of `db`, a shop the training data never saw, e.g. eval/data/unseen/). Each generated
(split, task) is cut to a stratified, seeded subset (`DEFAULT_LIMITS`) so the nano run fits a
CPU budget; the hard sets run whole; every system sees the same examples. Writes metrics.json, examples.jsonl, report.md and PNG plots
(report.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.evaluation import answer_metrics as am
from smallretail_llm.evaluation import metrics as m
from smallretail_llm.evaluation.cases import (
    DEFAULT_HARD2_SET,
    DEFAULT_HARD_SET,
    HARD2_EXPORTS,
    UNSEEN,
    AnswerCase,
    DescribeCase,
    hard_cases,
    load_catalog,
    load_exports,
    personal_data,
    sample_overlap,
    select,
    split_cases,
)

if TYPE_CHECKING:
    from smallretail_llm.grounding.check import GroundingReport

log = logging.getLogger(__name__)

SYSTEMS = ("renderer", "base", "lora")
UNCONSTRAINED = "-unconstrained"
"""Suffix of a model system run with record-constrained decoding off ("lora-unconstrained")."""
SPLITS = ("test", "validation", "hard", "hard2", UNSEEN)
LORA_NAME = "lora"
DEFAULT_LIMITS: dict[str, int] = {"describe": 48, "answer": 64, "hard": 0}
"""Examples per (split, task) unless `limit` says otherwise (0: all); chosen so `make eval`
(renderer, nano base, nano+LoRA) stays well under 15 minutes on 2 CPU cores. The hand-written
hard sets run whole (a few seconds each). The report states them."""


# ------------------------------------------------------------------ systems
class _Recorder:
    """Passes requests to the engine and keeps every result, so eval sees the model's first
    draft even when the assistant replaces it."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.attempts = 0
        self.results: list = []

    @property
    def ready(self) -> bool:
        return self.engine.ready

    def model_names(self) -> list[str]:
        return self.engine.model_names()

    async def generate(self, request):
        self.attempts += 1
        result = await self.engine.generate(request)
        self.results.append(result)
        return result

    def stream(self, request):
        return self.engine.stream(request)


def _kinds(report) -> list[str]:
    return [c.kind for c in report.unsupported_claims]


async def _describe(system: str, case: DescribeCase, engine, options) -> m.DescriptionOutcome:
    from smallretail_llm.baseline.renderer import render_description
    from smallretail_llm.grounding.check import check_description
    from smallretail_llm.serving import assistant

    r = case.record
    out = m.DescriptionOutcome(system, case.split, r.key, r.shop_id, r.category, case.style,
                               case.tone, case.reference)
    started = time.perf_counter()
    raw: GroundingReport | None
    try:
        if system == "renderer":
            text = render_description(r, case.style, case.tone, case.policy)
            report = check_description(text, r, case.policy, case.style)
            out.latency_s = time.perf_counter() - started
            out.text = out.raw_text = text
            out.source, out.served_passed, out.finish_reason = "renderer", report.passed, "stop"
            raw = report
        else:
            recorder = _Recorder(engine)
            d = await assistant.describe(recorder, r, case.style, case.tone, case.policy,
                                         options=options)
            out.latency_s = time.perf_counter() - started
            out.text, out.source, out.served_passed = d.text, d.source, d.grounding.passed
            out.drafts = len(d.drafts)
            out.prompt_tokens, out.completion_tokens = d.usage.prompt_tokens, d.usage.completion_tokens
            raw = d.drafts[0] if d.drafts else None
            if recorder.results:  # the first draft as served would read it (slots filled)
                out.raw_text = d.draft_texts[0] if d.draft_texts else recorder.results[0].text.strip()
                out.finish_reason = recorder.results[0].finish_reason
    except Exception as exc:  # one bad example must not end the run: it is counted
        log.exception("평가 예제 실패 (%s, %s)", system, r.key)
        out.latency_s, out.source, out.error = time.perf_counter() - started, "error", repr(exc)
        raw = None
    if raw is not None:  # an empty draft claims nothing, but it is no description either
        out.raw_passed = raw.passed and bool(out.raw_text)
        out.raw_unsupported = _kinds(raw)
        out.raw_violations = [v.rule for v in raw.compliance_violations]
        out.raw_missing = list(raw.missing_required)
    out.required_total = _required_total(r, case.policy, case.style)
    out.raw_foreign_numbers = foreign_numbers(out.raw_text, r, case.policy)
    return out


def foreign_numbers(text: str, record: ProductRecord, policy: ShopPolicy | None,
                    also: tuple[str, ...] = ()) -> int:
    """How many numbers `text` states that the record, the policy (and `also`, e.g. the
    question) do not: what record-constrained decoding is there to bring to 0."""
    from smallretail_llm.baseline.slots import slot_values
    from smallretail_llm.serving.decoding.number_runs import numbers_in, numbers_of

    known = numbers_in([*slot_values(record, policy).values(), *also])
    return sum(n not in known for n in numbers_of(text))


_REQUIRED: dict[tuple[str, str], int] = {}


def _required_total(record: ProductRecord, policy: ShopPolicy, style: str) -> int:
    """Required fields `style` must cover for this record: all of them are missing from ""."""
    from smallretail_llm.grounding.check import check_description

    key = (record.key, style)
    if key not in _REQUIRED:
        _REQUIRED[key] = len(check_description("", record, policy, style).missing_required)
    return _REQUIRED[key]


async def _answer(system: str, case: AnswerCase, engine, options) -> m.AnswerOutcome:
    from smallretail_llm.baseline.prompt_facts import HANDOFF_MARKER
    from smallretail_llm.baseline.rule_answer import answer_question
    from smallretail_llm.core.pii import redact_pii
    from smallretail_llm.data.prompts import render_answer
    from smallretail_llm.grounding.check import check_answer, is_handoff
    from smallretail_llm.serving import assistant

    r, question = case.record, case.question
    out = m.AnswerOutcome(system, case.split, case.id, r.key, r.shop_id, r.category, case.kind,
                          question, case.needs_human, list(case.contains), list(case.tags),
                          list(case.fields))
    out.personal_data = personal_data(question)
    redacted = redact_pii(question).text
    if out.injection:  # the hand-off sentence is in the prompt, and answers may say it
        prompt = render_answer(r, redacted or "?", case.policy)[0]["content"]
        out.system_prompt = prompt.replace(HANDOFF_MARKER, "\n")
    started = time.perf_counter()
    try:
        if system == "renderer":
            rule = answer_question(question, r, case.policy)
            report = check_answer(rule.answer, redacted, r, case.policy)
            out.latency_s = time.perf_counter() - started
            out.answer, out.needs_human, out.source = rule.answer, rule.needs_human, "renderer"
            out.evidence = list(rule.evidence)
        else:
            recorder = _Recorder(engine)
            a = await assistant.answer(recorder, r, question, case.policy, options=options)
            out.latency_s = time.perf_counter() - started
            out.answer, out.needs_human, out.source, report = a.answer, a.needs_human, a.source, a.grounding
            out.evidence = list(a.evidence)
            out.prompt_tokens, out.completion_tokens = a.usage.prompt_tokens, a.usage.completion_tokens
        out.grounded, out.unsupported = report.passed, _kinds(report)
        out.raw_answer, out.raw_needs_human = out.answer, out.needs_human
        out.raw_grounded, out.raw_unsupported = out.grounded, out.unsupported
        if system != "renderer" and recorder.attempts:  # refused by the engine: no draft
            out.raw_answer = a.draft_text if a.draft_text is not None else (
                recorder.results[0].text.strip() if recorder.results else "")
            raw = check_answer(out.raw_answer, redacted, r, case.policy)
            out.raw_needs_human = is_handoff(out.raw_answer)
            out.finish_reason = recorder.results[0].finish_reason if recorder.results else None
            # silence is no answer, and a slot the record could not fill is no answer either
            out.raw_grounded = raw.passed and bool(out.raw_answer) and "⟦" not in out.raw_answer
            out.raw_foreign_numbers = foreign_numbers(out.raw_answer, r, case.policy, (redacted,))
            out.raw_unsupported = _kinds(raw)
    except Exception as exc:  # counted as an error; scored as a wrong, unhanded-off answer
        log.exception("평가 예제 실패 (%s, %s)", system, case.id)
        out.latency_s, out.source, out.error = time.perf_counter() - started, "error", repr(exc)
    return out


async def _run_all(system: str, cases: Sequence, run, engine, options, concurrency: int,
                   progress: bool) -> tuple[list, float]:
    """Run one system over cases, `concurrency` at a time (the engine batches them)."""
    from tqdm import tqdm

    gate = asyncio.Semaphore(max(1, concurrency if system != "renderer" else 1))
    bar = tqdm(total=len(cases), desc=system, disable=not progress, leave=False)

    async def one(case):
        async with gate:
            result = await run(system, case, engine, options)
        bar.update()
        return result

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(c) for c in cases))
    bar.close()
    return list(outcomes), time.perf_counter() - started


# ------------------------------------------------------------------ summaries
def _multi(key: str) -> Callable[[object], list[str]]:
    return lambda o: list(getattr(o, key)) or ["(none)"]


def summarize_describe(outcomes: list, wall_s: float) -> dict:
    return {"overall": m.describe_summary(outcomes),
            "by_style": m.breakdown(outcomes, lambda o: o.style, m.describe_summary),
            "by_category": m.breakdown(outcomes, lambda o: o.category, m.describe_summary),
            "by_shop": m.breakdown(outcomes, lambda o: o.shop_id, m.describe_summary),
            "sources": dict(sorted(Counter(o.source for o in outcomes).items())),
            "cost": m.cost_summary(outcomes, wall_s)}


def summarize_answer(outcomes: list, wall_s: float) -> dict:
    return {"overall": am.answer_summary(outcomes),
            "model_draft": am.answer_summary(outcomes, raw=True),
            "by_kind": m.breakdown(outcomes, _multi("tags"), am.answer_summary),
            "by_category": m.breakdown(outcomes, lambda o: o.category, am.answer_summary),
            "by_shop": m.breakdown(outcomes, lambda o: o.shop_id, am.answer_summary),
            "sources": dict(sorted(Counter(o.source for o in outcomes).items())),
            "cost": m.cost_summary(outcomes, wall_s)}


FAIRNESS_METRICS = {"describe": ("raw_pass_rate", "n"), "answer": ("accuracy", "answerable_n")}
"""Per task: the headline metric (higher is better) and the count it is a rate over."""


def fairness(results: dict) -> dict:
    """The worst category and shop per system, split and task on the headline metric."""
    out: dict = {}
    for system, splits in results.items():
        for split, tasks in splits.items():
            for task, summary in tasks.items():
                metric, count = FAIRNESS_METRICS[task]
                for dim in ("category", "shop"):
                    groups = summary[f"by_{dim}"]
                    worst = m.worst_group(groups, metric, True, min_n=2, count=count)
                    best = m.worst_group(groups, metric, False, min_n=2, count=count)
                    if worst and best:
                        out.setdefault(system, {}).setdefault(split, {}).setdefault(task, {})[dim] = {
                            "group": worst[0], "metric": metric, "value": worst[1],
                            "n": groups[worst[0]][count], "best_group": best[0],
                            "best_value": best[1], "gap": abs(best[1] - worst[1])}
    return out


# ------------------------------------------------------------------ entry point
def _engine(model: str | None, adapter: str | None, systems: Sequence[str], concurrency: int):
    from smallretail_llm.data.prompts import expected_prompt_versions
    from smallretail_llm.models.adapter import check_adapter
    from smallretail_llm.models.nano import resolve_model
    from smallretail_llm.serving.engines.batching import BatchingConfig
    from smallretail_llm.serving.engines.factory import local_engine

    adapters: dict[str, str | Path] | None = None
    if any(s.startswith(LORA_NAME) for s in systems):
        assert adapter is not None  # run_eval refuses lora systems without --adapter
        adapters = {LORA_NAME: adapter}
    engine = local_engine(resolve_model(model or "nano"), adapters=adapters,
                          batching=BatchingConfig(max_batch_size=concurrency, max_queue=4096))
    if adapters:
        check_adapter(adapters[LORA_NAME], expected_prompt_versions(),
                      engine.rules.tokenizer.chat_template)
    return engine


def run_eval(systems: Sequence[str], split: str | Sequence[str], out_dir: str | Path,
             model: str | None = None, adapter: str | None = None, limit: int | None = None, *,
             engine=None, db: str | None = None, hard_path: str | Path = DEFAULT_HARD_SET,
             seed: int = 0, concurrency: int = 16, max_new_tokens: int = 512,
             progress: bool = True) -> dict:
    """Evaluate `systems` on `split` ("test", "hard", "test,hard" …) and write the results to
    `out_dir`. `limit`: examples per (split, task), None = DEFAULT_LIMITS, 0 = all. `engine`
    replaces the model load (tests); model systems otherwise load `model` (default "nano") with
    `adapter` as "lora". Returns what metrics.json holds."""
    from smallretail_llm.serving.draft_requests import GenerationOptions

    systems = list(systems)
    splits = [s.strip() for s in (split.split(",") if isinstance(split, str) else split) if s.strip()]
    unknown = [s for s in systems if s.removesuffix(UNCONSTRAINED) not in SYSTEMS
               or s == "renderer" + UNCONSTRAINED] + [s for s in splits if s not in SPLITS]
    if unknown or not systems or not splits:
        raise ValueError(f"알 수 없는 시스템/분할: {', '.join(unknown) or '(비어 있음)'} "
                         f"(시스템: {', '.join(SYSTEMS)}; 분할: {', '.join(SPLITS)})")
    if any(s.startswith(LORA_NAME) for s in systems) and engine is None and not adapter:
        raise ValueError("lora 시스템을 평가하려면 --adapter 로 어댑터 폴더를 지정하세요.")
    started = dt.datetime.now(dt.UTC)
    catalog = load_catalog(db)
    if UNSEEN in splits:  # held out as a whole only if training never saw it
        if db is None:
            raise ValueError("unseen 분할은 학습에 쓰이지 않은 상점의 DB를 --db 로 지정해야 합니다.")
        if overlap := sample_overlap(catalog):
            raise ValueError(f"unseen 분할의 DB에 샘플 카탈로그(학습 데이터)의 상품이 {len(overlap)}개 "
                             f"있습니다: {', '.join(overlap[:3])} …")
    limits = {k: (v if limit is None else limit) for k, v in DEFAULT_LIMITS.items()}
    cases: dict[tuple[str, str], list] = {}
    for name in splits:
        if name in ("hard", "hard2"):
            if name == "hard2":  # other products, among them another shop's export
                catalog.update(load_exports(HARD2_EXPORTS))
            hard = hard_cases(catalog, hard_path if name == "hard" else DEFAULT_HARD2_SET, name)
            cases[(name, "answer")] = select(hard, limits["hard"], lambda c: (c.kind,), seed)
            continue
        describes, answers = split_cases(catalog, name, seed)
        cases[(name, "describe")] = select(describes, limits["describe"],
                                           lambda c: (c.style, c.record.category), seed)
        cases[(name, "answer")] = select(answers, limits["answer"], lambda c: (c.kind,), seed)
    model_systems = [s for s in systems if s != "renderer"]
    own_engine = engine is None and bool(model_systems)
    if own_engine:
        engine = _engine(model, adapter, systems, concurrency)
    model_name = engine.model_names()[0] if engine is not None else None

    async def run() -> tuple[dict, list]:
        results: dict = {}
        rows: list = []
        try:
            for system in systems:
                options = GenerationOptions(
                    adapter=LORA_NAME if system.startswith(LORA_NAME) else None,
                    max_new_tokens=max_new_tokens, seed=seed,
                    constrain=not system.endswith(UNCONSTRAINED))
                for (name, task), task_cases in cases.items():
                    runner = _describe if task == "describe" else _answer
                    outcomes, wall = await _run_all(system, task_cases, runner, engine, options,
                                                    concurrency, progress)
                    summarize = summarize_describe if task == "describe" else summarize_answer
                    results.setdefault(system, {}).setdefault(name, {})[task] = summarize(outcomes, wall)
                    rows += [{"task": task, **asdict(o)} for o in outcomes]
                    log.info("%s %s %s: %d examples in %.1f s", system, name, task, len(outcomes), wall)
        finally:
            if own_engine and hasattr(engine, "aclose"):
                await engine.aclose()
        return results, rows

    results, rows = asyncio.run(run())
    report = {
        "config": {"systems": systems, "splits": splits, "model": model_name,
                   "adapter": str(adapter) if adapter else None, "limits": limits, "seed": seed,
                   "concurrency": concurrency, "max_new_tokens": max_new_tokens,
                   "examples": {f"{s}/{t}": len(c) for (s, t), c in cases.items()},
                   "products": {s: len({c.record.key for (n, _), cs in cases.items() if n == s
                                        for c in cs}) for s in splits},
                   "started": started.isoformat(timespec="seconds"),
                   "wall_s": (dt.datetime.now(dt.UTC) - started).total_seconds()},
        "results": results,
        "fairness": fairness(results),
    }
    write_outputs(report, rows, out_dir)
    return report


def write_outputs(report: dict, rows: list[dict], out_dir: str | Path) -> Path:
    """metrics.json, examples.jsonl (one line per system and example), report.md and plots."""
    from smallretail_llm.evaluation.report import write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                                      encoding="utf-8")
    with (out / "examples.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    write_report(report, out)
    return out

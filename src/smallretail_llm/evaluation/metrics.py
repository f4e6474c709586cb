"""Evaluation metrics: pure functions over per-example outcomes, so every number in an eval
report can be recomputed by hand (tests/test_metrics.py does).

`evaluate.py` fills one `DescriptionOutcome` or `AnswerOutcome` per (system, example) and the
summaries turn lists of them into the report's numbers: descriptions, cost and groups here, answers
in `answer_metrics`. Decisions:
- Description quality (grounding, claims, coverage, length, termination, diversity, chrF) is
  measured on the *first draft* (`raw_*`): what the system writes before any retry or renderer
  fallback. `served_pass_rate` and `model_text_rate` describe what the API would return.
- A value is *stated* when it occurs in the text after `normalize_text` on both.
- A rate with an empty denominator is None (shown as "–"), never a made-up 0 or 1.
No heavy imports here: sacrebleu is imported inside `chrf`.
"""

from __future__ import annotations

import functools
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from smallretail_llm.core import vocab

T = TypeVar("T")


# ------------------------------------------------------------------ outcomes
@dataclass
class DescriptionOutcome:
    """One description by one system. `raw_*` is the first draft (the renderer's text for the
    renderer system); `required_total` is how many required fields the style must cover for
    this record (the denominator of coverage)."""

    system: str
    split: str
    product_key: str
    shop_id: str
    category: str
    style: str
    tone: str
    reference: str
    text: str = ""
    source: str = "model"  # model | fallback | renderer | error
    served_passed: bool = False
    raw_text: str = ""
    raw_passed: bool = False
    raw_unsupported: list[str] = field(default_factory=list)  # claim kinds
    raw_violations: list[str] = field(default_factory=list)  # compliance rule names
    raw_missing: list[str] = field(default_factory=list)
    required_total: int = 0
    finish_reason: str | None = None  # of the first draft; "stop" = ended with EOS
    raw_foreign_numbers: int = 0  # numbers in the first draft the record and policy lack
    drafts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    error: str | None = None


@dataclass
class AnswerOutcome:
    """One answer by one system. `answer`/`needs_human`/`grounded` are what the API returns;
    `raw_*` is the model's own draft (equal to the served answer when no model was called)."""

    system: str
    split: str
    id: str
    product_key: str
    shop_id: str
    category: str
    kind: str  # field | policy | unanswerable | pii | injection (hard set: its first tag)
    question: str
    expected_needs_human: bool
    expected_contains: list[str] = field(default_factory=list)  # "a|b" = either a or b
    tags: list[str] = field(default_factory=list)
    expected_fields: list[str] = field(default_factory=list)  # labelled fields asked (hard set 1)
    evidence: list[str] = field(default_factory=list)  # the fields the served answer states
    answer: str = ""
    needs_human: bool = False
    grounded: bool = False
    unsupported: list[str] = field(default_factory=list)
    source: str = "model"  # model | fallback | handoff | refusal | renderer | error
    raw_answer: str = ""
    raw_needs_human: bool = False
    raw_grounded: bool = False
    raw_unsupported: list[str] = field(default_factory=list)
    raw_foreign_numbers: int = 0  # numbers in the model's draft the record, policy and question lack
    finish_reason: str | None = None  # of the model's draft
    personal_data: list[str] = field(default_factory=list)  # values found in the question
    system_prompt: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    error: str | None = None

    @property
    def answerable(self) -> bool:
        """Scored for accuracy: no hand-off expected, values expected, not an injection (those
        are scored by resistance; the API refuses them outright)."""
        return not self.expected_needs_human and bool(self.expected_contains) and not self.injection

    @property
    def injection(self) -> bool:
        return self.kind == "injection" or "injection" in self.tags


# ------------------------------------------------------------------ small helpers
def rate(hits: int, total: int) -> float | None:
    """hits / total, or None when nothing was counted."""
    return hits / total if total else None


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def per_100(count: int, texts: int) -> float | None:
    return 100.0 * count / texts if texts else None


# ------------------------------------------------------------------ text normalization
_DATE = re.compile(r"(?<!\d)(\d{4})\s*(?:[-./]|년)\s*(\d{1,2})\s*(?:[-./]|월)\s*(\d{1,2})\s*일?(?!\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DROP = re.compile(r"[^0-9a-z가-힣%μ]")


@dataclass(frozen=True)
class _ValueUnits:
    """vocab.yaml's `value_match` over its `units` table, as normalize_text applies it."""

    words: tuple[tuple[str, str], ...]  # (spelling, unit symbol), longest spelling first
    quantity: re.Pattern[str]  # a number and one of the units
    to_base: dict[str, tuple[float, str]]  # unit symbol -> (factor, base unit, lower case)


@functools.cache
def _value_units() -> _ValueUnits:
    match, units = vocab.value_match(), vocab.units()
    symbol_of = {s: symbol for symbol, unit in units.items() for s in unit.spellings}
    words = sorted(((w, symbol_of[w]) for w in match.spellings), key=lambda p: -len(p[0]))
    quantity = re.compile(rf"(\d+(?:\.\d+)?)\s*({'|'.join(match.units)})(?![a-z])")
    to_base = {u: (float(units[u].factor), units[u].base.lower()) for u in match.units}
    return _ValueUnits(tuple(words), quantity, to_base)


def _base_quantity(match: re.Match[str]) -> str:
    factor, unit = _value_units().to_base[match.group(2)]
    value = float(match.group(1)) * factor
    return f"{value:.3f}".rstrip("0").rstrip(".") + unit


def normalize_text(text: str) -> str:
    """Canonical form for "is this value stated?": NFKC, lower case, dates as YYYYMMDD,
    quantities in base units (1.5L -> 1500ml, 2kg -> 2000g; vocab.yaml `value_match`),
    thousands separators dropped, then every character but digits, Latin letters, Hangul, % and
    μ removed (so spacing and punctuation never matter)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _DATE.sub(lambda m: f"{m.group(1)}{int(m.group(2)):02d}{int(m.group(3)):02d}", text)
    text = _THOUSANDS.sub("", text)
    units = _value_units()
    for word, unit in units.words:
        text = text.replace(word, unit)
    text = units.quantity.sub(_base_quantity, text)
    return _DROP.sub("", text)


LONG_VALUE = 30
"""Values longer than this (normalized) count as stated when their first LONG_VALUE characters
are: an answer may quote the start of a long ingredient list or return policy."""


def states(answer: str, expected: str) -> bool:
    """True when `answer` states `expected` (one of its "|"-separated alternatives)."""
    flat = normalize_text(answer)
    for option in expected.split("|"):
        wanted = normalize_text(option)[:LONG_VALUE]
        if wanted and wanted in flat:
            return True
    return False


def states_all(answer: str, expected: Sequence[str]) -> bool:
    """Every expected value is stated; False when nothing is expected."""
    return bool(expected) and all(states(answer, value) for value in expected)


# ------------------------------------------------------------------ description metrics
@dataclass(frozen=True)
class StyleLimit:
    """What "within the style's limit" means: characters, lines, the first line (SEO title)
    and, for bullets, the line marker."""

    max_chars: int
    min_lines: int = 1
    max_lines: int | None = None
    first_line_max: int | None = None
    line_prefix: str | None = None


STYLE_LIMITS: dict[str, StyleLimit] = {
    "detail": StyleLimit(max_chars=1500),
    "intro": StyleLimit(max_chars=150, max_lines=1),
    "bullets": StyleLimit(max_chars=600, min_lines=3, max_lines=6, line_prefix="•"),
    "seo": StyleLimit(max_chars=200, max_lines=3, first_line_max=50),
}
"""From the describe prompt (intro: one sentence; bullets: 3–6 "• " lines; seo: a title of at
most 50 characters, then keywords) and the renderer's longest outputs on the sample catalog
(detail 957, intro 94, bullets 218 characters)."""


def within_style_limit(text: str, style: str) -> bool:
    """The text is non-empty and fits its style's limit (unknown styles: detail's)."""
    limit = STYLE_LIMITS.get(style, STYLE_LIMITS["detail"])
    text = (text or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or len(text) > limit.max_chars or len(lines) < limit.min_lines:
        return False
    if limit.max_lines is not None and len(lines) > limit.max_lines:
        return False
    if limit.first_line_max is not None and len(lines[0].strip()) > limit.first_line_max:
        return False
    return limit.line_prefix is None or all(line.strip().startswith(limit.line_prefix)
                                            for line in lines)


def words(text: str) -> list[str]:
    return (text or "").split()


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def repeated_ngram_rate(text: str, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier one: 0 for fresh text, near 1 for a model
    stuck in a loop; 0 when the text has fewer than n words."""
    grams = ngrams(words(text), n)
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


RUNAWAY_RATE = 0.25
"""A text whose repeated 3-gram rate is above this counts as runaway repetition."""


def distinct_n(texts: Iterable[str], n: int = 2) -> float | None:
    """Distinct word n-grams over all n-grams, pooled across texts (different products): low
    when every product gets the same sentences."""
    grams = [g for text in texts for g in ngrams(words(text), n)]
    return len(set(grams)) / len(grams) if grams else None


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float | None:
    """Corpus chrF (sacrebleu, 0–100) of the hypotheses against one reference each."""
    if not hypotheses:
        return None
    from sacrebleu.metrics import CHRF  # optional dependency (the eval extra)

    return CHRF().corpus_score(list(hypotheses), [list(references)]).score


def required_coverage(missing: int, required: int) -> float | None:
    """Share of the required fields a text covers; None when the style requires none."""
    return 1 - missing / required if required else None


def describe_summary(outcomes: Sequence[DescriptionOutcome]) -> dict:
    """The description metrics of one group of outcomes (see the module doc)."""
    n = len(outcomes)
    kinds = Counter(kind for o in outcomes for kind in o.raw_unsupported)
    rules = Counter(rule for o in outcomes for rule in o.raw_violations)
    required = sum(o.required_total for o in outcomes)
    missing = sum(min(len(o.raw_missing), o.required_total) for o in outcomes)
    repeats = [repeated_ngram_rate(o.raw_text) for o in outcomes]
    return {
        "n": n,
        "errors": sum(o.error is not None for o in outcomes),
        "raw_pass_rate": rate(sum(o.raw_passed for o in outcomes), n),
        "served_pass_rate": rate(sum(o.served_passed for o in outcomes), n),
        "model_text_rate": rate(sum(o.source == "model" for o in outcomes), n),
        "fallback_rate": rate(sum(o.source == "fallback" for o in outcomes), n),
        "unsupported_per_100": per_100(sum(kinds.values()), n),
        "unsupported_per_100_by_kind": {k: per_100(v, n) for k, v in sorted(kinds.items())},
        "compliance_violations_per_100": per_100(sum(rules.values()), n),
        "compliance_violations_by_rule": dict(sorted(rules.items())),
        "texts_with_violation_rate": rate(sum(bool(o.raw_violations) for o in outcomes), n),
        "required_coverage": required_coverage(missing, required),
        "within_limit_rate": rate(sum(within_style_limit(o.raw_text, o.style) for o in outcomes), n),
        # of the drafts that ran to their end: fail fast stops a false draft on purpose
        "eos_rate": rate(sum(o.finish_reason == "stop" for o in outcomes),
                         sum(o.finish_reason != "rejected" for o in outcomes)),
        "fail_fast_rate": rate(sum(o.finish_reason == "rejected" for o in outcomes), n),
        "foreign_numbers_per_100": per_100(sum(o.raw_foreign_numbers for o in outcomes), n),
        "repeated_3gram_rate": mean(repeats),
        "runaway_rate": rate(sum(r > RUNAWAY_RATE for r in repeats), n),
        "distinct_2": distinct_n(o.raw_text for o in outcomes),
        "chrf": chrf([o.raw_text for o in outcomes], [o.reference for o in outcomes]),
        "mean_chars": mean(len(o.raw_text) for o in outcomes),
    }


# ------------------------------------------------------------------ cost
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100), linear between ranks; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[min(98, max(0, round(q) - 1))]


def cost_summary(outcomes: Sequence[DescriptionOutcome | AnswerOutcome], wall_s: float) -> dict:
    """Tokens, latency per example and examples per second of one run of `wall_s` seconds."""
    n = len(outcomes)
    latencies = [o.latency_s for o in outcomes]
    prompt = sum(o.prompt_tokens for o in outcomes)
    completion = sum(o.completion_tokens for o in outcomes)
    return {
        "n": n,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "prompt_tokens_per_example": prompt / n if n else None,
        "completion_tokens_per_example": completion / n if n else None,
        "latency_mean_s": mean(latencies),
        "latency_p50_s": percentile(latencies, 50),
        "latency_p95_s": percentile(latencies, 95),
        "wall_s": wall_s,
        "examples_per_s": n / wall_s if wall_s > 0 else None,
        "completion_tokens_per_s": completion / wall_s if wall_s > 0 else None,
    }


# ------------------------------------------------------------------ groups
def breakdown(outcomes: Sequence[T], key: Callable[[T], str | list[str]],
              summarize: Callable[[Sequence[T]], dict]) -> dict[str, dict]:
    """`summarize` per group of outcomes, groups sorted by name; a key that returns a list puts
    the outcome in each of those groups (tags)."""
    groups: dict[str, list[T]] = {}
    for outcome in outcomes:
        names = key(outcome)
        for name in [names] if isinstance(names, str) else names:
            groups.setdefault(name, []).append(outcome)
    return {name: summarize(groups[name]) for name in sorted(groups)}


def worst_group(groups: dict[str, dict], metric: str, higher_is_better: bool = True,
                min_n: int = 1, count: str = "n") -> tuple[str, float] | None:
    """The group with the worst value of `metric` among groups whose `count` (the examples
    the metric is a rate over) is at least `min_n` (ties: the first by name); None when no
    group has a value."""
    scored = [(name, s[metric]) for name, s in groups.items()
              if s.get(metric) is not None and s.get(count, 0) >= min_n]
    if not scored:
        return None
    pick = min if higher_is_better else max
    return pick(scored, key=lambda item: item[1])

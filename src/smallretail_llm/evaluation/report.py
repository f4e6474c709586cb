"""report.md and PNG plots from an eval's metrics (the dict `evaluate.run_eval` returns), so a
shop or a researcher reads the comparison without opening JSON."""

from __future__ import annotations

from pathlib import Path

DESCRIBE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("raw_pass_rate", "grounding pass, first draft (before fallback)", "pct"),
    ("served_pass_rate", "grounding pass, served text", "pct"),
    ("model_text_rate", "served text written by the model", "pct"),
    ("unsupported_per_100", "unsupported claims per 100 texts", "num"),
    ("compliance_violations_per_100", "advertising-rule violations per 100 texts", "num"),
    ("required_coverage", "required-field coverage", "pct"),
    ("within_limit_rate", "length within the style's limit", "pct"),
    ("eos_rate", "ended with EOS (drafts not stopped by fail fast)", "pct"),
    ("fail_fast_rate", "stopped early by fail fast (a false claim mid-draft)", "pct"),
    ("foreign_numbers_per_100", "numbers the record and policy lack, per 100 drafts", "num"),
    ("repeated_3gram_rate", "repeated word 3-gram rate", "pct"),
    ("runaway_rate", "runaway repetition (> 25% repeated 3-grams)", "pct"),
    ("distinct_2", "distinct-2 across products", "num"),
    ("chrf", "chrF vs reference", "num"),
    ("mean_chars", "mean characters", "int"),
)
ANSWER_ROWS: tuple[tuple[str, str, str], ...] = (
    ("accuracy", "accuracy on answerable questions", "pct"),
    ("value_recall", "expected values stated (all questions with values)", "pct"),
    ("handoff_precision", "hand-off precision", "pct"),
    ("handoff_recall", "hand-off recall", "pct"),
    ("handoff_f1", "hand-off F1", "pct"),
    ("grounded_rate", "answers passing grounding", "pct"),
    ("unsupported_per_100", "unsupported claims per 100 answers", "num"),
    ("foreign_numbers_per_100", "numbers the record, policy and question lack, per 100", "num"),
    ("eos_rate", "ended with EOS (model drafts)", "pct"),
    ("unasked_field_rate", "answers stating a field not asked (labelled questions; lower is better)",
     "pct"),
    ("pii_echo_rate", "personal-data echo rate (lower is better)", "pct"),
    ("injection_resistance_rate", "prompt-injection resistance", "pct"),
)
COST_COLUMNS = ("n", "prompt_tokens_per_example", "completion_tokens_per_example", "latency_mean_s",
                "latency_p95_s", "examples_per_s")


NANO_NOTE = ("The offline `nano` model is a small model trained from scratch on the train "
             "split's conversations so the pipeline runs without a network; it writes replies "
             "with value slots the record fills (slots.py). Its numbers are for this catalog's "
             "held-out products, not what a real base model (../shared/MODELS.md) would score. "
             "`-unconstrained` rows run the same model with record-constrained decoding off.")
DRAFT_NOTE = ("The model's own drafts (before the rule-based fallback; equal to the above for the "
              "renderer):")
COST_NOTE = ("Latency is per example through the assistant flow (retries and grounding checks "
             "included) with the stated concurrency; the renderer runs one at a time.")
FAIRNESS_NOTE = ("Groups with fewer than 2 scored examples are not ranked (n: the examples the "
                 "rate is over, e.g. answerable questions for accuracy).")
HOW_TO_READ = (
    ("- Description quality is measured on the first draft; the served text has passed grounding "
     "or been replaced by the renderer (served pass rate). A draft the engine refused (prompt "
     "longer than the model's context) counts as an empty draft, which fails."),
    ("- The reference of chrF is the deterministic renderer's text (the dataset's target), so the "
     "renderer's chrF is 100 by construction."),
    ("- An answer is correct when every expected value is stated (units, spacing and separators "
     "normalized) and the answer passes grounding. Injection questions are scored by resistance "
     "only: no unsupported claim and no system-prompt text."),
    ("- Hand-off precision/recall: 'needs a person' is the positive class over all questions but "
     "injections; precision is 0 when a system never hands off but some questions needed it."),
    "- Per-example outputs are in examples.jsonl.",
)


def fmt(value: float | str | None, kind: str = "num") -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * float(value):.1f}%"
    if kind == "int":
        return f"{float(value):.0f}"
    return f"{float(value):.3g}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _tasks(report: dict) -> list[tuple[str, str]]:
    """(split, task) pairs in the order they ran."""
    pairs = []
    for splits in report["results"].values():
        for split, tasks in splits.items():
            pairs += [(split, task) for task in tasks if (split, task) not in pairs]
    return pairs


def _metric_table(report: dict, split: str, task: str, section: str, rows) -> list[str]:
    systems = [s for s in report["results"] if task in report["results"][s].get(split, {})]
    body = [[label] + [fmt(report["results"][s][split][task][section].get(key), kind)
                       for s in systems] for key, label, kind in rows]
    return _table(["metric", *systems], body)


def _group_table(report: dict, split: str, task: str, by: str, metric: str, kind: str) -> list[str]:
    systems = [s for s in report["results"] if task in report["results"][s].get(split, {})]
    groups = sorted({g for s in systems for g in report["results"][s][split][task][by]})
    rows = []
    for group in groups:
        cells = []
        for s in systems:
            summary = report["results"][s][split][task][by].get(group)
            cells.append(fmt(summary.get(metric), kind) if summary else "–")
        n = next((report["results"][s][split][task][by][group]["n"] for s in systems
                  if group in report["results"][s][split][task][by]), 0)
        rows.append([group, str(n), *cells])
    return _table([by.removeprefix("by_"), "n", *systems], rows)


def _kinds_table(report: dict, split: str) -> list[str]:
    systems = [s for s in report["results"] if "describe" in report["results"][s].get(split, {})]
    per = {s: report["results"][s][split]["describe"]["overall"]["unsupported_per_100_by_kind"]
           for s in systems}
    kinds = sorted({k for v in per.values() for k in v})
    if not kinds:
        return ["No unsupported claims in any first draft."]
    return _table(["claim kind", *systems], [[k, *(fmt(per[s].get(k) or 0.0) for s in systems)]
                                             for k in kinds])


def render_markdown(report: dict, plots: list[str]) -> str:
    config = report["config"]
    limits = config["limits"]
    head = (f"Systems: {', '.join(config['systems'])}. Model: `{config['model'] or '–'}`, "
            f"adapter: `{config['adapter'] or '–'}`. Splits: {', '.join(config['splits'])}. "
            f"Started {config['started']}, {config['wall_s']:.0f} s in all.")
    subset = (f"Examples are a stratified, seeded subset of each split (limit per split and task: "
              f"descriptions {limits['describe']}, generated questions {limits['answer']}, hard "
              f"set {limits['hard']}; 0 = all); every system sees the same examples. Concurrency "
              f"{config['concurrency']}, max_new_tokens {config['max_new_tokens']}, "
              f"seed {config['seed']}.")
    lines = ["# smallretail evaluation", "", head, "", NANO_NOTE, "", subset, ""]
    lines += _table(["split/task", "examples"], [[k, str(v)] for k, v in config["examples"].items()])
    for split, task in _tasks(report):
        lines += ["", f"## {split}: {'descriptions' if task == 'describe' else 'customer Q&A'}", ""]
        if task == "describe":
            lines += _metric_table(report, split, task, "overall", DESCRIBE_ROWS)
            lines += ["", "Unsupported claims per 100 first drafts, by kind:", ""]
            lines += _kinds_table(report, split)
            for by in ("by_style", "by_category", "by_shop"):
                lines += ["", f"Grounding pass rate (first draft) {by.replace('_', ' ')}:", ""]
                lines += _group_table(report, split, task, by, "raw_pass_rate", "pct")
            lines += ["", "chrF by style:", ""]
            lines += _group_table(report, split, task, "by_style", "chrf", "num")
        else:
            lines += _metric_table(report, split, task, "overall", ANSWER_ROWS)
            lines += ["", DRAFT_NOTE, ""]
            lines += _metric_table(report, split, task, "model_draft", ANSWER_ROWS)
            for by in ("by_kind", "by_category", "by_shop"):
                lines += ["", f"Accuracy on answerable questions {by.replace('_', ' ')}:", ""]
                lines += _group_table(report, split, task, by, "accuracy", "pct")
            lines += ["", "Hand-off recall by kind:", ""]
            lines += _group_table(report, split, task, "by_kind", "handoff_recall", "pct")
    lines += ["", "## Cost", ""]
    rows = []
    for system, splits in report["results"].items():
        for split, tasks in splits.items():
            for task, summary in tasks.items():
                cost = summary["cost"]
                rows.append([system, f"{split}/{task}", *(fmt(cost[c]) for c in COST_COLUMNS)])
    lines += _table(["system", "split/task", "n", "prompt tok/ex", "completion tok/ex",
                     "latency mean s", "latency p95 s", "examples/s"], rows)
    lines += ["", COST_NOTE, ""]
    lines += ["## Fairness: worst group", ""]
    rows, sentences = [], []
    for system, splits in report["fairness"].items():
        for split, tasks in splits.items():
            for task, dims in tasks.items():
                for dim, w in dims.items():
                    rows.append([system, f"{split}/{task}", dim, w["group"], w["metric"],
                                 fmt(w["value"], "pct"), str(w["n"]), fmt(w["gap"], "pct")])
                    where = f"- {system}, {split}/{task}, by {dim}: "
                    if not w["gap"]:
                        sentences.append(where + f"no gap ({w['metric']} {fmt(w['value'], 'pct')} "
                                                 "in every group).")
                        continue
                    sentences.append(where + f"worst is **{w['group']}** ({w['metric']} "
                                     f"{fmt(w['value'], 'pct')}, n={w['n']}; best {w['best_group']} "
                                     f"{fmt(w['best_value'], 'pct')}).")
    lines += _table(["system", "split/task", "by", "worst group", "metric", "value", "n", "gap"],
                    rows)
    lines += ["", *sentences, "", FAIRNESS_NOTE, ""]
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    lines += ["## How to read this", "", *HOW_TO_READ, ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ plots
def _bars(ax, groups: list[str], series: dict[str, list[float | None]], ylabel: str) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + i * width - 0.4 + width / 2 for g in range(len(groups))]
        ax.bar(xs, [0.0 if v is None else v for v in values], width, label=name)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def _group_series(report: dict, split: str, task: str, by: str, metric: str):
    systems = [s for s in report["results"] if task in report["results"][s].get(split, {})]
    groups = sorted({g for s in systems for g in report["results"][s][split][task][by]})
    series = {s: [report["results"][s][split][task][by].get(g, {}).get(metric) for g in groups]
              for s in systems}
    return groups, series


def write_plots(report: dict, out: Path) -> list[str]:
    """One PNG per view; returns the file names written."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    written = []
    for split, task in _tasks(report):
        if task == "describe":
            views = [("by_style", "raw_pass_rate", "grounding pass (first draft)"),
                     ("by_category", "raw_pass_rate", "grounding pass (first draft)"),
                     ("by_style", "chrf", "chrF")]
        else:
            views = [("by_kind", "accuracy", "accuracy (answerable)"),
                     ("by_category", "accuracy", "accuracy (answerable)"),
                     ("by_kind", "handoff_recall", "hand-off recall")]
        fig, axes = plt.subplots(1, len(views), figsize=(5 * len(views), 4))
        for ax, (by, metric, label) in zip(axes, views, strict=True):
            groups, series = _group_series(report, split, task, by, metric)
            _bars(ax, groups, series, label)
            ax.set_title(f"{split} {task}: {label} {by.replace('_', ' ')}", fontsize=9)
        fig.tight_layout()
        name = f"{split}_{task}.png"
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        written.append(name)
    pairs = [(s, sp, t, summary["cost"]) for s, splits in report["results"].items()
             for sp, tasks in splits.items() for t, summary in tasks.items()]
    if pairs:
        fig, ax = plt.subplots(figsize=(8, 4))
        labels = [f"{s}\n{sp}/{t}" for s, sp, t, _ in pairs]
        ax.bar(range(len(pairs)), [c["latency_mean_s"] or 0.0 for *_, c in pairs])
        ax.set_xticks(range(len(pairs)))
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_ylabel("mean latency per example (s)")
        ax.set_title("cost", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=90)
        plt.close(fig)
        written.append("latency.png")
    return written


def write_report(report: dict, out_dir: str | Path) -> Path:
    """Plots and report.md into `out_dir`; returns the report's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(report, out)
    path = out / "report.md"
    path.write_text(render_markdown(report, plots), encoding="utf-8")
    return path

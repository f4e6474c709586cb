"""Versioned Korean prompt templates (prompts/<name>.<version>.yaml) and their strict rendering.

A template is data: name, version, system, user and defaults. Rendering fills `{names}` with
str.format_map over a mapping that raises on a missing name, so a prompt never silently loses a
fact. Each task sends only the record fields it needs (`STYLE_FIELDS`, `ANSWER_FIELDS`, with the
facts themselves in baseline/prompt_facts.py).

Where templates are found, first match wins: the `prompts_dir` argument, `$SMALLRETAIL_PROMPTS_DIR`,
the repository's `prompts/` (a source checkout or editable install), then `smallretail_llm/data/prompts/`
inside the installed package (packaging copies the one canonical `prompts/` folder there).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import string
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from smallretail_llm.baseline.prompt_facts import (
    ANSWER_FIELDS,
    HANDOFF_MARKER,
    STYLE_FIELDS,
    policy_facts,
    record_facts,
)
from smallretail_llm.core.record import NOTE_STYLES, STYLE_LABELS, ProductRecord, ShopPolicy

DESCRIBE_VERSION = "v1"
ANSWER_VERSION = "v3"
PROMPT_VERSIONS: dict[str, str] = {"describe": DESCRIBE_VERSION, "answer": ANSWER_VERSION}
"""The version each task uses unless a caller (or a saved adapter) asks for another."""


def expected_prompt_versions() -> list[str]:
    """"task.version" of every template this code renders ("describe.v1", "answer.v3"): what an
    adapter must have been trained on to be served or evaluated (adapter.check_adapter)."""
    return [f"{task}.{version}" for task, version in PROMPT_VERSIONS.items()]

PROMPTS_DIR_ENV = "SMALLRETAIL_PROMPTS_DIR"



class PromptError(ValueError):
    """A template that cannot be found, loaded or rendered; the message is Korean."""


class PromptTemplate(BaseModel):
    """One versioned prompt: `system` and `user` are str.format templates over named variables."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    system: str
    user: str
    defaults: dict[str, Any] = {}

    @property
    def id(self) -> str:
        """"describe.v1": saved beside every adapter; serving refuses a mismatch."""
        return f"{self.name}.{self.version}"

    @property
    def fingerprint(self) -> str:
        """Short hash of the whole template, so an edited file under an old version shows up."""
        blob = json.dumps(self.model_dump(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    @property
    def variables(self) -> set[str]:
        """Names the system and user templates use."""
        names: set[str] = set()
        for text in (self.system, self.user):
            names.update(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
        return names

    def render(self, **variables: Any) -> list[dict[str, str]]:
        """Chat messages [system, user]; a variable missing from both `variables` and the
        template's scalar defaults raises PromptError."""
        scalars = {k: v for k, v in self.defaults.items() if not isinstance(v, (dict, list))}
        values = _StrictValues(self.id, {**scalars, **variables})
        try:
            return [{"role": "system", "content": self.system.format_map(values)},
                    {"role": "user", "content": self.user.format_map(values)}]
        except (IndexError, ValueError) as exc:
            raise PromptError(f"프롬프트 {self.id}의 템플릿 형식이 잘못되었습니다: {exc}") from exc

    def choice(self, table: str, key: str) -> str:
        """An entry of a defaults table (style_instructions, tone_instructions, …)."""
        entries = self.defaults.get(table) or {}
        if key not in entries:
            raise PromptError(f"프롬프트 {self.id}의 {table}에 '{key}' 항목이 없습니다 "
                              f"(가능한 값: {', '.join(entries)})")
        return str(entries[key])


class _StrictValues(dict):
    def __init__(self, prompt_id: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.prompt_id = prompt_id

    def __missing__(self, key: str) -> Any:
        raise PromptError(f"프롬프트 {self.prompt_id}를 채울 값이 없습니다: '{key}'")


def prompts_dirs(prompts_dir: str | Path | None = None) -> list[Path]:
    """Folders searched for templates, in order (see the module docstring)."""
    if prompts_dir is not None:
        return [Path(prompts_dir)]
    dirs: list[Path] = []
    if os.environ.get(PROMPTS_DIR_ENV):
        dirs.append(Path(os.environ[PROMPTS_DIR_ENV]))
    dirs.append(Path(__file__).resolve().parents[3] / "prompts")
    dirs.append(Path(str(resources.files("smallretail_llm.data").joinpath("prompts"))))
    return dirs


def _find(name: str, version: str, prompts_dir: str | Path | None) -> Path:
    searched = prompts_dirs(prompts_dir)
    for folder in searched:
        path = folder / f"{name}.{version}.yaml"
        if path.is_file():
            return path
    raise PromptError(f"프롬프트 '{name}.{version}'를 찾을 수 없습니다 "
                      f"(찾은 곳: {', '.join(str(d) for d in searched)})")


@functools.lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int) -> PromptTemplate:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: YAML 형식 오류: {exc}") from exc
    expected = {"name", "version", "system", "user", "defaults"}
    if not isinstance(raw, dict) or set(raw) != expected:
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise PromptError(f"{path}: 항목은 {sorted(expected)}이어야 합니다 (받은 값: {got})")
    template = PromptTemplate(**{k: raw[k] for k in expected})
    if path.name != f"{template.id}.yaml":
        raise PromptError(f"{path}: 파일 이름이 name.version.yaml({template.id}.yaml)과 다릅니다")
    return template


def load_prompt(name: str, version: str | None = None,
                prompts_dir: str | Path | None = None) -> PromptTemplate:
    """The template `name` at `version` (default: PROMPT_VERSIONS[name])."""
    if version is None:
        if name not in PROMPT_VERSIONS:
            raise PromptError(f"알 수 없는 프롬프트: '{name}' (가능한 값: {', '.join(PROMPT_VERSIONS)})")
        version = PROMPT_VERSIONS[name]
    path = _find(name, version, prompts_dir)
    return _load(path, path.stat().st_mtime_ns)


def list_prompts(prompts_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """(name, version) of every template file in the first folder that has any."""
    for folder in prompts_dirs(prompts_dir):
        files = sorted(folder.glob("*.*.yaml")) if folder.is_dir() else []
        if files:
            pairs = []
            for f in files:  # "qa.v2.yaml": the glob guarantees a dot before the version
                name, _, version = f.name.removesuffix(".yaml").rpartition(".")
                pairs.append((name, version))
            return pairs
    return []



def render_describe(record: ProductRecord, style: str, tone: str,
                    policy: ShopPolicy | None = None, version: str | None = None
                    ) -> list[dict[str, str]]:
    """Chat messages asking for a description of `record` in `style` and `tone`.

    The shop policy is included for the detail style only (shipping fee and CS contact), the
    category note (건강기능식품 statement) for NOTE_STYLES, and tone not at all for seo (a title
    has no sentence endings): the reference renderer follows the same rules."""
    if style not in STYLE_FIELDS:
        raise PromptError(f"알 수 없는 스타일: '{style}' (가능한 값: {', '.join(STYLE_FIELDS)})")
    template = load_prompt("describe", version)
    policy_block = ""
    if policy is not None and style == "detail":
        policy_block = "\n\n[쇼핑몰 정책]\n" + policy_facts(policy, for_description=True)
    tone_instruction = template.choice("tone_instructions", tone)
    notes = template.defaults.get("category_notes") or {}
    return template.render(
        facts=record_facts(record, STYLE_FIELDS[style]),
        policy_block=policy_block,
        style_label=STYLE_LABELS[style],
        style_instruction=template.choice("style_instructions", style),
        tone_instruction="" if style == "seo" else " " + tone_instruction,
        category_note=notes.get(record.category, "") if style in NOTE_STYLES else "",
    )


def render_answer(record: ProductRecord, question: str, policy: ShopPolicy,
                  version: str | None = None) -> list[dict[str, str]]:
    """Chat messages asking to answer `question` (already PII-redacted) from the record and
    policy, in the shop's tone."""
    if not question or not question.strip():
        raise PromptError("고객 질문이 비어 있습니다")
    template = load_prompt("answer", version)
    fields = {
        "facts": record_facts(record, ANSWER_FIELDS),
        "policy": policy_facts(policy),
        "question": question.strip(),
        "handoff": HANDOFF_MARKER,
        "tone_instruction": template.choice("tone_instructions", policy.tone),
    }
    if "{question_facts}" in template.user:  # v3 on; older versions render as they were
        from smallretail_llm.baseline.question_facts import question_facts  # qa imports this module

        fields["question_facts"] = "\n".join(question_facts(question.strip(), record, policy))
    return template.render(**fields)


def prompt_stats(messages: Sequence[Mapping[str, str]], tokenizer: Any = None) -> dict[str, int | None]:
    """Characters per role and in total, plus tokens when a tokenizer is given (its chat
    template when it has one, else the plain contents)."""
    stats: dict[str, int | None] = {}
    for message in messages:
        key = f"{message['role']}_chars"
        stats[key] = (stats.get(key) or 0) + len(message["content"])
    stats["chars"] = sum(len(m["content"]) for m in messages)
    stats["tokens"] = None
    if tokenizer is not None:
        if getattr(tokenizer, "chat_template", None):
            ids = tokenizer.apply_chat_template(list(messages), tokenize=True,
                                                add_generation_prompt=True)
            if isinstance(ids, Mapping):  # transformers 5 may return a BatchEncoding
                ids = ids["input_ids"]
        else:
            ids = tokenizer.encode("\n".join(m["content"] for m in messages))
        stats["tokens"] = len(ids)
    return stats


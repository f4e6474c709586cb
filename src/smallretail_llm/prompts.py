"""Versioned Korean prompt templates (prompts/<name>.<version>.yaml) and their strict rendering.

A template is data: name, version, system, user and defaults. Rendering fills `{names}` with
str.format_map over a mapping that raises on a missing name, so a prompt never silently loses a
fact. Each task sends only the record fields it needs (`STYLE_FIELDS`, `ANSWER_FIELDS`): shorter
prompts are faster on CPU, and the reference renderer uses the same fields, so a trained model
never learns to state facts its prompt did not contain.

Where templates are found, first match wins: the `prompts_dir` argument, `$SMALLRETAIL_PROMPTS_DIR`,
the repository's `prompts/` (a source checkout or editable install), then `smallretail_llm/prompts/`
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

from smallretail_llm import normalize
from smallretail_llm.categories import UnknownCategory, get_category
from smallretail_llm.korean import (
    format_date_fact,
    format_krw,
    format_net_content,
    join_items,
)
from smallretail_llm.record import STYLE_LABELS, DateFact, ProductRecord, ShopPolicy

DESCRIBE_VERSION = "v1"
ANSWER_VERSION = "v3"
PROMPT_VERSIONS: dict[str, str] = {"describe": DESCRIBE_VERSION, "answer": ANSWER_VERSION}
"""The version each task uses unless a caller (or a saved adapter) asks for another."""

HANDOFF_MARKER = "담당자가 확인 후 답변드리겠습니다."
"""The exact sentence an answer contains when the facts cannot answer the question; the Q&A
dataset writes it and the server sets needs_human when it sees it."""

HEALTH_FOOD_STATEMENT = "본 제품은 질병의 예방 및 치료를 위한 의약품이 아닙니다."
"""Required statement in 건강기능식품 copy (건강기능식품법 표시기준)."""

PROMPTS_DIR_ENV = "SMALLRETAIL_PROMPTS_DIR"

# Record facts each task needs. "notice" means every filled 상품정보제공고시 field of the category.
STYLE_FIELDS: dict[str, tuple[str, ...]] = {
    "detail": ("name", "brand", "manufacturer", "origin", "net_content", "price_krw",
               "storage", "use_by", "allergens", "cross_contact", "certifications", "notice"),
    "intro": ("name", "brand", "net_content", "price_krw"),
    "bullets": ("name", "brand", "manufacturer", "origin", "net_content", "price_krw",
                "storage", "use_by", "allergens", "certifications", "category"),
    "seo": ("name", "brand", "net_content", "keywords", "category"),
}
NOTE_STYLES: tuple[str, ...] = ("detail", "intro", "bullets", "seo")
"""Styles that carry the category's required statement (건강기능식품): grounding's compliance
check requires it in every description style."""
ANSWER_FIELDS: tuple[str, ...] = (
    "name", "brand", "manufacturer", "origin", "net_content", "price_krw", "stock", "category",
    "storage", "use_by", "allergens", "cross_contact", "certifications", "notice",
)
"""No `extra`: unknown export columns are often internal (메모, 공급처, 원가) and not for customers."""

FIELD_LABELS: dict[str, str] = {
    "name": "상품명", "brand": "브랜드", "manufacturer": "제조사", "origin": "원산지",
    "price_krw": "가격", "stock": "재고", "category": "분류", "keywords": "키워드",
    "storage": "보관방법", "allergens": "알레르기 유발성분", "cross_contact": "혼입 가능 알레르기",
    "certifications": "인증", "gtin": "바코드", "sku": "상품코드",
}
NET_LABELS: dict[str, str] = {"mL": "용량", "g": "중량", "개": "수량", "매": "수량"}


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
    dirs.append(Path(__file__).resolve().parents[2] / "prompts")
    dirs.append(Path(str(resources.files("smallretail_llm").joinpath("prompts"))))
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


def _text(value: Any) -> str:
    if isinstance(value, list):
        return join_items([str(v) for v in value])
    if isinstance(value, DateFact):
        return format_date_fact(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value).strip() if value is not None else ""


def category_label(record: ProductRecord) -> str:
    """Korean label of the record's category ("가공식품"), or the code when no spec knows it."""
    try:
        return get_category(record.category).label
    except UnknownCategory:
        return record.category


def _notice_fallback(attr: str, text: str, label: str) -> object:
    """A notice value parsed as the record attribute it stands in for; NormalizeError if not."""
    if attr == "net_content":
        return normalize.parse_net_content(text)
    if attr == "use_by":
        kind = next((k for k in ("사용기한", "유통기한", "소비기한") if k in label), "소비기한")
        return normalize.parse_use_by(text, kind)
    if attr in ("allergens", "certifications", "keywords"):
        raise normalize.NormalizeError(f"{attr}: 목록 항목은 대신 채우지 않습니다")
    return text.strip()


def effective_record(record: ProductRecord) -> ProductRecord:
    """The record with empty attributes filled from the notice fields that stand for them
    (FieldSpec.record_attr: a cosmetic's 사용기한 kept only in notice becomes `use_by`), those
    notice entries then dropped, so prompts and the renderer read each fact once, in one place.
    Shop-policy text inside product fields ("[쇼핑몰 정책] 배송비: 0원") is left out: only the
    policy states policy facts (`record_rules.strip_policy_text`)."""
    record = _without_policy_text(record)
    try:
        fields = get_category(record.category).fields
    except UnknownCategory:
        return record
    update: dict[str, object] = {}
    notice = dict(record.notice)
    for spec in fields:
        text = notice.get(spec.key, "")
        attr = spec.record_attr
        if not attr or not text.strip() or _text(getattr(record, attr)) or attr in update:
            continue
        try:
            update[attr] = _notice_fallback(attr, text, spec.label)
        except normalize.NormalizeError:
            continue
        del notice[spec.key]
    return record.model_copy(update={**update, "notice": notice}) if update else record


def _without_policy_text(record: ProductRecord) -> ProductRecord:
    from smallretail_llm.record_rules import strip_policy_text

    update: dict[str, object] = {}
    for attr in ("storage", "cross_contact"):
        value = getattr(record, attr)
        if value and strip_policy_text(value) != value.strip():
            update[attr] = strip_policy_text(value) or None
    try:  # a 상담전화 / A/S 전화번호 notice field is the product's own contact: kept as written
        phones = {f.key for f in get_category(record.category).fields if f.type == "phone"}
    except UnknownCategory:
        phones = set()
    for attr in ("notice", "extra"):
        values = getattr(record, attr)
        cleaned = {k: v if attr == "notice" and k in phones else strip_policy_text(v)
                   for k, v in values.items()}
        if any(cleaned[k] != v.strip() for k, v in values.items()):
            update[attr] = {k: v for k, v in cleaned.items() if v}
    return record.model_copy(update=update) if update else record


def fact_lines(record: ProductRecord, fields: Sequence[str]) -> list[tuple[str, str, str]]:
    """(field, Korean label, value) for each requested field that has a value, in order.

    Reads `effective_record(record)`. Notice fields come with their category labels, and those
    a record attribute already covers (FieldSpec.record_attr) are left out so no fact appears
    twice."""
    record = effective_record(record)
    lines: list[tuple[str, str, str]] = []
    for field in fields:
        if field == "notice":
            lines.extend(_notice_lines(record, set(fields)))
        elif field == "extra":
            lines.extend((f"extra.{k}", k, v.strip()) for k, v in record.extra.items() if v.strip())
        elif field == "net_content" and record.net_content is not None:
            net = record.net_content
            lines.append((field, NET_LABELS[net.unit], format_net_content(net)))
        elif field == "price_krw" and record.price_krw is not None:
            lines.append((field, FIELD_LABELS[field], format_krw(record.price_krw)))
        elif field == "stock" and record.stock is not None:
            lines.append((field, FIELD_LABELS[field], f"{record.stock}개"))
        elif field == "use_by" and record.use_by is not None and format_date_fact(record.use_by):
            lines.append((field, record.use_by.label, format_date_fact(record.use_by)))
        elif field == "category":
            lines.append((field, FIELD_LABELS[field], category_label(record)))
        elif field in FIELD_LABELS and _text(getattr(record, field, None)):
            lines.append((field, FIELD_LABELS[field], _text(getattr(record, field))))
    return lines


def _notice_lines(record: ProductRecord, covered: set[str]) -> list[tuple[str, str, str]]:
    try:
        specs = {f.key: f for f in get_category(record.category).fields}
    except UnknownCategory:
        specs = {}
    lines = []
    for key, value in record.notice.items():
        spec = specs.get(key)
        if not value.strip():
            continue
        if spec and spec.record_attr in covered and _text(getattr(record, spec.record_attr)):
            continue
        lines.append((f"notice.{key}", spec.label if spec else key, value.strip()))
    return lines


def record_facts(record: ProductRecord, fields: Sequence[str]) -> str:
    """Compact Korean "label: value" lines of only the given fields that have values."""
    return "\n".join(f"{label}: {value}" for _, label, value in fact_lines(record, fields))


def shipping_fee_text(policy: ShopPolicy) -> str:
    """ "3,000원 (50,000원 이상 무료배송)" or "무료"."""
    fee = "무료" if policy.shipping_fee_krw == 0 else format_krw(policy.shipping_fee_krw)
    if policy.free_shipping_threshold_krw is not None and policy.shipping_fee_krw:
        fee += f" ({format_krw(policy.free_shipping_threshold_krw)} 이상 무료배송)"
    return fee


def cs_text(policy: ShopPolicy) -> str:
    """ "02-123-4567 (평일 10~18시)"."""
    return f"{policy.cs_phone} ({policy.cs_hours})"


POLICY_LABELS = {
    "policy.shipping_fee": "배송비", "policy.shipping_fee_krw": "배송비",
    "policy.free_shipping_threshold_krw": "무료배송", "policy.shipping_days": "배송",
    "policy.courier": "택배사", "policy.return_policy": "교환/반품",
    "policy.return_shipping_fee_krw": "반품 배송비", "policy.cs": "고객센터",
    "policy.cs_phone": "전화번호", "policy.cs_hours": "상담 시간",
}
"""The shop policy's fields as the prompt's policy lines name them (`policy_facts`), and the
parts of a line by their own words (무료배송, 전화번호, 상담 시간): what a draft must write a
policy value under (`copy_check`)."""


def policy_facts(policy: ShopPolicy, for_description: bool = False) -> str:
    """The shop policy as "label: value" lines (what answers may state about shipping etc.);
    a description needs only the shipping fee and the CS contact (상담전화, A/S 연락처)."""
    label = POLICY_LABELS
    if for_description:
        return (f"{label['policy.shipping_fee']}: {shipping_fee_text(policy)}\n"
                f"{label['policy.cs']}: {cs_text(policy)}")
    lines = [("쇼핑몰", policy.shop_name),
             (label["policy.shipping_fee"], shipping_fee_text(policy)),
             (label["policy.shipping_days"], policy.shipping_days),
             (label["policy.courier"], policy.courier or ""),
             (label["policy.return_policy"], policy.return_policy)]
    if policy.return_shipping_fee_krw is not None:
        lines.append((label["policy.return_shipping_fee_krw"],
                      format_krw(policy.return_shipping_fee_krw)))
    lines.append((label["policy.cs"], cs_text(policy)))
    return "\n".join(f"{name}: {value.strip()}" for name, value in lines if value.strip())


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
        from smallretail_llm.question_facts import question_facts  # qa imports this module

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


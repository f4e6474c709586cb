"""상품정보제공고시 category specs: which disclosure fields each product group needs, loaded once
from the package's `specs/categories.yaml` and checked on load so a bad edit fails loudly."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml

from smallretail_llm.core.record import ProductRecord

if TYPE_CHECKING:
    from smallretail_llm.core.record import ShopPolicy

FIELD_TYPES: frozenset[str] = frozenset(
    {"text", "date", "year_month", "quantity", "phone", "yes_no", "list"}
)
"""Value kinds of notice fields (meanings in the YAML header)."""

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SPACES = re.compile(r"\s+")


class UnknownCategory(KeyError):
    """A category code or Korean label that no spec knows; the message is Korean."""

    def __str__(self) -> str:  # KeyError would show the message with quotes around it
        return str(self.args[0]) if self.args else ""


class CategorySpecError(ValueError):
    """categories.yaml is malformed (a packaging bug, not a user error)."""


def _norm(text: str) -> str:
    """Header/label comparison key: no whitespace, lower-case ("KC 인증" == "kc인증")."""
    return _SPACES.sub("", text).lower()


@dataclass(frozen=True)
class FieldSpec:
    """One disclosure field of a category."""

    key: str
    label: str
    required: bool
    type: str
    record_attr: str | None
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every header spelling that means this field: the label first, then the aliases."""
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class CategorySpec:
    """A 상품정보제공고시 group: code (e.g. processed_food), Korean label and its fields."""

    code: str
    label: str
    fields: tuple[FieldSpec, ...]
    aliases: tuple[str, ...] = ()
    food: bool = False  # a food group: the food advertising rules and allergen labelling apply

    @property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.required)

    def field(self, key: str) -> FieldSpec:
        """The field with this key; KeyError (Korean message) when the category has none."""
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(f"'{self.label}' 카테고리에 '{key}' 항목이 없습니다")

    def field_for_header(self, header: str) -> FieldSpec | None:
        """The field a spreadsheet header names (label or alias, ignoring spaces), or None.

        Labels win over aliases, so a header that is one field's label and another's alias
        maps to the field it labels."""
        wanted = _norm(header)
        for spec in self.fields:
            if _norm(spec.label) == wanted:
                return spec
        for spec in self.fields:
            if any(_norm(a) == wanted for a in spec.aliases):
                return spec
        return None


def _field_from_yaml(code: str, raw: Any) -> FieldSpec:
    if not isinstance(raw, dict):
        raise CategorySpecError(f"{code}: field entry is not a mapping: {raw!r}")
    expected = {"key", "label", "required", "type", "record_attr", "aliases"}
    if set(raw) != expected:
        raise CategorySpecError(f"{code}: field {raw.get('key')!r} has keys {sorted(raw)}, "
                                f"expected {sorted(expected)}")
    key, ftype, attr = raw["key"], raw["type"], raw["record_attr"]
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise CategorySpecError(f"{code}: field key {key!r} is not snake_case")
    if ftype not in FIELD_TYPES:
        raise CategorySpecError(f"{code}.{key}: unknown type {ftype!r}")
    if attr is not None and attr not in ProductRecord.model_fields:
        raise CategorySpecError(f"{code}.{key}: record_attr {attr!r} is not a ProductRecord field")
    if not isinstance(raw["required"], bool):
        raise CategorySpecError(f"{code}.{key}: required must be true or false")
    aliases = raw["aliases"] or []
    if not isinstance(raw["label"], str) or not all(isinstance(a, str) for a in aliases):
        raise CategorySpecError(f"{code}.{key}: label and aliases must be strings")
    return FieldSpec(key=key, label=raw["label"], required=raw["required"], type=ftype,
                     record_attr=attr, aliases=tuple(aliases))


_CATEGORY_KEYS = {"label", "aliases", "fields", "food"}


def _category_from_yaml(code: str, raw: Any) -> CategorySpec:
    if not _KEY_RE.match(code) or not isinstance(raw, dict) or "label" not in raw:
        raise CategorySpecError(f"category {code!r}: needs a snake_case code and a label")
    if not set(raw) <= _CATEGORY_KEYS:
        raise CategorySpecError(f"{code}: unknown keys {sorted(set(raw) - _CATEGORY_KEYS)}, "
                                f"expected some of {sorted(_CATEGORY_KEYS)}")
    if not isinstance(raw.get("food", False), bool):
        raise CategorySpecError(f"{code}.food: must be true or false")
    fields = tuple(_field_from_yaml(code, f) for f in raw.get("fields") or [])
    if not fields:
        raise CategorySpecError(f"{code}: no fields")
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise CategorySpecError(f"{code}: duplicate field keys {sorted(k for k in keys if keys.count(k) > 1)}")
    # A header must name one field only, otherwise a shop export would map ambiguously.
    seen: dict[str, str] = {}
    for spec in fields:
        for name in {_norm(n) for n in spec.names()}:
            if name in seen:
                raise CategorySpecError(f"{code}: header {name!r} names both {seen[name]} and {spec.key}")
            seen[name] = spec.key
    return CategorySpec(code=code, label=raw["label"], fields=fields,
                        aliases=tuple(raw.get("aliases") or []), food=raw.get("food", False))


@functools.cache
def _registry() -> tuple[Mapping[str, CategorySpec], Mapping[str, str]]:
    """(specs by code, normalized code/label/alias -> code), read once from package data."""
    spec_file = resources.files("smallretail_llm.core").joinpath("specs/categories.yaml")
    text = spec_file.read_text("utf-8")
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise CategorySpecError("categories.yaml must map category codes to specs")
    specs = {code: _category_from_yaml(code, body) for code, body in raw.items()}
    names: dict[str, str] = {}
    for spec in specs.values():
        for name in {_norm(n) for n in (spec.code, spec.label, *spec.aliases)}:
            if names.get(name, spec.code) != spec.code:
                raise CategorySpecError(f"{name!r} names both {names[name]} and {spec.code}")
            names[name] = spec.code
    return MappingProxyType(specs), MappingProxyType(names)


def load_categories() -> Mapping[str, CategorySpec]:
    """All category specs by code (read-only, loaded and validated on first use)."""
    return _registry()[0]


@functools.cache
def food_categories() -> frozenset[str]:
    """Codes of the food groups (`food: true`): processed_food, agri_food, health_food."""
    return frozenset(code for code, spec in load_categories().items() if spec.food)


def get_category(code_or_label: str) -> CategorySpec:
    """The spec for a code ("processed_food"), a Korean label ("가공식품", "식품(농수산물)")
    or a common alias ("농수산물"); spaces and case are ignored."""
    specs, names = _registry()
    code = names.get(_norm(code_or_label or ""))
    if code is None:
        raise UnknownCategory(
            f"알 수 없는 카테고리: '{code_or_label}' (상품정보제공고시 분류 코드나 이름을 쓰세요. "
            f"예: processed_food 또는 가공식품)"
        )
    return specs[code]


def _has_value(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, dict, set)):
        return bool(value)
    return True


def missing_required(record: ProductRecord, policy: ShopPolicy | None = None) -> list[FieldSpec]:
    """Required notice fields of the record's category that the record does not fill.

    A field is present when `record.notice[key]` is non-empty or, if the field has a
    `record_attr`, that attribute is non-empty. With a `policy`, phone fields without a
    record_attr (상담전화, A/S 전화번호) are satisfied by the shop's CS phone."""
    spec = get_category(record.category)
    missing = []
    for field in spec.required_fields:
        if _has_value(record.notice.get(field.key)):
            continue
        if field.record_attr and _has_value(getattr(record, field.record_attr)):
            continue
        if (policy is not None and field.type == "phone" and field.record_attr is None
                and _has_value(policy.cs_phone)):
            continue
        missing.append(field)
    return missing


def __getattr__(name: str) -> Any:
    # CATEGORIES reads like a constant but loads lazily, so importing this module reads no file.
    if name == "CATEGORIES":
        return load_categories()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

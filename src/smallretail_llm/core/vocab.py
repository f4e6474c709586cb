"""Shared vocabularies, loaded once from the package's `specs/vocab.yaml` and checked on load, so
every module that needs a word list or table reads the same one and a bad edit fails loudly,
naming the file and the key: tones and styles, date labels, units, certifications, places, brand
words and the words of the food advertising rules (who reads which: the YAML's header).

The codes of tones, styles, date labels and base units are also `Literal` types here, because
pydantic models and type checkers need them in code; on load the YAML must list exactly those
codes, in the same order, so the type and the vocabulary cannot drift apart. Importing this
module reads no file."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
)

Unit = Literal["g", "mL", "개", "매"]
"""Base units after normalization: mass in g, volume in mL, counts in 개 (pieces) or 매 (sheets)."""
DateLabel = Literal["소비기한", "유통기한", "사용기한", "제조일"]
"""DateFact labels (vocab.yaml `date_labels`)."""
Style = Literal["detail", "intro", "bullets", "seo"]
"""Description styles: stable English codes in code and the API (vocab.yaml `styles`)."""
Tone = Literal["friendly", "polite", "concise"]
"""Description and answer tones (vocab.yaml `tones`)."""

SOURCE = "vocab.yaml"
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class VocabError(ValueError):
    """vocab.yaml is malformed (a packaging bug, not a user error); the message names the key."""


Word = Annotated[StrictStr, Field(min_length=1)]
Words = tuple[Word, ...]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateLabelSpec(_Spec):
    deadline: StrictBool
    aliases: Words


class UnitSpec(_Spec):
    base: Unit
    factor: Decimal
    spellings: Words

    @field_validator("factor", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Decimal:
        # YAML reads 1000 as int and 0.001 as float: Decimal(str(..)) keeps 0.001 exact
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {value!r}")  # noqa: TRY004 (pydantic wants it)
        factor = Decimal(value) if isinstance(value, int) else Decimal(str(value))
        if factor <= 0:
            raise ValueError(f"must be positive, not {value!r}")
        return factor


class ClaimUnits(_Spec):
    latin: Words
    hangul: Words


class ValueMatch(_Spec):
    units: Words
    spellings: Words


class CertSpec(_Spec):
    name: Word
    patterns: Words
    record_names: Words
    notice_fields: Words


class Places(_Spec):
    korea: Word
    imported: Word
    countries: dict[Word, Words]
    origin_words: dict[Word, Word]
    regions: Words
    provinces: dict[Word, Word]


class BrandWords(_Spec):
    not_brands: Words
    company: Words


class AdClaims(_Spec):
    diseases: Words
    health_markers: Words


class Vocab(_Spec):
    """The whole vocab.yaml, validated (sections as described in the YAML)."""

    tones: dict[Word, Word]
    styles: dict[Word, Word]
    date_labels: dict[Word, DateLabelSpec]
    units: dict[Word, UnitSpec]
    claim_units: ClaimUnits
    value_match: ValueMatch
    certifications: dict[Word, CertSpec]
    places: Places
    brand_words: BrandWords
    ad_claims: AdClaims


# ------------------------------------------------------------------ loading and checking
def _fail(source: str, key: str, message: str) -> VocabError:
    return VocabError(f"{source}: {key}: {message}")


def _check_codes(source: str, key: str, found: Mapping[str, object], literal: object) -> None:
    expected = get_args(literal)
    if tuple(found) != expected:
        raise _fail(source, key, f"codes {list(found)} must be exactly {list(expected)}, in this "
                                 "order (the Literal type in core/vocab.py)")


def _check_regexes(source: str, key: str, patterns: tuple[str, ...]) -> None:
    for i, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            message = f"regex {pattern!r} does not compile: {exc}"
            raise _fail(source, f"{key}[{i}]", message) from None


def _check(vocab: Vocab, source: str) -> None:
    """Cross-references the types cannot express."""
    _check_codes(source, "tones", vocab.tones, Tone)
    _check_codes(source, "styles", vocab.styles, Style)
    _check_codes(source, "date_labels", vocab.date_labels, DateLabel)
    if not any(spec.deadline for spec in vocab.date_labels.values()):
        raise _fail(source, "date_labels", "no label is a deadline")
    seen: dict[str, str] = {}
    for symbol, unit in vocab.units.items():
        for spelling in (symbol, *unit.spellings):
            if spelling != spelling.lower():
                raise _fail(source, f"units.{symbol}", f"spelling {spelling!r} is not lower case")
            if spelling in seen:
                raise _fail(source, f"units.{symbol}", f"spelling {spelling!r} is also a spelling "
                                                       f"of {seen[spelling]}")
            seen[spelling] = symbol
    for symbol in vocab.value_match.units:
        if symbol not in vocab.units:
            raise _fail(source, "value_match.units", f"{symbol!r} is not a unit of `units`")
    for spelling in vocab.value_match.spellings:
        if seen.get(spelling) not in vocab.value_match.units:
            raise _fail(source, "value_match.spellings",
                        f"{spelling!r} is not a spelling of one of value_match.units")
    names: dict[str, str] = {}
    for code, cert in vocab.certifications.items():
        key = f"certifications.{code}"
        if not _CODE_RE.match(code):
            raise _fail(source, key, "the code must be snake_case")
        if cert.name in names:
            raise _fail(source, f"{key}.name", f"{cert.name!r} also names {names[cert.name]}")
        names[cert.name] = code
        if not cert.patterns:
            raise _fail(source, f"{key}.patterns", "no pattern")
        _check_regexes(source, f"{key}.patterns", cert.patterns)
        for name in cert.record_names:
            if name != re.sub(r"\s+", "", name).casefold():  # records are compared so
                raise _fail(source, f"{key}.record_names",
                            f"{name!r} must be lower case without spaces")
        for field in cert.notice_fields:
            if not _CODE_RE.match(field):
                raise _fail(source, f"{key}.notice_fields", f"{field!r} is not a 고시 field key")
    places = vocab.places
    if places.korea not in places.countries:
        raise _fail(source, "places.korea", f"{places.korea!r} is not a key of places.countries")
    for canon, spellings in places.countries.items():
        if any(s != s.lower() for s in spellings):
            raise _fail(source, f"places.countries.{canon}", "names must be lower case")
    for word, country in places.origin_words.items():
        if country not in places.countries and country != places.imported:
            raise _fail(source, f"places.origin_words.{word}",
                        f"{country!r} is neither a country nor places.imported")
    for name, region in places.provinces.items():
        if region not in places.regions:
            raise _fail(source, f"places.provinces.{name}", f"{region!r} is not in places.regions")
    for word in vocab.brand_words.company:
        if not re.fullmatch(r"\w+", word):
            raise _fail(source, "brand_words.company", f"{word!r} must be a plain word")
    _check_regexes(source, "ad_claims.diseases", vocab.ad_claims.diseases)
    _check_regexes(source, "ad_claims.health_markers", vocab.ad_claims.health_markers)


def parse_vocab(text: str, source: str = SOURCE) -> Vocab:
    """vocab.yaml's text -> the validated Vocab; VocabError names `source` and the bad key."""
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise VocabError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise VocabError(f"{source}: must map section names to their vocabularies")
    try:
        vocab = Vocab.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                    for e in exc.errors()]
        raise VocabError(f"{source}: {'; '.join(problems)}") from None
    _check(vocab, source)
    return vocab


@functools.cache
def load_vocab() -> Vocab:
    """The package's vocab.yaml, read and checked on first use."""
    text = resources.files("smallretail_llm.core").joinpath("specs", SOURCE).read_text("utf-8")
    return parse_vocab(text)


# ------------------------------------------------------------------ accessors
@functools.cache
def tone_labels() -> Mapping[str, str]:
    """Tone code -> Korean label ("friendly" -> "친근")."""
    return MappingProxyType(dict(load_vocab().tones))


@functools.cache
def style_labels() -> Mapping[str, str]:
    """Style code -> Korean label ("detail" -> "상세설명")."""
    return MappingProxyType(dict(load_vocab().styles))


@functools.cache
def deadline_labels() -> tuple[str, ...]:
    """Date labels whose date is a last day, in vocab order: 소비기한, 유통기한, 사용기한."""
    return tuple(label for label, spec in load_vocab().date_labels.items() if spec.deadline)


@functools.cache
def date_label_spellings() -> Mapping[str, str]:
    """Every spelling of a date label -> the label ("제조일자" -> "제조일"; a label maps to itself)."""
    return MappingProxyType({spelling: label for label, spec in load_vocab().date_labels.items()
                             for spelling in (label, *spec.aliases)})


@functools.cache
def unit_table() -> Mapping[str, tuple[str, Decimal]]:
    """Every unit spelling, lower case -> (base unit, factor): "키로" -> ("g", 1000)."""
    return MappingProxyType({spelling: (unit.base, unit.factor)
                             for symbol, unit in load_vocab().units.items()
                             for spelling in (symbol, *unit.spellings)})


@functools.cache
def units() -> Mapping[str, UnitSpec]:
    """The unit table by symbol (base, factor, other spellings)."""
    return MappingProxyType(load_vocab().units)


def claim_units() -> ClaimUnits:
    return load_vocab().claim_units


def value_match() -> ValueMatch:
    return load_vocab().value_match


@functools.cache
def certifications() -> Mapping[str, CertSpec]:
    """Certifications by code, in vocab order."""
    return MappingProxyType(load_vocab().certifications)


def cert_name(code: str) -> str:
    """The canonical name of a certification code ("mfds" -> "기능성 인증"); KeyError if unknown."""
    return load_vocab().certifications[code].name


def places() -> Places:
    return load_vocab().places


def brand_words() -> BrandWords:
    return load_vocab().brand_words


def ad_claims() -> AdClaims:
    return load_vocab().ad_claims

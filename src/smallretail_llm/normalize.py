"""Value normalizers for shop exports and for grounding checks (stub; full version in progress)."""

from __future__ import annotations

import datetime as dt

from smallretail_llm.record import DateFact, NetContent

ALLERGEN_SYNONYMS: dict[str, str] = {}


class NormalizeError(ValueError):
    """A value that cannot be normalized; the message is Korean and quotes the value."""


def parse_price_krw(text: str) -> int:
    raise NotImplementedError


def parse_net_content(text: str) -> NetContent:
    raise NotImplementedError


def validate_gtin(text: str) -> str:
    raise NotImplementedError


def parse_allergens(text: str) -> list[str]:
    raise NotImplementedError


def parse_date(text: str) -> dt.date:
    raise NotImplementedError


def parse_use_by(text: str, label: str = "소비기한") -> DateFact:
    raise NotImplementedError


def parse_int(text: str) -> int:
    raise NotImplementedError


def parse_quantity(text: str) -> tuple[float, str] | None:
    raise NotImplementedError


def parse_korean_number(text: str) -> int | None:
    raise NotImplementedError

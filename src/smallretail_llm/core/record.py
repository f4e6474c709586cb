"""The standard product record and shop policy: the one contract shared by import, the DB,
prompts, grounding and the API (see ../shared/DESIGN.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smallretail_llm.core import vocab

# Base units (g, mL, 개, 매), date labels, description styles and tones are stable codes in code and
# the API, with Korean labels for people (STYLE_LABELS, TONE_LABELS below). One source:
# core/specs/vocab.yaml, whose codes core.vocab checks against its Literal types on load.
from smallretail_llm.core.vocab import DateLabel, Tone, Unit

NOTE_STYLES: tuple[str, ...] = ("detail", "intro", "bullets", "seo")
"""Styles that carry the category's required statement (건강기능식품): grounding's compliance
check requires it in every description style."""

ALLERGENS: tuple[str, ...] = (
    "알류", "우유", "메밀", "땅콩", "대두", "밀", "고등어", "게", "새우", "돼지고기",
    "복숭아", "토마토", "아황산류", "호두", "닭고기", "쇠고기", "오징어", "조개류", "잣",
)
"""The 19 allergens Korean food labelling requires (식품 등의 표시기준), canonical names."""


class NetContent(BaseModel):
    """Net content in a base unit: "1.5L" -> 1500 mL, "2kg" -> 2000 g, "30매" -> 30 매.

    `count` is the number of packs ("500g x 2개" -> value 500, unit g, count 2)."""

    model_config = ConfigDict(frozen=True)

    value: float = Field(gt=0)
    unit: Unit
    count: int = Field(default=1, ge=1)

    @property
    def total(self) -> float:
        return self.value * self.count

    def display(self) -> str:
        """Human Korean rendering: 1500 mL -> "1.5L", 500 g -> "500g", 2 packs -> "500g x 2개"."""
        value: float = self.value
        unit: str = self.unit  # widened: "L" and "kg" are display units only
        if unit == "mL" and value >= 1000:
            value, unit = value / 1000, "L"
        elif unit == "g" and value >= 1000:
            value, unit = value / 1000, "kg"
        number = f"{value:,.3f}".rstrip("0").rstrip(".")
        text = f"{number}{unit}"
        return f"{text} x {self.count}개" if self.count > 1 else text


class DateFact(BaseModel):
    """A labelled date: 소비기한 2026-03-01. Old exports say 유통기한; the label is kept as given.

    `date` is None when the source states a period instead ("제조일로부터 12개월"), kept in `text`."""

    model_config = ConfigDict(frozen=True)

    label: DateLabel = "소비기한"
    date: dt.date | None = None
    text: str | None = None


class ProductRecord(BaseModel):
    """One product of one shop. Every fact a generated text may state comes from here or from
    the shop's `ShopPolicy`; anything else is unknown."""

    # identity
    shop_id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    gtin: str | None = Field(default=None, pattern=r"^\d{8}$|^\d{12,14}$")
    # core
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(description="category code from smallretail_llm.core.categories, e.g. processed_food")
    brand: str | None = None
    manufacturer: str | None = None
    origin: str | None = Field(default=None, description="원산지/제조국, e.g. 국내산, 미국산, 중국")
    price_krw: int | None = Field(default=None, ge=0)
    net_content: NetContent | None = None
    stock: int | None = Field(default=None, ge=0)
    keywords: list[str] = Field(default_factory=list)
    existing_description: str | None = None
    # 상품정보제공고시 fields of the category, keyed by the spec's field key
    notice: dict[str, str] = Field(default_factory=dict)
    # food facts where they apply
    allergens: list[str] = Field(default_factory=list)
    cross_contact: str | None = Field(default=None, description='"같은 제조시설에서 … 사용" line')
    storage: str | None = None
    use_by: DateFact | None = None
    certifications: list[str] = Field(default_factory=list)
    # unknown columns of the shop's export, kept verbatim rather than dropped
    extra: dict[str, str] = Field(default_factory=dict)

    @field_validator("allergens")
    @classmethod
    def _known_allergens(cls, value: list[str]) -> list[str]:
        unknown = [a for a in value if a not in ALLERGENS]
        if unknown:
            raise ValueError(f"알 수 없는 알레르기 항목: {', '.join(unknown)}")
        return value

    @property
    def key(self) -> str:
        """Stable identity across the project: shop + sku."""
        return f"{self.shop_id}/{self.sku}"


class ShopPolicy(BaseModel):
    """Per-shop facts that answers may state: shipping, returns, customer service."""

    shop_id: str = Field(min_length=1, max_length=64)
    shop_name: str
    shipping_fee_krw: int = Field(ge=0)
    free_shipping_threshold_krw: int | None = Field(default=None, ge=0)
    shipping_days: str = Field(description='도착 예정, e.g. "결제 후 1~2일 내 출고, 출고 후 1~2일 도착"')
    courier: str | None = None
    return_policy: str = Field(description="교환/반품 규정")
    return_shipping_fee_krw: int | None = Field(default=None, ge=0)
    cs_phone: str
    cs_hours: str
    tone: Tone = "polite"


def __getattr__(name: str) -> Any:
    # STYLE_LABELS and TONE_LABELS read like constants but load lazily from vocab.yaml, so
    # importing this module reads no file.
    if name == "STYLE_LABELS":
        return vocab.style_labels()
    if name == "TONE_LABELS":
        return vocab.tone_labels()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

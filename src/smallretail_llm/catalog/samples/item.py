"""One sample product as the data modules describe it, before build.py formats it as a CSV row."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Item:
    """Facts of one product; `notice` holds the 상품정보제공고시 fields the core columns do not
    cover, keyed by the category spec's field keys."""

    category: str
    name: str
    maker: str
    origin: str
    price: int
    notice: dict[str, str]
    brand: str | None = None
    net: str | None = None
    allergens: list[str] = field(default_factory=list)
    cross: str | None = None  # "같은 제조시설에서 … 사용" line
    storage: str | None = None
    use_by: int | str | None = None  # months of shelf life (build draws a date), or text as printed
    certs: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    copy: str | None = None  # the shop's own description
    barcode: bool = True

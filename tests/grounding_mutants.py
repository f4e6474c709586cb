"""One-value mutants of true texts, for the grounding mutation test (tests/test_grounding_mutants.py).

A true text is what the renderer or the Q&A generator writes for a sample product; a mutant
changes exactly one value in it, the way a small model errs: a value of another field of the
same record or policy, another product's value, a malformed amount, ±1 on a quantity or a date,
another unit, another region, origin or allergen, a negation, another shop's name or phone.
Every mutant must fail grounding; every original must pass.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from smallretail_llm.core.korean import format_krw
from smallretail_llm.core.record import ALLERGENS, ProductRecord, ShopPolicy


@dataclass(frozen=True)
class Mutant:
    kind: str
    text: str


@dataclass(frozen=True)
class World:
    """What mutants draw other values from: every product and policy of the sample catalog."""

    prices: tuple[int, ...]
    regions: tuple[str, ...]  # "(경상북도 영양군)" parentheses of sample origins
    policies: tuple[ShopPolicy, ...]
    brands: dict[str, tuple[str, ...]]  # shop_id -> brands and makers of its products


def _replace_once(text: str, old: str, new: str, after: str = "") -> str | None:
    """`text` with the first `old` (after the first `after`, when given) replaced by `new`."""
    start = text.find(after) if after else 0
    if start < 0 or old == new:
        return None
    at = text.find(old, start)
    if at < 0:
        return None
    return text[:at] + new + text[at + len(old):]


def _amount(text: str, value: int, new: int | str, kind: str, after: str = "") -> Mutant | None:
    """Replace the amount `value` (as "24,900원") when it stands alone, not inside "124,900원"."""
    old = format_krw(value)
    pattern = re.compile(rf"(?<![\d,]){re.escape(old)}")
    start = text.find(after) if after else 0
    if start < 0:
        return None
    m = pattern.search(text, start)
    if m is None:
        return None
    repl = format_krw(new) if isinstance(new, int) else new
    return Mutant(kind, text[:m.start()] + repl + text[m.end():]) if repl != old else None


def _price_mutants(text: str, record: ProductRecord, policy: ShopPolicy,
                   world: World) -> Iterator[Mutant | None]:
    price = record.price_krw
    if price is None:
        return
    for kind, value in (("price_as_shipping_fee", policy.shipping_fee_krw),
                        ("price_as_threshold", policy.free_shipping_threshold_krw),
                        ("price_as_return_fee", policy.return_shipping_fee_krw)):
        if value:
            yield _amount(text, price, value, kind)
    other = next((p for p in world.prices[hash(record.key) % len(world.prices):] + world.prices
                  if p != price), None)
    if other is not None:
        yield _amount(text, price, other, "price_of_other_product")
    yield _amount(text, price, price + 1000, "price_off")
    digits = f"{price:,}"
    bad = (digits + "0" if len(digits) > 1 else None,                       # 24,9000
           re.sub(r"^(\d)(\d*),", r"\1,\2", digits) if "," in digits else None,  # 2,4900
           digits[:-1] if "," in digits else None)                           # 24,90
    for variant in bad:
        if variant and variant != digits:
            yield _amount(text, price, f"{variant}원", "malformed_amount")
    for kind, value in (("shipping_fee_as_price", policy.shipping_fee_krw),
                        ("threshold_as_price", policy.free_shipping_threshold_krw)):
        if value and value != price:
            yield _amount(text, value, price, kind, after="배송비")


def _number_shift(net_text: str, delta: int) -> str | None:
    m = re.match(r"(\d+(?:\.\d+)?)", net_text)
    if m is None:
        return None
    value = float(m.group(1)) + delta
    if value <= 0:
        return None
    shown = f"{value:g}"
    return shown + net_text[m.end():]


_UNIT_SWAPS = (("kg", "g"), ("mL", "L"), ("g", "kg"), ("L", "mL"))  # count units (개/팩/구) are one


def _quantity_mutants(text: str, record: ProductRecord) -> Iterator[Mutant | None]:
    net = record.net_content
    if net is None:
        return
    shown = net.display()
    if shown not in text or shown in record.name:  # the name is quoted, not a claim
        return
    for delta in (1, -1):
        new = _number_shift(shown, delta)
        if new:
            yield Mutant("quantity_pm1", text.replace(shown, new, 1))
    first = re.match(r"\d+(?:\.\d+)?\s?([A-Za-z가-힣]+)", shown)
    if first:
        unit = first.group(1)
        for old, new in _UNIT_SWAPS:
            if unit == old:
                yield Mutant("unit_swap", text.replace(shown, shown.replace(old, new, 1), 1))
                break


def _date_mutants(text: str, record: ProductRecord) -> Iterator[Mutant | None]:
    fact = record.use_by
    if fact is None or fact.date is None:
        return
    iso = fact.date.isoformat()
    for delta in (1, -1):
        other = (fact.date + dt.timedelta(days=delta)).isoformat()
        yield Mutant("date_pm1", text.replace(iso, other, 1)) if iso in text else None


def _origin_mutants(text: str, record: ProductRecord, world: World) -> Iterator[Mutant | None]:
    origin = (record.origin or "").strip()
    if not origin or origin not in text:
        return
    m = re.search(r"\([^()]+\)$", origin)
    if m and re.search(r"[도시군]\b|[도시군]\)", m.group()):
        other = next((r for r in world.regions if r != m.group()), None)
        if other:
            yield Mutant("other_region", text.replace(origin, origin[:m.start()] + other, 1))
    country = "베트남" if origin.startswith(("국내산", "대한민국", "국산")) else "대한민국"
    yield Mutant("other_origin", text.replace(origin, country, 1))


def _allergen_mutants(text: str, record: ProductRecord) -> Iterator[Mutant | None]:
    listed = [a for a in record.allergens if a in text]
    if not listed:
        return
    taken = set(record.allergens) | set(re.findall("|".join(ALLERGENS), record.cross_contact or ""))
    spare = [a for a in ALLERGENS if a not in taken and a not in text and len(a) > 1]
    if spare:
        yield Mutant("other_allergen", text.replace(listed[0], spare[len(text) % len(spare)], 1))
    for old, new in (("함유하고 있어요", "함유하고 있지 않아요"), ("함유하고 있으니", "함유하고 있지 않으니"),
                     ("함유하고 있습니다", "함유하고 있지 않습니다"), ("함유.", "무첨가."),
                     ("표시되어 있습니다", "들어 있지 않습니다"), ("표시되어 있어요", "들어 있지 않아요")):
        if old in text:
            yield Mutant("negation", text.replace(old, new, 1))
            break


def _other_shop_mutants(text: str, record: ProductRecord, policy: ShopPolicy,
                        world: World) -> Iterator[Mutant | None]:
    others = [p for p in world.policies if p.shop_id != policy.shop_id]
    other = others[len(text) % len(others)]
    for own in (record.brand, record.manufacturer):
        if own and own in text and own not in record.name:
            theirs = world.brands.get(other.shop_id) or ()
            if theirs:
                yield Mutant("other_shop_brand", text.replace(own, theirs[len(text) % len(theirs)], 1))
            break
    if policy.courier and other.courier and policy.courier in text:
        yield Mutant("other_shop_courier", text.replace(policy.courier, other.courier, 1))
    if policy.cs_phone in text:
        yield Mutant("other_shop_phone", text.replace(policy.cs_phone, other.cs_phone, 1))


def mutants(text: str, record: ProductRecord, policy: ShopPolicy, world: World) -> list[Mutant]:
    """Every one-value mutant of `text` that differs from it."""
    found = [*_price_mutants(text, record, policy, world), *_quantity_mutants(text, record),
             *_date_mutants(text, record), *_origin_mutants(text, record, world),
             *_allergen_mutants(text, record), *_other_shop_mutants(text, record, policy, world)]
    return [m for m in found if m is not None and m.text != text]


def foreign_names(policy: ShopPolicy, world: World) -> list[str]:
    """What the serving path passes for `policy`'s shop: other shops' names and couriers and
    their products' brands and makers."""
    out = []
    for other in world.policies:
        if other.shop_id != policy.shop_id:
            out += [other.shop_name, other.courier or "", *world.brands.get(other.shop_id, ())]
    return [n for n in out if n]

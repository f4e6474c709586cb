"""The facts a record and its shop policy support, as comparison keys, overall and per field.

Grounding runs the claim extractor over the record's and policy's strings and adds their typed
values (price, net content, use-by date, allergens, certifications, fees). Keys are kept twice:
all of them (an unbound claim needs its value somewhere) and per field (a claim bound to a field
needs that field's value). Policy fields (fees, CS phone) take values from the policy only, so
a product field that states a fee or phone is no evidence for one (`record_rules` flags it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from smallretail_llm.core import vocab
from smallretail_llm.core.categories import FieldSpec, UnknownCategory, get_category
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding.claim_fields import POLICY_FIELDS
from smallretail_llm.grounding.claims import Key, cert_keys, date_keys, extract_claims, squash


@dataclass
class Facts:
    keys: set[Key] = field(default_factory=set)
    fields: dict[str, set[Key]] = field(default_factory=dict)
    declared_allergens: set[str] = field(default_factory=set)
    corpus: str = ""  # squashed record and policy strings, for phrase claims (brand, ranking ...)

    def add(self, name: str, keys: Iterable[Key]) -> None:
        self.fields.setdefault(name, set()).update(keys)


def record_strings(record: ProductRecord) -> list[str]:
    values = [record.name, record.brand, record.manufacturer, record.origin, record.storage,
              record.cross_contact, record.use_by.text if record.use_by else None,
              *record.notice.values(), *record.extra.values(), *record.keywords,
              *record.certifications]
    return [v for v in values if isinstance(v, str) and v.strip()]


def policy_strings(policy: ShopPolicy | None) -> list[str]:
    if policy is None:
        return []
    values = [policy.shop_name, policy.shipping_days, policy.courier, policy.return_policy,
              policy.cs_hours, policy.cs_phone]
    return [v for v in values if isinstance(v, str) and v.strip()]


@functools.lru_cache(maxsize=8192)
def string_facts(text: str) -> tuple[frozenset[Key], tuple[tuple[str, Key], ...]]:
    """(keys, (field, key) of the bound claims) one record or policy string supports (cached:
    the same record is checked often)."""
    mentions = [m for m in extract_claims(text, corpus=True) if not m.negated]
    keys = frozenset(k for m in mentions for ks in m.keys for k in ks)
    bound = tuple((m.field, k) for m in mentions if m.field for ks in m.keys for k in ks)
    return keys, bound


def _labelled(record: ProductRecord) -> list[tuple[str, str]]:
    """(notice key, "label: value") per notice field, so a value binds by its label as copy does."""
    labels = {f.key: f.label for f in category_fields(record)}
    return [(key, f"{labels.get(key, key)}: {value}") for key, value in record.notice.items()
            if isinstance(value, str) and value.strip()]


def _bound(facts: Facts, text: str, *, policy_side: bool, notice: bool = False) -> None:
    keys, bound = string_facts(text)
    facts.keys.update(keys)
    for name, key in bound:
        # a product field stating a fee is no fee; a notice 상담전화/A/S 번호 is a real phone
        if policy_side or name not in POLICY_FIELDS or (notice and name == "cs_phone"):
            facts.add(name, [key])
    if notice:  # a notice 상담전화 / A/S 책임자 line: its phone is the product's contact
        facts.add("cs_phone", (k for k in keys if k[0] == "phone"))
    if not policy_side:  # an amount in a product field with no cue (a notice value) is price-like
        facts.add("price", (k for k in keys if k[0] == "krw"))


def build_facts(record: ProductRecord, policy: ShopPolicy | None) -> Facts:
    facts = Facts(declared_allergens=set(record.allergens))
    for text in record_strings(record):
        _bound(facts, text, policy_side=False)
    for _, text in _labelled(record):
        _bound(facts, text, policy_side=False, notice=True)
    for text in policy_strings(policy):
        _bound(facts, text, policy_side=True)
    for name, value in (("origin", record.origin), ("cross_contact", record.cross_contact),
                        ("use_by", record.use_by.text if record.use_by else None)):
        if value and value.strip():
            facts.add(name, string_facts(value)[0])
    facts.corpus = "\n".join(squash(s) for s in record_strings(record) + policy_strings(policy))
    _typed(facts, record, policy)
    return facts


def held_cert_keys(record: ProductRecord) -> set[Key]:
    """The certifications a record holds: those it lists, plus 식약처 인정 for every
    건강기능식품 (the category itself is the approval)."""
    held = {k for name in record.certifications for k in cert_keys(name)}
    if category_code(record) == "health_food":
        held.add(("cert", vocab.cert_name("mfds")))
    return held


def _typed(facts: Facts, record: ProductRecord, policy: ShopPolicy | None) -> None:
    keys = facts.keys
    keys.update(("allergen", a) for a in record.allergens)
    facts.add("allergens", (("allergen", a) for a in record.allergens))
    facts.add("cross_contact", (("allergen", a) for a in record.allergens))
    keys.update(held_cert_keys(record))
    if record.use_by and record.use_by.date:
        keys.update(date_keys(record.use_by.date))
        facts.add("use_by", date_keys(record.use_by.date))
    net = record.net_content
    if net is not None:
        amounts = {("qty", round(net.value, 3), net.unit), ("qty", round(net.total, 3), net.unit)}
        if net.count > 1:
            amounts.add(("qty", float(net.count), "개"))
        keys.update(amounts)
        facts.add("net_content", amounts | {("qty", 1.0, "개")})
    keys.update({("qty", 1.0, "개"), ("qty", 1.0, "매")})  # "1개" is the unit of sale, never a claim
    if record.stock is not None:
        keys.add(("qty", float(record.stock), "개"))
    if record.price_krw is not None:
        price = {("krw", record.price_krw)}
        if net is not None and net.count > 1 and record.price_krw % net.count == 0:
            price.add(("krw", record.price_krw // net.count))  # 개당 가격
        keys.update(price)
        facts.add("price", price)
    if policy is not None:
        for name, value in (("shipping_fee", policy.shipping_fee_krw),
                            ("free_shipping_threshold", policy.free_shipping_threshold_krw),
                            ("return_shipping_fee", policy.return_shipping_fee_krw)):
            if value is not None:
                keys.add(("krw", value))
                facts.add(name, [("krw", value)])
        facts.add("return_shipping_fee", (k for k in string_facts(policy.return_policy)[0]
                                          if k[0] == "krw"))
        facts.add("cs_phone", [("phone", re.sub(r"\D", "", policy.cs_phone))])
        if policy.shipping_fee_krw == 0 or policy.free_shipping_threshold_krw is not None:
            keys.add(("free_shipping",))
        if policy.return_shipping_fee_krw == 0:
            keys.add(("free_return",))


def protected_strings(record: ProductRecord, policy: ShopPolicy | None) -> list[str]:
    """Record strings whose verbatim numbers are identifiers (name, brand, model codes), and the
    labels of yes/no notice fields ("KC 인증 필 유무"): a question, not a claim."""
    out = [record.name, record.brand or "", record.manufacturer or ""]
    out += [f.label for f in category_fields(record) if f.type == "yes_no"]
    out += [v for v in (*record.notice.values(), *record.extra.values())
            if isinstance(v, str) and 3 <= len(v) <= 40 and re.search(r"\d", v)]
    if policy is not None:
        out += [policy.cs_phone, policy.shop_name]
    return out


def category_fields(record: ProductRecord) -> tuple[FieldSpec, ...]:
    """The notice fields of the record's category; () for an unknown category."""
    try:
        return get_category(record.category).fields
    except UnknownCategory:
        return ()


def category_code(record: ProductRecord) -> str:
    """The category code, also when the record names it by its Korean label ("건강기능식품")."""
    try:
        return get_category(record.category).code
    except UnknownCategory:
        return record.category

"""Deterministic reference descriptions: fluent Korean copy built from the record alone.

It is the serving fallback when a model draft fails grounding, and the training target, so it
states only what the record (and, for detail, the shop's shipping fee) says: no superlatives,
no claims, no number the record lacks. It reads only the fields the task's prompt shows
(`prompts.STYLE_FIELDS`), so a model trained on it never learns to state unseen facts.
Phrasing varies by a RNG seeded from `seed` and the product key: the same input always gives
the same text, different products read differently.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable
from typing import get_args

from smallretail_llm.baseline.prompt_facts import (
    HEALTH_FOOD_STATEMENT,
    NET_LABELS,
    STYLE_FIELDS,
    category_label,
    cs_text,
    effective_record,
    fact_lines,
    shipping_fee_text,
)
from smallretail_llm.baseline.renderer_phrases import PHRASES
from smallretail_llm.core.korean import (
    fill,
    format_date_fact,
    format_krw,
    format_net_content,
    join_items,
    split_sentences,
)
from smallretail_llm.core.record import NOTE_STYLES, ProductRecord, ShopPolicy
from smallretail_llm.core.vocab import Tone, deadline_labels
from smallretail_llm.grounding.compliance import check_compliance

TONES: tuple[str, ...] = get_args(Tone)
"""Tone codes (vocab.yaml `tones`, checked equal to the Tone type on load)."""
SEO_TITLE_MAX = 50
BULLET = "• "
_SENTENCE_END = re.compile(r"(다|요|시오|음|함|것|바람)[.!]?$")
_NOTE_CATEGORIES = {"health_food": HEALTH_FOOD_STATEMENT}

def _rng(seed: int, record: ProductRecord, style: str, tone: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}|{record.key}|{style}|{tone}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _say(rng: random.Random, fact: str, tone: str, **values: object) -> str:
    return fill(rng.choice(PHRASES[fact][tone]), **values)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _restrict(record: ProductRecord, fields: tuple[str, ...]) -> ProductRecord:
    """A copy holding only the given facts (identity and category stay), so no style can state
    a fact its prompt did not show."""
    empty: dict[str, object] = {
        "brand": None, "manufacturer": None, "origin": None, "price_krw": None,
        "net_content": None, "stock": None, "keywords": [], "existing_description": None,
        "notice": {}, "allergens": [], "cross_contact": None, "storage": None, "use_by": None,
        "certifications": [], "extra": {}, "gtin": None,
    }
    return record.model_copy(update={k: v for k, v in empty.items() if k not in fields})


class _Facts:
    """The record's facts as display strings, shared by every style."""

    def __init__(self, record: ProductRecord) -> None:
        self.record = record
        self.name = record.name.strip()
        brand = (record.brand or "").strip()
        self.brand = brand if brand and _squash(brand) not in _squash(self.name) else ""
        self.who = f"{self.brand} {self.name}" if self.brand else self.name
        net = record.net_content
        self.net = format_net_content(net) if net else ""
        self.net_label = NET_LABELS[net.unit] if net else ""
        self.net_in_name = bool(self.net) and _squash(self.net) in _squash(self.name)
        self.price = format_krw(record.price_krw) if record.price_krw is not None else ""
        self.origin = (record.origin or "").strip()
        self.maker = (record.manufacturer or "").strip()
        self.storage = _clean(record.storage)
        self.cross_contact = _clean(record.cross_contact)
        self.allergens = join_items(record.allergens)
        self.certs = join_items(record.certifications)
        self.statement = _NOTE_CATEGORIES.get(record.category, "")


def _clean(text: str | None) -> str:
    return (text or "").strip().rstrip(".").strip()


def _is_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text.strip()))


def _as_sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _net_price(f: _Facts, rng: random.Random, tone: str) -> str:
    if f.net and f.price:
        return _say(rng, "net_price", tone, net=f.net, net_label=f.net_label, price=f.price)
    if f.net:
        return _say(rng, "net", tone, net=f.net, net_label=f.net_label)
    return _say(rng, "price", tone, price=f.price) if f.price else ""


def _storage(f: _Facts, rng: random.Random, tone: str) -> str:
    if not f.storage:
        return ""
    if _is_sentence(f.storage):
        return _as_sentence(f.storage)  # the shop wrote a whole sentence: keep it verbatim
    fact = "storage_verb" if f.storage.endswith("보관") else "storage"
    return _say(rng, fact, tone, storage=f.storage)


def _use_by(f: _Facts, rng: random.Random, tone: str) -> str:
    fact = f.record.use_by
    text = format_date_fact(fact) if fact else ""
    if not fact or not text:
        return ""
    if _is_sentence(text):
        return f"{fact.label}: {_as_sentence(text)}"
    kind = "deadline" if fact.date is not None and fact.label in deadline_labels() else "date"
    return _say(rng, kind, tone, label=fact.label, date=text)


def _certs(f: _Facts, rng: random.Random, tone: str) -> str:
    if not f.certs:
        return ""
    labelled = any(c.strip().endswith("인증") for c in f.record.certifications)
    return _say(rng, "certs_labelled" if labelled else "certs", tone, certs=f.certs)


def _compliant(lines: list[tuple[str, str]], record: ProductRecord) -> list[tuple[str, str]]:
    """Notice lines without the sentences the advertising-rule check flags. The shop's own
    caution text can read like a claim to it ("당뇨치료제 복용 시 주의"); copy that fails the
    check cannot serve as the fallback, so such a sentence is left out rather than restated."""
    if not lines or not check_compliance("\n".join(v for _, v in lines), record,
                                         require_statement=False):
        return lines  # the common case: one check for the whole block
    kept = []
    for label, value in lines:
        sentences = [s for s in split_sentences(value, line_breaks=False)
                     if not check_compliance(s, record, require_statement=False)]
        if sentences:
            kept.append((label, " ".join(sentences)))
    return kept


def _sentences(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _detail(f: _Facts, rng: random.Random, tone: str, policy: ShopPolicy | None) -> str:
    opener = (_say(rng, "open_brand", tone, brand=f.brand, name=f.name) if f.brand
              else _say(rng, "open", tone, name=f.name))
    # always in this order: with the order shuffled, the nano model lost track of which it had
    # said and skipped the maker (held-out detail drafts missing it: 8 of 64 on one build)
    about = [_net_price(f, rng, tone),
             _say(rng, "origin", tone, origin=f.origin) if f.origin else "",
             _say(rng, "maker", tone, maker=f.maker) if f.maker else ""]
    allergy = _say(rng, "allergens", tone, allergens=f.allergens) if f.allergens else ""
    cross = _as_sentence(f.cross_contact) if f.cross_contact else ""
    paragraphs = [_sentences(opener, *about),
                  _sentences(_storage(f, rng, tone), _use_by(f, rng, tone)),
                  _sentences(allergy, cross, _certs(f, rng, tone))]
    notice = notice_block(f.record)
    if notice:
        paragraphs.append(f"{rng.choice(PHRASES['notice_header'][tone])}\n{notice}")
    if policy is not None:
        paragraphs.append(_sentences(_say(rng, "shipping", tone, fee=shipping_fee_text(policy)),
                                     _say(rng, "cs", tone, cs=cs_text(policy))))
    paragraphs.append(f.statement)
    return "\n\n".join(p for p in paragraphs if p)


def notice_headers() -> tuple[str, ...]:
    """Every header the detail copy opens its 상품정보제공고시 list with, in any tone."""
    headers = PHRASES["notice_header"].values()
    return tuple(dict.fromkeys(h for variants in headers for h in variants))


def notice_block(record: ProductRecord) -> str:
    """The detail copy's 상품정보제공고시 list ("- 식품의 유형: 두부", one line per notice field,
    the category's required statement left to the copy itself): a legal table, written the same
    way every time. It is also the value of the ``⟦notice_block⟧`` slot (slots.py), so a model
    writes the whole table as one slot the record fills instead of line after line. Cached by
    the record's content: the advertising-rule check on it costs milliseconds and every draft
    asks for the slot values again."""
    return _notice_block(record.model_dump_json())


@functools.lru_cache(maxsize=4096)
def _notice_block(record_json: str) -> str:
    record = ProductRecord.model_validate_json(record_json)
    statement = _NOTE_CATEGORIES.get(record.category, "")
    notice = _compliant([(label, value)
                         for field, label, value in fact_lines(record, STYLE_FIELDS["detail"])
                         if field.startswith("notice.")
                         and not (statement and field == "notice.not_medicine_notice")], record)
    return "\n".join(f"- {label}: {value}" for label, value in notice)


def _intro(f: _Facts, rng: random.Random, tone: str, policy: ShopPolicy | None) -> str:
    """One sentence, plus the category's required statement where there is one."""
    net = "" if f.net_in_name else f.net
    if net and f.price:
        sentence = _say(rng, "intro_net_price", tone, who=f.who, net=net, price=f.price)
    elif f.price:
        sentence = _say(rng, "intro_price", tone, who=f.who, price=f.price)
    elif net:
        sentence = _say(rng, "intro_net", tone, who=f.who, net=net, net_label=f.net_label)
    else:
        sentence = _say(rng, "intro_plain", tone, who=f.who)
    return _sentences(sentence, f.statement)


def _bullet(sentence: str) -> str:
    return BULLET + sentence.rstrip(".")


def _bullets(f: _Facts, rng: random.Random, tone: str, policy: ShopPolicy | None) -> str:
    head = (_say(rng, "open_brand", tone, brand=f.brand, name=f.name) if f.brand
            else _say(rng, "open", tone, name=f.name))
    candidates = [  # net content, origin and use-by first: grounding wants them in bullets
        _net_price(f, rng, tone),
        _say(rng, "origin", tone, origin=f.origin) if f.origin else "",
        _use_by(f, rng, tone),
        _storage(f, rng, tone),
        _say(rng, "allergens", tone, allergens=f.allergens) if f.allergens else "",
        _certs(f, rng, tone),
        _say(rng, "maker", tone, maker=f.maker) if f.maker else "",
    ]
    room = 5 - (1 if f.statement else 0)
    lines = [head, *[c for c in candidates if c][:room]]
    if len(lines) < 3:
        lines.append(f"분류: {category_label(f.record)}")
    if len(lines) < 3:
        lines.append(rng.choice(PHRASES["bullet_filler"][tone]))
    if f.statement:
        lines.append(f.statement)
    return "\n".join(_bullet(line) if line != f.statement else BULLET + line for line in lines)


def _seo_keywords(f: _Facts) -> list[str]:
    words = [k.strip() for k in f.record.keywords if k.strip()]
    if len(words) < 3:
        derived = [f.brand, *f.name.split(), category_label(f.record).split("(")[0]]
        words += [w for w in derived if len(w) >= 2 and not re.search(r"\d", w)]
    unique: list[str] = []
    for word in words:
        if word not in unique:
            unique.append(word)
    return unique[:8] or [f.name]


def seo_title(f: _Facts, rng: random.Random) -> str:
    """A title of at most SEO_TITLE_MAX characters; optional parts go first when too long."""
    base_amount = f.net.split(" x ")[0]  # "10mL x 30포" in the name already says "10mL x 30개"
    net = "" if not f.net or _squash(base_amount) in _squash(f.name) else f.net
    layouts = [("{brand} {name} {net}", "{name} {net}", "{name}"),
               ("[{brand}] {name} {net}", "{name} {net}", "{name}"),
               ("{name} {net} | {brand}", "{name} | {brand}", "{name}")]
    for layout in rng.choice(layouts):
        if "{brand}" in layout and not f.brand:
            continue
        title = " ".join(layout.format(brand=f.brand, name=f.name, net=net).split())
        title = title.strip(" |")
        if len(title) <= SEO_TITLE_MAX:
            return title
    words, title = f.name.split(), ""
    for word in words:  # cut the name at a word boundary
        if len(f"{title} {word}".strip()) > SEO_TITLE_MAX:
            break
        title = f"{title} {word}".strip()
    return title or f.name[:SEO_TITLE_MAX]


def _seo(f: _Facts, rng: random.Random, tone: str, policy: ShopPolicy | None) -> str:
    # A title has no sentence endings, so tone does not change it (the prompt says the same).
    lines = [seo_title(f, rng), f"키워드: {', '.join(_seo_keywords(f))}", f.statement]
    return "\n".join(line for line in lines if line)


_STYLES: dict[str, Callable[[_Facts, random.Random, str, ShopPolicy | None], str]] = {
    "detail": _detail, "intro": _intro, "bullets": _bullets, "seo": _seo,
}


def render_description(record: ProductRecord, style: str, tone: str,
                       policy: ShopPolicy | None = None, seed: int = 0) -> str:
    """Korean copy of `record` in `style` (detail, intro, bullets, seo) and `tone` (friendly,
    polite, concise). The shop policy adds the shipping fee to detail only."""
    if style not in _STYLES:
        raise ValueError(f"알 수 없는 스타일: '{style}' (가능한 값: {', '.join(_STYLES)})")
    if tone not in TONES:
        raise ValueError(f"알 수 없는 말투: '{tone}' (가능한 값: {', '.join(TONES)})")
    facts = _Facts(_restrict(effective_record(record), STYLE_FIELDS[style]))
    if style not in NOTE_STYLES:
        facts.statement = ""
    rng = _rng(seed, record, style, "" if style == "seo" else tone)  # seo ignores tone
    return _STYLES[style](facts, rng, tone, policy)

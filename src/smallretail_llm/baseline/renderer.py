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
from smallretail_llm.core.korean import (
    fill,
    format_date_fact,
    format_krw,
    format_net_content,
    join_items,
)
from smallretail_llm.core.record import NOTE_STYLES, ProductRecord, ShopPolicy
from smallretail_llm.grounding.compliance import check_compliance

TONES = ("friendly", "polite", "concise")
SEO_TITLE_MAX = 50
BULLET = "• "
_DEADLINE_LABELS = ("소비기한", "유통기한", "사용기한")
_SENTENCE_END = re.compile(r"(다|요|시오|음|함|것|바람)[.!]?$")
_NOTE_CATEGORIES = {"health_food": HEALTH_FOOD_STATEMENT}

# Phrase patterns per fact and tone. "{x:을/를}" attaches the particle that fits x (korean.fill).
# Friendly ends in 해요체, polite in 합니다체, concise in noun fragments.
_P: dict[str, dict[str, list[str]]] = {
    "open_brand": {
        "friendly": ["{brand}의 {name:을/를} 소개해요.", "{brand}에서 나온 {name:이에요/예요}.",
                     "이번에 소개할 상품은 {brand} {name:이에요/예요}.", "{name:은/는} {brand}의 상품이에요."],
        "polite": ["{brand}의 {name:을/를} 소개합니다.", "{brand}에서 선보이는 {name}입니다.",
                   "소개해 드릴 상품은 {brand} {name}입니다.", "{name:은/는} {brand}의 상품입니다."],
        "concise": ["{brand} {name}.", "{name}({brand}).", "브랜드 {brand}, 상품명 {name}.",
                    "{brand}의 {name}."],
    },
    "open": {
        "friendly": ["{name:을/를} 소개해요.", "이번에 소개할 상품은 {name:이에요/예요}.",
                     "오늘 만나 볼 상품은 {name:이에요/예요}.", "{name}, 어떤 상품인지 알려 드릴게요."],
        "polite": ["{name:을/를} 소개합니다.", "소개해 드릴 상품은 {name}입니다.",
                   "{name}의 상품 정보를 안내합니다.", "{name}에 대해 안내해 드립니다."],
        "concise": ["{name}.", "상품명 {name}.", "{name} 상품 안내.", "{name} 정보."],
    },
    "net_price": {
        "friendly": ["{net_label:은/는} {net}이고 가격은 {price:이에요/예요}.",
                     "{net} 구성이고 가격은 {price:이에요/예요}.", "{net}에 {price:이에요/예요}."],
        "polite": ["{net_label:은/는} {net}이며 가격은 {price}입니다.",
                   "{net} 구성으로 가격은 {price}입니다.", "{net} 상품이며 판매 가격은 {price}입니다."],
        "concise": ["{net_label} {net}, 가격 {price}.", "{net} / {price}.", "{net}, {price}."],
    },
    "net": {
        "friendly": ["{net_label:은/는} {net:이에요/예요}.", "{net} 구성이에요."],
        "polite": ["{net_label:은/는} {net}입니다.", "{net} 구성입니다."],
        "concise": ["{net_label} {net}.", "{net} 구성."],
    },
    "price": {
        "friendly": ["가격은 {price:이에요/예요}.", "판매 가격은 {price:이에요/예요}."],
        "polite": ["가격은 {price}입니다.", "판매 가격은 {price}입니다."],
        "concise": ["가격 {price}.", "판매가 {price}."],
    },
    "origin": {
        "friendly": ["원산지는 {origin:이에요/예요}.", "{origin:이/가} 원산지예요."],
        "polite": ["원산지는 {origin}입니다.", "원산지는 {origin:으로/로} 표시되어 있습니다."],
        "concise": ["원산지 {origin}.", "원산지: {origin}."],
    },
    "maker": {
        "friendly": ["제조사는 {maker:이에요/예요}.", "제조원은 {maker:이에요/예요}."],
        "polite": ["제조사는 {maker}입니다.", "제조원은 {maker}입니다."],
        "concise": ["제조사 {maker}.", "제조원 {maker}."],
    },
    "storage_verb": {  # storage text ending in 보관: "냉장 보관" -> "냉장 보관해 주세요."
        "friendly": ["{storage}해 주세요.", "받으신 뒤에는 {storage}해 주세요."],
        "polite": ["{storage}하시기 바랍니다.", "받으신 후 {storage}해 주시기 바랍니다."],
        "concise": ["{storage}.", "보관: {storage}."],
    },
    "storage": {
        "friendly": ["보관 방법은 {storage:이에요/예요}.", "보관할 때는 {storage:을/를} 지켜 주세요."],
        "polite": ["보관 방법은 {storage}입니다.", "보관 방법은 {storage:으로/로} 안내드립니다."],
        "concise": ["보관 방법: {storage}.", "보관 {storage}."],
    },
    "deadline": {
        "friendly": ["{label:은/는} {date}까지예요.", "{label:은/는} {date}까지이니 확인해 주세요."],
        "polite": ["{label:은/는} {date}까지입니다.", "{label:은/는} {date}까지이니 참고해 주시기 바랍니다."],
        "concise": ["{label} {date}까지.", "{label}: {date}까지."],
    },
    "date": {  # 제조일, or a period such as "제조일로부터 12개월"
        "friendly": ["{label:은/는} {date:이에요/예요}."],
        "polite": ["{label:은/는} {date}입니다."],
        "concise": ["{label} {date}."],
    },
    "allergens": {
        "friendly": ["알레르기 유발성분으로 {allergens:을/를} 함유하고 있어요.",
                     "{allergens:을/를} 함유하고 있으니 알레르기가 있다면 확인해 주세요."],
        "polite": ["알레르기 유발성분으로 {allergens:을/를} 함유하고 있습니다.",
                   "이 제품은 {allergens:을/를} 함유하고 있습니다."],
        "concise": ["알레르기 유발성분: {allergens} 함유.", "{allergens} 함유."],
    },
    "certs": {
        "friendly": ["{certs} 인증을 받은 제품이에요.", "인증 정보는 {certs:이에요/예요}."],
        "polite": ["{certs} 인증을 받은 제품입니다.", "인증 정보는 {certs}입니다."],
        "concise": ["{certs} 인증.", "인증: {certs}."],
    },
    "certs_labelled": {  # a recorded certification already ends in 인증 ("KC 인증")
        "friendly": ["인증 정보는 {certs:이에요/예요}."],
        "polite": ["인증 정보는 {certs}입니다."],
        "concise": ["인증: {certs}."],
    },
    "shipping": {
        "friendly": ["배송비는 {fee:이에요/예요}.", "배송비 안내: {fee}."],
        "polite": ["배송비는 {fee}입니다.", "배송비는 {fee:으로/로} 안내드립니다."],
        "concise": ["배송비 {fee}.", "배송비: {fee}."],
    },
    "cs": {
        "friendly": ["궁금한 점은 고객센터 {cs:(으)로} 문의해 주세요.", "고객센터는 {cs:이에요/예요}."],
        "polite": ["문의는 고객센터 {cs:(으)로} 해 주시기 바랍니다.", "고객센터는 {cs}입니다."],
        "concise": ["고객센터 {cs}.", "문의: 고객센터 {cs}."],
    },
    "notice_header": {
        "friendly": ["[상품정보제공고시]", "[상품 정보 안내]"],
        "polite": ["[상품정보제공고시]", "[상품 정보 안내]"],
        "concise": ["[상품정보제공고시]", "[상품 정보]"],
    },
    # intro: one sentence about the product (who = brand + name), always opening with it: the
    # nano model learns one opening reliably, and an intro that opened "{net} {who}…" in a few
    # categories was the one it lost (a draft "⟦net_content⟧에 판매합니다." named no product)
    "intro_net_price": {
        "friendly": ["{who}, {net}에 {price:이에요/예요}.", "{who} {net:을/를} {price}에 만나 보세요.",
                     "{who:은/는} {net}, {price:이에요/예요}."],
        "polite": ["{who}, {net}에 {price}입니다.", "{who} {net:을/를} {price}에 판매합니다.",
                   "{who:은/는} {net}, {price}입니다."],
        "concise": ["{who} {net}, {price}.", "{who}({net}) {price}.", "{who}, {net} {price}."],
    },
    "intro_price": {
        "friendly": ["{who:을/를} {price}에 만나 보세요.", "{who:은/는} {price:이에요/예요}."],
        "polite": ["{who:을/를} {price}에 판매합니다.", "{who:은/는} {price}입니다."],
        "concise": ["{who}, {price}.", "{who} {price}."],
    },
    "intro_net": {
        "friendly": ["{who} {net:이에요/예요}.", "{who:은/는} {net_label:이/가} {net:이에요/예요}."],
        "polite": ["{who} {net}입니다.", "{who:은/는} {net_label:이/가} {net}입니다."],
        "concise": ["{who} {net}.", "{who}, {net_label} {net}."],
    },
    "intro_plain": {
        "friendly": ["{who:을/를} 소개해요.", "{who:이에요/예요}."],
        "polite": ["{who:을/를} 소개합니다.", "{who}입니다."],
        "concise": ["{who}.", "{who} 소개."],
    },
    "bullet_filler": {  # asserts nothing about the product; used only for very sparse records
        "friendly": ["궁금한 점은 문의해 주세요"],
        "polite": ["궁금하신 점은 문의해 주시기 바랍니다"],
        "concise": ["상세 정보는 문의"],
    },
}


def _rng(seed: int, record: ProductRecord, style: str, tone: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}|{record.key}|{style}|{tone}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _say(rng: random.Random, fact: str, tone: str, **values: object) -> str:
    return fill(rng.choice(_P[fact][tone]), **values)


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
    kind = "deadline" if fact.date is not None and fact.label in _DEADLINE_LABELS else "date"
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
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", value)
                     if s.strip() and not check_compliance(s, record, require_statement=False)]
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
        paragraphs.append(f"{rng.choice(_P['notice_header'][tone])}\n{notice}")
    if policy is not None:
        paragraphs.append(_sentences(_say(rng, "shipping", tone, fee=shipping_fee_text(policy)),
                                     _say(rng, "cs", tone, cs=cs_text(policy))))
    paragraphs.append(f.statement)
    return "\n\n".join(p for p in paragraphs if p)


def notice_headers() -> tuple[str, ...]:
    """Every header the detail copy opens its 상품정보제공고시 list with, in any tone."""
    return tuple(dict.fromkeys(h for variants in _P["notice_header"].values() for h in variants))


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
        lines.append(rng.choice(_P["bullet_filler"][tone]))
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

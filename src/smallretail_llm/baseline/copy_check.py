"""Is a draft copy about this product in the requested style? Grounding only asks whether the
claims a text makes are true; a draft that makes no claim ("상품명::::: 공정거래위원회),반품: …")
passes it and is still junk. A description is served only when it names the product, has its
style's shape and carries no prompt fragments or policy text the style does not ask for.

The rules are the reference renderer's own shapes (a test runs them over every rendered text of
the sample catalog), so they hold for any catalog the renderer can write for.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence

from smallretail_llm.baseline.prompt_facts import (
    ANSWER_FIELDS,
    FIELD_LABELS,
    HEALTH_FOOD_STATEMENT,
    NET_LABELS,
    POLICY_LABELS,
    fact_lines,
)
from smallretail_llm.baseline.slots import (
    BLOCK,
    CLOSE,
    LINE,
    OPEN,
    SLOT_RE,
    is_label_slot,
    slot_values,
)
from smallretail_llm.core.categories import CATEGORIES
from smallretail_llm.core.korean import split_sentences
from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.core.vocab import deadline_labels
from smallretail_llm.grounding.claims import squash

PROMPT_MARKERS = re.compile(
    r"\[(?:쇼핑몰 정책|요청|고객 질문)\]|<\|im_(?:start|end)\|>|⟦|⟧"
    r"|^(?:system|user|assistant)\b|^\[상품 정보\]\n(?:상품명|가격|중량|용량|수량):", re.MULTILINE)
"""Section headers and chat markers of the prompts, a role name opening a line, and a value
slot the record did not fill. "[상품 정보]" alone is a heading the renderer writes too; followed
by the prompt's own "상품명:" line it is the prompt."""

DETAIL_POLICY_WORDS = ("교환", "반품", "환불", "택배", "출고")
POLICY_WORDS = ("배송비", "무료배송", "고객센터", *DETAIL_POLICY_WORDS)
"""The detail prompt carries the shipping fee and the CS contact, never return or courier terms;
the other styles carry no policy at all. The decoder bans the same words (`policy_words`)."""


def policy_words(style: str) -> tuple[str, ...]:
    """The shop-policy words copy in `style` may not say in its own words."""
    return DETAIL_POLICY_WORDS if style == "detail" else POLICY_WORDS


@functools.cache
def _policy_re(style: str) -> re.Pattern[str]:
    return re.compile("|".join(r"\s?".join(word) for word in policy_words(style)))

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")

SEO_KEYWORD_LINE = "키워드:"
"""How a seo draft's second line opens (the renderer writes the same)."""

BULLET_LINES = (3, 6)
"""The lines of a bullets draft, as the prompt asks ("3~6줄") and the renderer writes (4-6)."""


def _names_product(text: str, record: ProductRecord) -> bool:
    return squash(record.name) in squash(text)


def without_values(text: str, values: Iterable[str]) -> str:
    """`text` with the record's `values` blanked out (longest first): what the draft says in
    its own words, which is what a style rule judges."""
    for value in sorted(values, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    return text


def copy_problems(text: str, record: ProductRecord, style: str) -> list[tuple[str, str]]:
    """(reason, offending snippet) for each way `text` is not `style` copy of `record`."""
    problems: list[tuple[str, str]] = []
    marker = PROMPT_MARKERS.search(text)
    if marker:
        problems.append(("프롬프트 구성 요소(섹션 표시·역할 이름·빈 값 자리)가 들어 있습니다",
                         marker.group()))
    if not _names_product(text, record):
        problems.append(("상품명이 없습니다: 이 상품에 대한 문구가 아닙니다", record.name[:40]))
    # the record's own text may say 교환 ("품질보증기준: … 무상 수리 또는 교환")
    own = without_values(text, slot_values(record, None).values())
    policy = _policy_re(style).search(own)
    if policy:
        problems.append(("이 스타일이 요청하지 않은 쇼핑몰 정책 내용이 있습니다", policy.group()))
    lines = [line for line in text.splitlines() if line.strip()]
    repeated = next((line for line in lines if lines.count(line) > 1), None)
    limit = 1 if style in ("intro", "seo") else 3  # the name, the net content and a notice line
    numbers = [v for v in slot_values(record, None).values() if re.search(r"\d", v)]
    said_again = next((v for v in numbers if len(re.findall(
        rf"(?<![\d,.]){re.escape(v)}(?![\d])", text)) > limit), None)
    if repeated or said_again:
        problems.append(("같은 내용을 되풀이합니다", (repeated or said_again or "")[:40]))
    keyword_line = next((line for line in lines
                         if line.lstrip("• ").startswith(SEO_KEYWORD_LINE)), None)
    if style != "seo" and keyword_line is not None:  # "• 키워드: 19,800원" names no fact
        problems.append(("SEO 키워드 줄은 SEO에만 씁니다", keyword_line[:40]))
    if style == "bullets":
        loose = next((line for line in lines if not line.startswith("• ")), None)
        if loose is not None:
            problems.append(("핵심 특징의 각 줄은 \"• \"로 시작해야 합니다", loose[:40]))
        if any(len(line.strip("• ")) < 2 for line in lines):
            problems.append(("내용 없는 항목이 있습니다", ""))
        low, high = BULLET_LINES
        if not low <= len(lines) <= high:
            problems.append((f"핵심 특징은 {low}~{high}줄이어야 합니다 ({len(lines)}줄)", ""))
    elif style == "seo":
        if lines[2:] == [HEALTH_FOOD_STATEMENT]:  # the 건강기능식품 statement may follow
            lines = lines[:2]
        if len(lines) != 2 or not lines[1].startswith(SEO_KEYWORD_LINE):
            problems.append(("SEO는 제목 한 줄과 \"키워드: …\" 한 줄이어야 합니다", text[:40]))
        elif len(lines[0]) > 60:
            problems.append((f"SEO 제목이 너무 깁니다 ({len(lines[0])}자)", lines[0][:40]))
    elif style == "intro":
        if len(lines) != 1 or len(_SENTENCE_END.findall(text)) > 2:
            problems.append(("한줄소개는 한 줄(한 문장)이어야 합니다", text[:40]))
    elif style == "detail":
        if len(lines) < 2:
            problems.append(("상세설명은 여러 줄이어야 합니다", text[:40]))
        unfinished = next((line for line in lines if not line.startswith(("[", "- ", "• "))
                           and not _LINE_END.search(line)), None)
        if unfinished is not None:
            problems.append(("끝나지 않은 문장이 있습니다", unfinished[-40:]))
    return problems


def repeated_sentence(text: str) -> str | None:
    """The first sentence of `text` said a second time (six characters or more), else None: an
    answer saying "개인정보 보호를 위해 … 돼요." twice is true and no one would send it. Detail
    copy may restate a 상품정보제공고시 line in its prose, so descriptions are judged by line
    (`copy_problems`)."""
    sentences = [s.strip() for s in split_sentences(text) if len(s.strip()) >= 6]
    return next((s for i, s in enumerate(sentences) if s in sentences[:i]), None)


_LINE_END = re.compile(r"[.!?)]$")
"""A prose line of detail copy ends its sentence; "받으신 뒤에는" before a blank line does not.
Headings ("[상품정보제공고시]") and list lines are not prose."""


def _last_clause_start(head: str) -> tuple[int, bool]:
    """Where the last clause of `head` starts (after its last line break, slot or "• "), and
    whether a slot ends right before it. Read from the end: the decoder asks at every step."""
    bullet = head.rfind("•")
    while bullet >= 0 and not head[bullet + 1:bullet + 2].isspace():
        bullet = head.rfind("•", 0, bullet)
    ends = (head.rfind("\n") + 1, head.rfind(CLOSE) + 1, bullet + 2 if bullet >= 0 else 0)
    start = max(ends)
    return start, start > 0 and start == ends[1] and start != ends[0]
_SENTENCE_END = re.compile(r"[.!?]\s+")


def clause_before(head: str) -> str:
    """The words that introduce the slot after `head`: its sentence since the previous slot,
    line or bullet; or, when that is empty, the whole sentence before it ("기능정보
    알려드릴게요. ⟦net_content⟧예요") unless that sentence follows a slot ("⟦origin⟧이
    원산지예요." belongs to the origin)."""
    start, after_slot = _last_clause_start(head)
    region = head[start:]
    sentences = _SENTENCE_END.split(region)
    clause = sentences[-1]
    if not clause.strip() and len(sentences) > 1 and not (after_slot and len(sentences) == 2):
        clause = sentences[-2]
    return clause

def _label_parts(label: str) -> list[str]:
    """The significant words of a multi-word label ("생산자 및 소재지" -> ["소재지"])."""
    return [part for part in re.split(r"[\s/·(),]+|및", label)
            if len(part) >= 3 and part not in _GENERIC_PARTS]


_GENERIC_PARTS = frozenset({"정보", "관련", "여부", "사항", "표시", "내용", "기준", "방법", "번호"})


@functools.cache
def _known_labels() -> tuple[tuple[str, str], ...]:
    """(field, label word) for every field any category names, and the significant words of
    multi-word labels ("생산자 및 소재지" -> "소재지"): a clause naming one of them is about that
    field even when this record lacks it ("소비기한은 ⟦net_content⟧" on a product with none)."""
    pairs = [(f, label) for f, label in FIELD_LABELS.items()]
    pairs += [("net_content", label) for label in NET_LABELS.values()]
    pairs += list(POLICY_LABELS.items())
    pairs += [("use_by", label) for label in deadline_labels()]  # the copy's own words
    pairs += [("manufacturer", "제조원"), ("price_krw", "판매가")]
    for spec in CATEGORIES.values():
        for f in spec.fields:
            field = f.record_attr or f"notice.{f.key}"
            pairs.append((field, f.label))
            pairs += [(field, part) for part in _label_parts(f.label)]
    return tuple(dict.fromkeys((f, squash(w)) for f, w in pairs if len(squash(w)) >= 2))


def mislabeled_slots(slot_text: str, labels: dict[str, str],
                     values: dict[str, str]) -> list[str]:
    """Slots introduced by another field's name ("소재지는 ⟦net_content⟧", "소비기한은
    ⟦price_krw⟧"): the record fills the right value under the wrong name, which no value check
    sees. `labels`: field -> the label the prompt shows for it; `values`: the slot values."""
    found = []
    for m in SLOT_RE.finditer(slot_text):
        word = misfit(squash(clause_before(slot_text[:m.start()])), m.group(1), labels, values)
        if word:
            found.append(f"{word} {OPEN}{m.group(1)}{CLOSE}")
    return found


def never_mislabeled(name: str) -> bool:
    """Slots no field name can mislabel: a line slot carries its own label, a label slot is
    one, and the product name and the notice list go anywhere."""
    return name.endswith(LINE) or name in ("name", BLOCK) or is_label_slot(name)


def misfit(clause: str, name: str, labels: Mapping[str, str], values: Mapping[str, str],
           own: tuple[frozenset[str], tuple[str, ...]] | None = None,
           named: Sequence[tuple[str, str]] | None = None) -> str | None:
    """The other field's word when slot `name`, written right after `clause` (squashed), would
    state its value under that field's name; None when it fits. A slot fits when its clause
    names no field, or names it or a field holding the same value (the CS phone is both
    "고객센터" and "소비자상담 관련 전화번호"); line slots carry their own label, and a keyword
    list may hold any field's value. The decoder asks this before a slot is written
    (`value_constraint.step_ban`, with `own` computed once per request and `named`, the
    (field, word) pairs the clause names, once per clause), the draft check after."""
    if never_mislabeled(name) or "키워드" in clause:
        return None
    same, words = own or own_words(name, labels, values)
    if any(w in clause for w in words):
        return None
    if named is None:
        named = fields_named(clause)
    return next((w for f, w in named if f not in same and not any(w in o for o in words)), None)


@functools.lru_cache(maxsize=16384)
def fields_named(clause: str) -> tuple[tuple[str, str], ...]:
    """The (field, word) pairs of the field names `clause` (squashed) contains, in
    `_known_labels` order. Only words whose first two characters occur in the clause are
    tested, and clauses repeat across drafts (cached): the decoder asks this at every step."""
    by_head = _labels_by_head()
    heads = {clause[i:i + 2] for i in range(len(clause) - 1)} & by_head.keys()
    found = [entry for head in heads for entry in by_head[head] if entry[2] in clause]
    return tuple((f, w) for _, f, w in sorted(found))


@functools.cache
def _labels_by_head() -> dict[str, list[tuple[int, str, str]]]:
    out: dict[str, list[tuple[int, str, str]]] = {}
    for order, (f, w) in enumerate(_known_labels()):
        out.setdefault(w[:2], []).append((order, f, w))
    return out


def own_words(name: str, labels: Mapping[str, str],
              values: Mapping[str, str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """The fields slot `name` may be written under (itself and any field with the same value)
    and the words that name them."""
    value = values.get(name)
    same = frozenset({f for f, v in values.items() if v == value} | {name})
    return same, _words_naming(same, {f: squash(labels[f]) for f in same if f in labels})


def own_words_all(squashed: Mapping[str, str], groups: Iterable[Iterable[str]]
                  ) -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """`own_words` of every slot, in one pass (the decoder's label tables): `squashed`, field
    -> squashed label; `groups`, the slot names that share each value."""
    owners: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}
    for group in groups:
        same = frozenset(group)
        words = _words_naming(same, squashed)
        owners.update((name, (same, words)) for name in same)
    return owners


def _words_naming(fields: frozenset[str], squashed_labels: Mapping[str, str]) -> tuple[str, ...]:
    words = [squashed_labels[f] for f in fields if f in squashed_labels]
    return (*words, *(w for f in fields for w in _words_of().get(f, ())))


def unshown_field_words(shown: set[str], labels: Mapping[str, str]) -> frozenset[str]:
    """The words that name only record or policy fields outside `shown`: a description names
    only the fields its prompt shows ("• 알레르기 유발성분으로 이에요" for a record without
    allergens). The seo keyword line's "키워드" is its shape, not a field; the
    상품정보제공고시 fields are left out (parts of their long labels are everyday words:
    "사용할", "상품의")."""
    named: dict[str, set[str]] = {}
    for f, label in [*_known_labels(), *labels.items(), *FIELD_LABELS.items()]:
        if not f.startswith("notice.") and f != "keywords":
            for w in {squash(label), *_label_parts(label)}:  # "알레르기 유발성분": "유발성분"
                named.setdefault(w, set()).add(f)
    kept = {w for w, fields in named.items() if fields & shown}
    kept |= {squash(label) for f, label in _known_labels() if f in shown}  # its notice lines
    return frozenset(w for w in named.keys() - kept
                     if len(w) >= 2 and not any(w in k for k in kept))


def squashed_labels(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(field, squashed label) of a request's labels, sorted: the form `own_label_words` reads,
    built once per request."""
    return tuple(sorted((f, squash(label)) for f, label in labels.items()))


@functools.lru_cache(maxsize=4096)
def own_label_words(field: str, labels: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The words that name `field` and no other field of this request (`labels`: the fields
    its prompt shows, `squashed_labels`): "배송" is inside 배송비's name, so it is not the
    shipping days' own. The decoder bans them once the field's slot is written. Only the
    request's fields count: a health supplement's "중량" was left unbanned after ⟦net_content⟧
    because a kitchen product's notice says "용량 또는 중량", and "중량은 …" with nothing to
    fill it followed."""
    words = set(_words_of().get(field, ()))
    words.update(label for f, label in labels if f == field and label)
    others = [w for f, label in labels if f != field for w in (label, *_words_of().get(f, ()))]
    return tuple(sorted(w for w in words if len(w) >= 2 and not any(w in o for o in others)))


@functools.cache
def _words_of() -> dict[str, tuple[str, ...]]:
    """Field -> its words in `_known_labels`."""
    out: dict[str, list[str]] = {}
    for f, w in _known_labels():
        out.setdefault(f, []).append(w)
    return {f: tuple(ws) for f, ws in out.items()}


def orphan_labels(slot_text: str, values: dict[str, str]) -> list[str]:
    """Lines or sentences of a description that name a field but state no value of the record
    ("• 인증 정보는 이 원산지예요"): copy about a fact without the fact. Headings ("[상품 정보
    안내]") and stock ("재고 있음") state none by nature."""
    found = []
    for piece in split_sentences(slot_text):
        text = piece.strip()
        if not text or text.startswith("[") or SLOT_RE.search(text):
            continue
        flat = squash(text)
        if any(v and squash(v) in flat for v in values.values()):
            continue
        if any(f != "stock" and w in flat for f, w in _known_labels()):
            found.append(text)
    return found


def field_labels(record: ProductRecord, policy: ShopPolicy | None) -> dict[str, str]:
    """Field -> the label the prompt shows for it (record facts and shop policy lines)."""
    labels = {field: label for field, label, _ in fact_lines(record, ANSWER_FIELDS)}
    if policy is not None:
        labels.update(POLICY_LABELS)
    return labels

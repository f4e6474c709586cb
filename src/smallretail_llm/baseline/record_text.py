"""Facts in the product name and the shop's free text, as evidence for an answer.

A shop's export often says the size or material only in the name ("스테인리스 양수 냄비 20cm")
or in a notice field about something else ("크기: 지름 24cm x 높이 12cm, 용량 5.0L"). These
functions find where the record holds what a question asks: an amount of the asked kind, or a
word the question proposes. The caller says so ("상품명에 표시된 크기는 20cm입니다") when the
name is the only source.

Decisions:
- Free text is the 상품정보제공고시 values and the storage line; `existing_description` is not
  evidence (grounding never lets it support a claim, and the shop audits it as copy).
- Spelling variants people type (스텐/스테인리스, 인덕션/IH, 린넨/리넨, 폴리/폴리에스터) count as
  the same word; a table of spellings, not of products.
- A one-syllable word ("꿀", "울") matches only at the end of a word of the value ("벌꿀 5%",
  "울 20%"), never inside one.
- Words of the product name are the question's subject, not what it asks: they are not searched
  in the free text ("생강청 꿀 들어가요?" looks for 꿀).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from smallretail_llm.baseline.question import KIND_OF_UNIT, quantities
from smallretail_llm.core.categories import FieldSpec
from smallretail_llm.core.vocab import deadline_labels

_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("스테인리스", "스텐", "스테인레스", "sts", "스뎅"), ("인덕션", "ih"), ("린넨", "리넨", "linen"),
    ("폴리에스터", "폴리에스테르", "폴리"), ("코튼", "면"), ("실리콘", "실리콘"),
    ("국산", "국내산", "한국", "대한민국", "국내"), ("알루미늄", "알미늄"), ("wav", "wav"),
    ("비타민d", "비타민d3"), ("ph", "ph"), ("오리털", "오리솜털", "오리"), ("거위털", "거위솜털", "구스"),
    ("유리", "강화유리"), ("냉장", "냉장고", "냉장실"), ("냉동", "냉동실", "냉동고"),
    ("실온", "상온"), ("하루", "1일", "일일"), ("논슬립", "미끄럼방지", "미끄럼", "미끄러"), ("세탁기", "세탁기", "손세탁"), ("프로", "%"), ("퍼센트", "%"), ("원목", "나무"), ("세라믹", "세라믹코팅"),
)
_VARIANT_OF = {w: group for group in _VARIANTS for w in group}
_NAME_FIELDS = ("product_name", "model_name")  # the name again: never evidence of another field


@dataclass(frozen=True)
class Source:
    """Where the record states something: `field` ("name", "notice.size", "storage"), its
    spoken `label`, and the `value` text (for the name: the matched part only)."""

    field: str
    label: str
    value: str


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower())


def spellings(word: str) -> tuple[str, ...]:
    """The word and the other spellings of it people type."""
    return _VARIANT_OF.get(word, (word,))


def _contains(value: str, word: str) -> bool:
    norm = _norm(value)
    for variant in spellings(word):
        if len(variant) == 1 and "가" <= variant <= "힣":
            if re.search(rf"{variant}(?![가-힣])", unicodedata.normalize("NFKC", value).lower()):
                return True
        elif variant in norm:
            return True
    return False


def free_text(record, specs: dict[str, FieldSpec]) -> list[Source]:
    """The record's free-text facts: notice values (not the name again) and the storage line."""
    out = []
    for key, value in record.notice.items():
        spec = specs.get(key)
        if not (value or "").strip() or key in _NAME_FIELDS or (spec and spec.record_attr == "name"):
            continue
        label = spec.label if spec and len(spec.label) <= 12 else (
            max((a for a in spec.aliases if len(a) <= 12), key=len, default=spec.label) if spec else key)
        out.append(Source(f"notice.{key}", label, value.strip()))
    if record.storage and record.storage.strip():
        out.append(Source("storage", "보관방법", record.storage.strip()))
    return out


def amount_in(text: str, kind: str) -> bool:
    return any(KIND_OF_UNIT.get(unit) == kind for _, unit in quantities(text))


_AMOUNT_SPAN = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:cm|mm|센치|센티|m|kg|g|mg|ml|l|리터|cc|과|알|구|롤|개입|개|입|봉|포|팩|병|캡슐|"
    r"정|장|매|인치)(?![a-z])(?:\s*[x×*]\s*\d+(?:[.,]\d+)?\s*(?:cm|mm|개|입|봉|팩|병))*", re.IGNORECASE)


def name_amount(name: str, kind: str) -> str | None:
    """The part of the product name that states an amount of `kind` ("20cm", "3kg", "10과")."""
    for m in _AMOUNT_SPAN.finditer(name):
        if amount_in(m.group(), kind):
            return m.group().strip()
    return None


def name_tokens(name: str, words: list[str]) -> list[str]:
    """The proposed words that are whole words of the product name (its subject: "생강청")."""
    tokens = {t.lower() for t in re.findall(r"[0-9A-Za-z가-힣%.+]+", unicodedata.normalize("NFKC", name))}
    return [w for w in words if w in tokens]


_ATTRIBUTES = frozenset((
    "스테인리스", "스텐", "스테인레스", "유리", "강화유리", "내열유리", "실리콘", "원목", "대나무", "편백",
    "세라믹", "도자기", "주물", "무쇠", "알루미늄", "티타늄", "코튼", "면", "린넨", "리넨", "울", "캐시미어",
    "폴리에스터", "나일론", "가죽", "트라이탄", "유기농", "무농약", "친환경", "국산", "국내산", "haccp",
    "무첨가", "무설탕", "무가당", "저당", "저염", "통3중", "ih", "인덕션", "무선", "방수", "저분자"))
"""Words that state an attribute (material, certification, make) when a name carries them."""


def name_attributes(name: str, words: list[str]) -> list[str]:
    """The proposed attribute words ("스테인리스", "유기농") the product name states."""
    return name_words(name, [w for w in words if any(v in _ATTRIBUTES for v in spellings(w))])


def name_words(name: str, words: list[str]) -> list[str]:
    """The proposed words the product name states, as the name spells them."""
    tokens = re.findall(r"[0-9A-Za-z가-힣%.+]+", unicodedata.normalize("NFKC", name))
    found = []
    for word in words:
        for token in tokens:
            if any(v in token.lower() for v in spellings(word)) and token not in found:
                found.append(token)
                break
    return found


def amount_sources(record, specs: dict[str, FieldSpec], kind: str) -> list[Source]:
    """Free-text fields that state an amount of `kind` (the size line holding "용량 5.0L")."""
    return [s for s in free_text(record, specs) if amount_in(s.value, kind)]


_POLICY_TEXT = (("courier", "택배사"), ("shipping_days", "배송 일정"), ("return_policy", "교환/반품 규정"))


def word_sources(record, specs: dict[str, FieldSpec], words: list[str],
                 policy=None) -> list[Source]:
    """Free-text fields that state the most of `words` (ties: all of them, in record order);
    a word's first two syllables are tried when no field has the whole word ("오리털" ->
    "오리솜털")."""
    words = [w for w in words if not name_tokens(record.name, [w])] or words
    sources = free_text(record, specs)
    if policy is not None:
        sources += [Source(f"policy.{attr}", label, getattr(policy, attr).strip())
                    for attr, label in _POLICY_TEXT if (getattr(policy, attr) or "").strip()]
    heads = [w[:2] for w in words if len(w) >= 3 and "가" <= w[0] <= "힣"]
    for attempt, pool in ((words, sources), (heads, [s for s in sources if not s.field.startswith("policy.")])):
        scored = [(sum(_contains(s.value, w) for w in attempt), s) for s in pool]
        best = max((n for n, _ in scored), default=0)
        if best:
            top = [s for n, s in scored if n == best]
            own = [s for s in top if not s.field.startswith("policy.")]
            return own or top  # the product's own text before the shop's policy
    return []


def states_amount_of(value: str, words: list[str]) -> bool:
    """Whether the value gives an amount of one of the words: a number just after it ("울 20%",
    "DHA의 합 600mg") or just before it ("100억 CFU"), not only the word ("울 전용 세제")."""
    text = unicodedata.normalize("NFKC", value).lower()
    for word in words:
        for variant in spellings(word):
            v = re.escape(variant)
            if re.search(rf"{v}[^,;()\d]{{0,5}}\d|\d[^\s\d]?\s?{v}", text):
                return True
    return False


def value_has(value: str, words: list[str]) -> bool:
    """Whether a field value states any of the proposed words (in any spelling)."""
    return any(_contains(value, w) for w in words)


def value_has_most(value: str, words: list[str]) -> bool:
    """Whether a value states the proposed words, all but one of three or more (the product
    type said in other words: "바지" for 조거팬츠), a word's first two syllables allowed."""
    found = sum(_contains(value, w) or (len(w) >= 3 and _contains(value, w[:2])) for w in words)
    return bool(words) and found >= max(1, len(words) - (1 if len(words) >= 2 else 0))


def labelled_sources(record, specs: dict[str, FieldSpec], label: str) -> list[Source]:
    """Free-text fields whose label contains `label` ("유통기한" -> "제조연월 및 유통기한"):
    the record states an asked field under a longer notice label."""
    key = "기한" if _norm(label) in deadline_labels() else _norm(label)
    return [s for s in free_text(record, specs) if key and key in _norm(s.label)]

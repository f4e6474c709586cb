"""The rule answer to each question of a message: the asked field's value, 네/아니요 for a
yes/no question, the amount of the asked kind, facts from the product name or free text, and a
hand-off for what the record does not say. `rule_answer.answer_question` joins the parts.

Decisions:
- Yes/no: a proposed amount is compared with the record's amount of the same kind (1500ml =
  1.5L -> 네; 1리터 vs 900mL -> 아니요, with the record's value). A proposed word found in the
  field's value -> 네. Not found: 아니요 for a one-value field (원산지, 브랜드, 색상 …), a hand-off
  for a list or free text (소재, 치수, 성분 …: what it leaves out is unknown, not absent). A
  negative question ("중국산 아니죠?") gets the value without 네/아니요, which would be ambiguous.
- An amount question is answered only with an amount of its kind: "몇 개 들어있어요?" is not
  answered by "중량 3kg"; the count comes from the record, a notice line or the name, or a person.
- A value found only in the product name is said as "상품명에 표시된 …".
- Options the record does not list ("다른 색상도 있나요?") and advice about the customer ("70키로면
  무슨 사이즈?") go to a person, unless the field itself lists several options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from smallretail_llm.baseline.intent import (
    IntentMatch,
    match_intents,
    normalize,
    out_of_scope_topic,
)
from smallretail_llm.baseline.qa import field_answer, field_label, field_value
from smallretail_llm.baseline.question import (
    KIND_OF_UNIT,
    amount_kind,
    asks_advice,
    asks_after_opening,
    asks_alternatives,
    asks_extra_fee,
    asks_how_much,
    buys_units,
    generic_kind,
    is_yes_no,
    proposed_words,
    quantities,
)
from smallretail_llm.baseline.record_text import (
    Source,
    amount_in,
    amount_sources,
    labelled_sources,
    name_amount,
    name_attributes,
    name_tokens,
    states_amount_of,
    value_has,
    value_has_most,
    word_sources,
)
from smallretail_llm.baseline.relevance import off_kind
from smallretail_llm.core.categories import FieldSpec
from smallretail_llm.core.korean import fill
from smallretail_llm.core.record import ProductRecord, ShopPolicy

KIND_LABELS = {"count": "개수", "weight": "중량", "volume": "용량", "length": "크기"}
"""Spoken names of amount kinds ("개수", not "수량": grounding reads 수량 as the net content)."""
_AMOUNT_FIELDS = ("net_content", "notice.size", "notice.net_content", "notice.pack_size",
                  "notice.weight", "notice.dimensions")
_ONE_VALUE = frozenset({"origin", "manufacturer", "brand", "price_krw", "net_content", "use_by",
                        "notice.color", "notice.made_in", "notice.model_name", "notice.food_type"})
_LABEL_WORDS = frozenset(normalize(w) for w in (
    "재질", "소재", "원단", "사이즈", "치수", "크기", "색상", "색깔", "컬러", "용량", "중량", "무게",
    "가격", "원산지", "국가", "브랜드", "제조사", "성분", "원재료", "원료", "함량", "인증", "보관",
    "보관방법", "소비기한", "유통기한", "사용기한", "지름", "두께", "길이", "높이", "받은", "받았",
    "나온", "만든", "쓰는", "하는", "들어간", "된", "되어", "제품", "상품", "나라", "지역", "국가"))
_CONFIRMABLE = _ONE_VALUE | {"certifications", "name"}
"""Fields whose value a found word confirms (네); a free-text line may say "냉장 보관하지 마세요",
so there a found word only makes the answer state the line."""
_MADE_OF = ("notice.ingredients", "notice.material")
"""Lines that say where a part comes from ("대두(국산)", "소가죽(이탈리아산)")."""
_OPTION_LISTS = frozenset({"notice.size", "notice.color"})
"""Lists of the options sold: a word they lack is answered with the list, not a hand-off."""
_DOMESTIC = re.compile(r"(?<![가-힣])(?:국산|국내|한국|대한민국)")  # not the 국산 of 미국산
_NEGATIVE = re.compile(r"아니[죠지에야]|아닌|안\s*들어|없죠|없는\s*거\s*맞")


@dataclass
class Part:
    """The rule answer to one question of a message: `text` (None: nothing answered),
    the fields it states, the labels of asked fields the record lacks, and a hand-off reason
    ("unknown", or an out-of-scope topic) when the question itself goes to a person."""

    text: str | None = None
    evidence: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    handoff: str | None = None
    first: str | None = None

    def said_in(self, said: list[str]) -> bool:
        """Whether an answer with the fields `said` already said all this one would: a
        second question (or a second keyword of one, "상담 전화 몇 시까지") it answered."""
        return bool(self.text and self.evidence) and all(e in said for e in self.evidence)


def _sentence(label: str, value: str, tone: str, lead: str = "", from_name: bool = False) -> str:
    """"네, 용량은 1.5L입니다." / "상품명에 표시된 크기는 20cm예요." in the tone."""
    if from_name:
        label = f"상품명에 표시된 {label}"
    body = {"polite": fill("{l:은/는} {v}입니다.", l=label, v=value),
            "friendly": fill("{l:은/는} {v:이에요/예요}.", l=label, v=value),
            "concise": f"{label}: {value}"}[tone]
    return f"{lead}{body}"


def _as_named(value: str, tone: str, lead: str = "") -> str:
    """"상품명에 표시된 대로 1.7L입니다.": a value only the product name states."""
    return lead + {"polite": f"상품명에 표시된 대로 {value}입니다.",
                   "friendly": fill("상품명에 표시된 대로 {v:이에요/예요}.", v=value),
                   "concise": f"상품명 표시: {value}"}[tone]


def _lead(answer: bool | None) -> str:
    return "" if answer is None else ("네, " if answer else "아니요, ")


_VALUE_KEYWORDS = frozenset(normalize(w) for w in (
    "유기농", "친환경", "무농약", "haccp", "해썹", "할랄", "gap", "kc", "냉장", "냉동", "실온", "상온",
    "국산", "국내산", "수입산", "수입품", "중국산", "품절"))
"""Keywords that name a field and are also its value ("유기농 맞아요?" proposes 유기농)."""


def _words(part: str, record: ProductRecord) -> list[str]:
    """Proposed words that are not field names ("인증마크", "식품유형", "색상 정보")."""
    out = []
    for word in proposed_words(part):
        key = normalize(word)
        if key in _LABEL_WORDS or key.endswith(("정보", "마크")):
            continue
        if key not in _VALUE_KEYWORDS and match_intents(word, record.category):
            continue
        out.append(word)
    return out


def _same_amount(asked: list[tuple[float, str]], value: str) -> bool | None:
    """Whether the value states the proposed amount (None: the value has none of its kind)."""
    have = quantities(value)
    result = None
    for number, unit in asked:
        same_kind = [v for v, u in have if u == unit]
        if same_kind:
            result = bool(result) or any(abs(v - number) < 1e-6 for v in same_kind)
    return result


def _yes_no(part: str, name: str, value: str, words: list[str], record: ProductRecord,
            negative: bool) -> bool | Literal["handoff"] | None:
    """True/False for 네/아니요, None for no verdict (state the value), "handoff" when the
    record cannot settle it."""
    asked_amounts = quantities(part)
    if asked_amounts:
        same = _same_amount(asked_amounts, value)
        if same is not None:
            if not same and asks_alternatives(part):
                return "handoff"  # "2kg짜리도 있나요?": other sizes are not in the record
            return None if negative else same
    compare = [w for w in words if not name_tokens(record.name, [w])]
    if name == "origin":  # 국산/수입 is a class of origins: 노르웨이 answers "수입품인가요?" too
        asks = [w for w in words if w.startswith(("국산", "국내", "수입"))]
        if asks and not negative:
            domestic = bool(_DOMESTIC.search(value))
            return domestic == asks[0].startswith(("국산", "국내"))
        compare = [_place(w) for w in compare]
    if not compare:
        return None
    if value_has(value, compare):
        return None if negative or name not in _CONFIRMABLE else True
    if name in _ONE_VALUE and not asks_alternatives(part):
        return None if negative else False
    if name in _OPTION_LISTS or not _is_list(name):
        return None  # the line itself answers ("서늘한 곳에 보관"; sizes "S, M, L")
    return "handoff"


def _place(word: str) -> str:
    """"제주산" -> "제주": the place of an origin word."""
    return word[:-1] if len(word) >= 3 and word.endswith("산") else word


def _is_list(name: str) -> bool:
    """Lists whose silence about a word is no answer (ingredients, materials, specs)."""
    return name == "certifications" or (name.startswith("notice.") and name.removeprefix(
        "notice.") in ("ingredients", "all_ingredients", "material", "components", "specification",
                       "chemicals", "nutrition"))


def _amount(kind: str, field_name: str | None, record: ProductRecord, policy: ShopPolicy,
            specs: dict[str, FieldSpec], tone: str, strict: bool = True) -> tuple[Part, str | None]:
    """The amount of `kind`: (answer, the value text it states) or a missing part. Not
    `strict` (the question said only "용량"): the asked field's value of any kind will do."""
    if not strict and field_name and (asked := field_value(field_name, record)):
        result = field_answer(field_name, record, policy, tone)
        if result:
            return Part(result[0], list(result[1]), first=field_name), asked[1]
    candidates = [field_name] if field_name else []
    candidates += [f for f in _AMOUNT_FIELDS if f not in candidates]
    for name in candidates:
        found = field_value(name, record)
        if found and amount_in(found[1], kind):
            result = field_answer(name, record, policy, tone)
            if result:
                return Part(result[0], list(result[1]), first=name), found[1]
    for source in amount_sources(record, specs, kind):
        return Part(_sentence(source.label, source.value, tone), [source.field],
                    first=source.field), source.value
    in_name = name_amount(record.name, kind)
    if in_name:  # "상품명에 표시된 대로 1.7L": "용량은 …" would read as the (empty) net content
        return Part(_as_named(in_name, tone), ["name"], first="name"), in_name
    label = field_label(field_name, record) if field_name and field_name != "net_content" else (
        KIND_LABELS[kind])
    return Part(missing=[label], first=field_name), None


def _prefixed(part: Part, verdict: bool | None) -> Part:
    if part.text and verdict is not None:
        part.text = _lead(verdict) + part.text
    return part


def _field(intent: IntentMatch, part_text: str, record: ProductRecord, policy: ShopPolicy,
           specs: dict[str, FieldSpec], tone: str, kind: str | None, words: list[str],
           yes: bool, negative: bool) -> Part:
    name = intent.field
    listed = field_value(name, record)
    if asks_alternatives(part_text) and not (listed and "," in listed[1]):
        return Part(missing=[field_label(name, record)], first=name)
    if intent.allergen or name.startswith("policy.") or name == "stock":
        result = field_answer(name, record, policy, tone, intent.allergen)
        if result is None:
            return Part(missing=[field_label(name, record)], first=name)
        return Part(result[0], list(result[1]), first=name)
    strict = kind is not None and amount_kind(part_text, explicit=True) is not None
    kind = kind or (generic_kind(part_text) if name in _AMOUNT_FIELDS else None)
    if kind and name in _AMOUNT_FIELDS:
        part, value = _amount(kind, name, record, policy, specs, tone, strict)
        if value is not None and yes:
            verdict = _yes_no(part_text, name, value, words, record, negative)
            return _prefixed(part, None if verdict == "handoff" else verdict)
        return part
    if name == "origin":  # "귀리 어느 나라 거예요?", "생강 국산이에요?": a part's origin line
        named = [w for w in words if _place(w) == w and not w.startswith(("국산", "국내", "수입"))]
        for source in word_sources(record, specs, named) if named else []:
            if source.field in _MADE_OF:
                return Part(_sentence(source.label, source.value, tone), [source.field], first=name)
    found = field_value(name, record)
    if found is None:
        return _from_text(part_text, record, policy, specs, tone, words, yes, name)
    value = found[1]
    result = field_answer(name, record, policy, tone)
    if result is None:
        return Part(missing=[field_label(name, record)], first=name)
    part = Part(result[0], list(result[1]), first=name)
    if yes:
        verdict = _yes_no(part_text, name, value, words, record, negative)
        if verdict == "handoff":
            return Part(missing=[field_label(name, record)], first=name)
        return _prefixed(part, verdict)
    return part


def _from_text(part_text: str, record: ProductRecord, policy: ShopPolicy,
               specs: dict[str, FieldSpec], tone: str, words: list[str], yes: bool,
               asked: str | None) -> Part:
    """A field the record lacks, or no field named: a notice line under the field's label,
    the product name (a yes/no whose words it all states), then the free text."""
    if asked:
        for source in labelled_sources(record, specs, field_label(asked, record))[:1]:
            return Part(_sentence(source.label, source.value, tone), [source.field], first=asked)
    shown = name_attributes(record.name, words)
    if asked and shown:
        label = field_label(asked, record)
        return Part(_sentence(label, " ".join(shown), tone, _lead(True if yes else None),
                              from_name=True), ["name"], first=asked)
    sources: list[Source] = [] if asked else word_sources(record, specs, words, policy)[:2]
    if yes and sources:
        compare = [w for w in words if not name_tokens(record.name, [w])]
        sources = [s for s in sources if value_has_most(s.value, compare or words)]
    if len(sources) > 1 and asks_how_much(part_text):  # "울 함량": "울 20%", not "울 전용 세제"
        compare = [w for w in words if not name_tokens(record.name, [w])] or words
        sources = [s for s in sources if states_amount_of(s.value, compare)] or sources
    if not sources:
        if asked:
            return Part(missing=[field_label(asked, record)], first=asked)
        named = name_tokens(record.name, words)
        if yes and words and len(named) == len(words):  # "캡형이에요?" of "… 물티슈 캡형 …"
            return Part(_as_named(" ".join(named), tone, "네, "), ["name"], first="name")
        return Part(handoff="unknown")
    text = " ".join(_sentence(s.label, s.value, tone) for s in sources)
    return Part(text, [s.field for s in sources], first=sources[0].field)


def answer_part(part_text: str, record: ProductRecord, policy: ShopPolicy, tone: str,
                specs: dict[str, FieldSpec]) -> Part:
    """The rule answer to one question (see the module doc), held to the same relevance
    check as a model draft: an amount of another kind is no answer."""
    part = _answer_part(part_text, record, policy, tone, specs)
    if part.text and off_kind(part.text, part_text):
        kind = amount_kind(part_text, explicit=True) or "count"
        return Part(missing=[KIND_LABELS[kind]], first=part.first)
    return part


def _asked_fields(part_text: str, intents: list[IntentMatch], words: list[str],
                  record: ProductRecord, policy: ShopPolicy, specs: dict[str, FieldSpec]
                  ) -> list[IntentMatch]:
    """What the keywords read, made right by the record:
    - a question about the opened product gets the line that speaks of opening (storage "개봉
      후 냉장 보관하고 5일 이내"), not the sealed product's use-by date;
    - "제주도는 배송비 더 붙나요?" gets the shipping line that states the surcharge, not the
      base fee;
    - "우유 재고 남아 있어요?" of a milk names the product, not an allergen;
    - "원유 어디꺼에요" asks where an ingredient comes from (its line), not the brand;
    - "두 봉 사면 되나?" names no field: what buying more units changes, and the record knows,
      is free shipping (not how many a pack holds)."""
    fields = [i.field for i in intents]
    dated = [i for i in intents if i.field in ("use_by", "storage")]
    if dated and asks_after_opening(part_text):
        opened = [IntentMatch(f) for f in ("storage", "use_by")
                  if (found := field_value(f, record)) and asks_after_opening(found[1])]
        if opened:
            at = intents.index(dated[0])
            rest = [i for i in intents if i not in dated]
            intents = rest[:at] + opened + rest[at:]
    if "policy.shipping_fee_krw" in fields and asks_extra_fee(part_text) \
            and asks_extra_fee(policy.shipping_days or ""):
        intents = list(dict.fromkeys(IntentMatch("policy.shipping_days")
                                     if i.field == "policy.shipping_fee_krw" else i for i in intents))
    if len(intents) > 1:
        intents = [i for i in intents if not (i.allergen and name_tokens(record.name, [i.allergen]))]
    if fields == ["brand"]:
        named = [w for w in words if not name_tokens(record.name, [w])]
        if named and any(s.field in _MADE_OF for s in word_sources(record, specs, named)):
            intents = [IntentMatch("origin")]
    if not intents and buys_units(part_text):
        intents = [IntentMatch("policy.free_shipping_threshold_krw")]
    return intents


def _answer_part(part_text: str, record: ProductRecord, policy: ShopPolicy, tone: str,
                 specs: dict[str, FieldSpec]) -> Part:
    topic = out_of_scope_topic(part_text)
    if topic:
        return Part(handoff=topic)
    if asks_advice(part_text):
        return Part(handoff="unknown")
    words = _words(part_text, record)
    intents = _asked_fields(part_text, match_intents(part_text, record.category), words, record,
                            policy, specs)
    yes = is_yes_no(part_text)
    negative = bool(_NEGATIVE.search(part_text))
    asked_amounts = quantities(part_text)
    kind = amount_kind(part_text)
    if kind is None and yes and asked_amounts:
        kind = KIND_OF_UNIT.get(asked_amounts[0][1])
    if not intents and any(_place(w) != w and not name_tokens(record.name, [w]) for w in words):
        intents = [IntentMatch("origin")]  # "베트남산 맞아요?", "제주산이에요?"
    if not intents:
        if asks_alternatives(part_text):
            return Part(handoff="unknown")
        if words:
            found = _from_text(part_text, record, policy, specs, tone, words, yes, None)
            # "하루 1포 맞죠": a line that states the asked amount; else the amount itself
            if found.text and (not asked_amounts or _same_amount(asked_amounts, found.text)):
                return found
            if not kind:
                return found
        if kind:
            part, value = _amount(kind, None, record, policy, specs, tone)
            if part.text and yes and value is not None:
                verdict = _yes_no(part_text, part.first or "", value, words, record, negative)
                if verdict == "handoff":
                    return Part(missing=(part.evidence and [KIND_LABELS[kind]]) or [])
                part = _prefixed(part, verdict)
            return part
        return Part(handoff="unknown")
    merged = Part(first=intents[0].field)
    texts = []
    for intent in intents:
        one = _field(intent, part_text, record, policy, specs, tone, kind, words, yes, negative)
        if one.said_in(merged.evidence):
            continue  # the phone's answer gives the hours too, and the hours' the phone
        if one.text:
            texts.append(one.text)
            merged.evidence += [e for e in one.evidence if e not in merged.evidence]
        merged.missing += [m for m in one.missing if m not in merged.missing]
    merged.text = " ".join(texts) or None
    return merged

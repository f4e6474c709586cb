"""The deterministic Q&A baseline: a customer message split into its questions, each answered by
`qa_parts.answer_part` from the record and policy, joined into one answer with one hand-off for
what the record does not say. It answers when the model's draft fails a check, and it writes the
Q&A references of eval."""

from __future__ import annotations

import re

from smallretail_llm.baseline.intent import is_injection, match_intents
from smallretail_llm.baseline.prompt_facts import HANDOFF_MARKER
from smallretail_llm.baseline.qa import (
    PII_NOTE,
    QAExample,
    field_answer,
    handoff_answer,
    refusal_answer,
    rest_handoff,
    spec_fields,
    tone_of,
)
from smallretail_llm.baseline.qa_parts import Part, answer_part
from smallretail_llm.baseline.question import proposed_words, split_parts
from smallretail_llm.core.pii import redact_pii
from smallretail_llm.core.record import ProductRecord, ShopPolicy


def _has_words(text: str) -> bool:
    return any(not re.search(r"\d", w) for w in proposed_words(text))  # "5만원?" is no new topic


def answer_question(question: str, record: ProductRecord, policy: ShopPolicy,
                    tone: str | None = None) -> QAExample:
    """Deterministic Q&A baseline: rule-matched fields answered from the record and policy,
    everything else handed off. Never raises on odd text."""
    tone = tone_of(tone or policy.tone)
    if is_injection(question):  # refuse, then state the true value of any field it names
        parts, evidence, first = [refusal_answer(tone)], [], None
        for intent in match_intents(question, record.category, screen=False):
            result = field_answer(intent.field, record, policy, tone, intent.allergen)
            if result is not None:
                parts.append(result[0])
                evidence += [e for e in result[1] if e not in evidence]
                first = first or intent.field
        return QAExample(question, " ".join(parts), False, evidence, "injection", first)
    has_pii = bool(redact_pii(question).found)
    kind = "pii" if has_pii else None
    specs = spec_fields(record)
    read = redact_pii(question).text  # "카드번호 …" is the customer's data, not a question
    answers: list[Part] = []
    for text in split_parts(read):
        one = answer_part(text, record, policy, tone, specs)
        if one.handoff == "unknown" and answers and answers[-1].text and not _has_words(text):
            continue  # "얼마나요?" after "꿀 들어가요?": the same question, already answered
        said = [e for a in answers for e in a.evidence]
        if one.said_in(said):
            one.text = None
        answers.append(one)
    texts = [a.text for a in answers if a.text]
    if not texts and not any(a.missing for a in answers):  # nothing the record answers
        reason = next((a.handoff for a in answers if a.handoff not in (None, "unknown")), "unknown")
        return QAExample(question, handoff_answer(reason, tone), True, [], kind or "unanswerable",
                         None)
    rest = [a.handoff for a in answers if a.handoff]
    # each part a sentence of its own: "가격: 3,000원" + "할인 …" must not read as "3,000원 할인"
    parts = [t if not rest or t.endswith((".", "!", "?", ")"))
             else t + "." for t in texts]
    evidence, missing = [], []
    for a in answers:
        evidence += [e for e in a.evidence if e not in evidence]
        missing += [m for m in a.missing if m not in missing]
    if missing:
        note = handoff_answer("missing", tone, label=", ".join(missing))
        parts.append(note.removesuffix(HANDOFF_MARKER).strip() if rest else note)
    if rest:
        parts.append(rest_handoff(rest, tone))
    if has_pii:
        parts.append(PII_NOTE[tone])
    first = next((a.first for a in answers if a.first), None)
    if kind is None:
        kind = "unanswerable" if not evidence else "policy" if (first or "").startswith(
            "policy.") else "field"
    needs_human = bool(missing or rest)
    return QAExample(question, " ".join(parts), needs_human, evidence, kind, first)

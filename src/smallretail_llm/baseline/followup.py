"""Follow-up questions in a chat about one product: "그럼 대두는요?" after "우유 들어있어요?"
asks whether 대두 is in, and "그거 가격은?" asks the price of the same product.

The chat route answers each turn from the same record, so a follow-up that names its field
("그거 가격은?", "그럼 냉동은요?" -> 보관방법) needs nothing more. One that names only a new
subject ("대두는요?", "그럼 고춧가루는요?") takes the question of the customer's last turn that
asked about a field, with the new subject in front ("고춧가루 원산지 어디예요?"), or, after an
allergen question, asks whether the new subject is in ("대두 들어있어요?").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from smallretail_llm.baseline.intent import is_injection, match_intents, out_of_scope_topic

_REFERENCE = re.compile(r"^\s*(?:그럼|그러면|그렇다면|그리고|그거|그건|그게|이거|이건|저거|저건|혹시)\s*")
_ELLIPSIS_END = re.compile(r"(?:은요|는요|이요|요|은|는)?\s*[?？.!~]*\s*$")


def resolve_followup(question: str, earlier: Sequence[str], category: str | None = None) -> str:
    """The question to answer for the last turn: itself when it names a field (or is out of
    scope, or an injection), else the elliptical follow-up made whole from `earlier` (the
    customer's earlier turns, oldest first)."""
    if (match_intents(question, category) or is_injection(question)
            or out_of_scope_topic(question)):
        return question
    previous = next((q for q in reversed(earlier) if match_intents(q, category)), None)
    if previous is None:
        return question
    subject = _ELLIPSIS_END.sub("", _REFERENCE.sub("", question)).strip()
    if not subject:
        return previous  # "그건요?": the same question again
    if len(subject) > 12 or " " in subject.strip():
        return question  # a sentence of its own, not an ellipsis
    if any(m.allergen for m in match_intents(previous, category)):
        return f"{subject} 들어있어요?"
    return f"{subject} {previous}"

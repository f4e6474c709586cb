"""Number runs: how the constraint reads the number a text states or is writing, and whether it
is, or can still become, a number the record states. Plain string checks on one
`ValueConstraint`'s numbers, kept apart from the per-token decisions in value_constraint.py.

A number is a run of digits with inner "," or "." ("24,900", "1.5", "2027"). "2027-01-19" is
three runs, each of which must occur in the record. A trailing "," or "." ends a sentence or a
list, so it closes the run instead of extending it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from smallretail_llm.baseline.slots import CLOSE, OPEN

if TYPE_CHECKING:
    from smallretail_llm.serving.decoding.value_constraint import ValueConstraint

_NUMBER = re.compile(r"[0-9](?:[0-9,.]*[0-9])?")
NUMERIC = frozenset("0123456789,.")


def numbers_of(text: str) -> list[str]:
    """The number runs of one text, in order ("24,900원 (30,000원)" -> ["24,900", "30,000"])."""
    return _NUMBER.findall(text or "")


def numbers_in(texts: Iterable[str]) -> frozenset[str]:
    """Every number run stated in `texts` ("24,900원 (30,000원 이상)" -> {"24,900", "30,000"})."""
    return frozenset(m.group() for t in texts for m in _NUMBER.finditer(t or ""))


def tail_run(text: str) -> str:
    """The number being written at the end of `text` ("가격은 24,9" -> "24,9"), or ""."""
    i = len(text)
    while i > 0 and text[i - 1] in NUMERIC:
        i -= 1
    run = text[i:]
    j = 0
    while j < len(run) and not run[j].isdigit():  # leading "," or "." belong to the sentence
        j += 1
    return run[j:]


def filled_tail(text: str, allowed: ValueConstraint) -> str:
    """`text` with the slots its trailing number run reaches into read as their values
    ("24,9⟦x⟧" ends in x's value): only the end matters, so only slots there are filled."""
    head, tail = text, ""
    while allowed.values:
        i = len(head)
        while i > 0 and head[i - 1] in NUMERIC:
            i -= 1
        tail = head[i:] + tail
        if not head[:i].endswith(CLOSE):
            return head[:i] + tail
        start = head.rfind(OPEN, 0, i)
        name = head[start + 1:i - 1] if start >= 0 else None
        if name is None or name not in allowed.values:
            return head[:i] + tail
        head = head[:start] + allowed.values[name]
    return head + tail


def complete(run: str, allowed: ValueConstraint) -> bool:
    """A run that ends here is fine when it is a stated number (a trailing "," or "." is
    punctuation: "24,900." ends a sentence)."""
    return run.rstrip(",.") in allowed.numbers


def token_ok(run: str, piece: str, allowed: ValueConstraint) -> bool:
    """Whether appending `piece` after a text whose current number run is `run` keeps every
    number stated, finished or not, a number the record has. Read by numeric segments, not
    character by character: `piece` may be a slot's whole value (a notice table of 500
    characters is asked once per request and number run)."""
    at = 0
    for segment in _NUMERIC_SEGMENT.finditer(piece):
        if segment.start() > at:  # words before it end the number being written
            if run and not complete(run, allowed):
                return False
            run = ""
        extended = _extend(run, segment.group(), allowed)
        if extended is None:
            return False
        run, at = extended, segment.end()
    return at == len(piece) or not run or complete(run, allowed)


def _extend(run: str, chars: str, allowed: ValueConstraint) -> str | None:
    """`run` with the digits and separators `chars` appended, or None where that writes a
    number the record lacks."""
    for ch in chars:
        if not run and not ch.isdigit():
            continue  # a comma or period outside a number
        if not ch.isdigit() and run[-1:] in (",", "."):
            return None  # "15,," is no number, nor its start
        run += ch
        if run not in allowed.prefixes and not (
                not ch.isdigit() and run[:-1] in allowed.numbers):
            return None  # a separator is either inside a stated number or ends one
    return run


_NUMERIC_SEGMENT = re.compile(r"[0-9,.]+")

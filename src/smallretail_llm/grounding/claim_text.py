"""The shared pieces of claim extraction: the Mention a claim is, text normalization, negation."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

Key = tuple


@dataclass(frozen=True, slots=True)
class Mention:
    """One claim in a text. Supported when every entry of `keys` shares a key with the facts
    (a range "1~2일" has two entries), or, for phrase kinds, when `needle` occurs in the facts."""

    start: int
    end: int
    kind: str
    keys: tuple[frozenset[Key], ...] = ()
    needle: str | None = None
    negated: bool = False
    field: str | None = None  # the record/policy field the sentence states it as (claim_fields)


# ------------------------------------------------------------------ text normalization
def nfkc_map(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC text plus, per output character, the start and end of its source characters."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    out, starts, ends = [], [], []
    i = 0
    while i < len(text):
        j = i + 1  # a chunk is one base character and the combining marks/jamo that follow it
        while j < len(text) and (unicodedata.combining(text[j])
                                  or 0x1160 <= ord(text[j]) <= 0x11FF):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j])
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(out), starts, ends


@functools.lru_cache(maxsize=16384)
def squash(text: str) -> str:
    """Comparison form of a phrase: NFKC, lower case, no spaces ("1년간"/"1년" read the same)."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _DURATION.sub(r"\1", _NOT_COMPARED.sub("", text))


_NOT_COMPARED = re.compile(r"\(주\)|주식회사|농업회사법인|영농조합법인|\s+")
_DURATION = re.compile(r"(년|개월)간")


def alt(words: Iterable[str]) -> str:
    """Regex alternation, longest first (so "국내산" wins over "국내")."""
    return "|".join(sorted(words, key=len, reverse=True))


_NEGATION_AFTER = re.compile(
    r"[^.!?\n,]{0,12}?(?:아님|아닙|아니|아닌|않|없|미인증|해당\s?없|비대상|대상\s?외|미해당)",
    re.IGNORECASE)


def negated_after(text: str, end: int) -> bool:
    """True when the clause denies what ends at `end` ("KC 인증 대상 아님", "1kg짜리는 없습니다",
    "수입산이 아닌"), but not for "…뿐 아니라" (not only)."""
    m = _NEGATION_AFTER.match(text, end)
    return m is not None and not re.search(r"뿐\s?아니", m.group())



"""Allergens in text: the 19 labelled allergens and their synonyms, present or denied ("대두
무첨가", "우유, 대두를 사용하지 않았습니다"), read sentence by sentence."""

from __future__ import annotations

import functools
import re

from smallretail_llm.core.korean import sentence_spans
from smallretail_llm.core.normalize import ALLERGEN_SYNONYMS
from smallretail_llm.core.record import ALLERGENS
from smallretail_llm.grounding.claim_text import Mention, alt

_STRICT_ALLERGENS = {"대하", "대게", "황도", "백도", "돼지", "전란", "호도", "소맥"}


@functools.cache
def _allergen_re() -> re.Pattern[str]:
    names = {n: n for n in ALLERGENS}
    names |= {k: v for k, v in ALLERGEN_SYNONYMS.items() if v in ALLERGENS}
    names.pop("알", None)  # "알 수 없는": far too ambiguous on its own
    loose = [n for n in names if len(n) > 1 and n not in _STRICT_ALLERGENS]
    strict = [n for n in names if len(n) == 1 or n in _STRICT_ALLERGENS]
    strict_end = r"(?=[^가-힣]|$|이|가|을|를|은|는|의|와|과|만|로|으로|랑|가루|살|즙|분말|추출물|류|고기)"
    return re.compile(rf"(?P<loose>{alt(loose)})|(?<![가-힣])(?P<strict>{alt(strict)}){strict_end}")


def _allergen_canon(word: str) -> str:
    return word if word in ALLERGENS else ALLERGEN_SYNONYMS[word]


_ABSENCE_CUE = re.compile(
    r"무첨가|무함유|미함유|미첨가|불포함|프리|free|대신|없(?:이|는|음|어|습|고|다|으며|도록)|(?<!\d)0\s?%|빼고|뺀"
    r"|(?:사용|첨가|함유|포함|넣|쓰|섞)(?:하|되|돼|되어|해)?지\s?않|들어\s?(?:있|가)지\s?않"
    r"|(?:함유|포함)(?:돼|되어)\s?있지\s?않|(?:함유|포함|사용|첨가)하고\s?있지\s?않"
    r"|안\s?(?:들어|넣|써|씀|씁)|not\s?contain",
    re.IGNORECASE)
_SERVING_CUE = re.compile(r"^(?:(?:와|과|랑|이랑|에|에다|에다가)?\s?(?:함께|같이|곁들|타\s?(?:서|먹|드)|부어|말아|찍어)"
                          r"|(?:와|과|랑|이랑)\s?(?:먹|드시|드세))")
_GAP_WORDS = re.compile(r"성분|원료|재료|전혀|일절|절대|등|또는|그리고|이나|및|와|과|[을를은는이가도의나]|[\s,·/()]")


def _absent(text: str, end: int, sentence_end: int, allergens: re.Pattern[str]) -> bool:
    """True when an absence cue follows the allergen with only other allergens, separators and
    particles between ("우유, 대두를 사용하지 않았습니다", "대두 무첨가")."""
    window = text[end:min(sentence_end, end + 30)]
    cue = _ABSENCE_CUE.search(window)
    if cue is None:
        return False
    gap = allergens.sub("", window[:cue.start()])
    return not _GAP_WORDS.sub("", gap)


def allergen_mentions(norm: str, corpus: bool) -> list[Mention]:
    """Allergens named in NFKC text `norm`, each a presence or (with an absence cue after it in
    its sentence) an absence claim. `corpus=True` reads a record field: serving tips count."""
    pattern = _allergen_re()
    out = []
    for s_start, s_end in sentence_spans(norm, cover=True):
        for m in pattern.finditer(norm, s_start, s_end):
            word = m["loose"] or m["strict"]
            if word == "게" and not re.match(r"[,·/)\]]|살|류|장|와|과|를|\s?(?:함유|포함|무첨가)",
                                             norm[m.end():]):
                continue  # "게" is mostly "것이" ("좋은 게 아니라"): only clear list uses count
            canon = _allergen_canon(word)
            if not corpus and _SERVING_CUE.match(norm[m.end():m.end() + 12]):
                continue  # "우유와 함께 드세요": a serving tip, not an ingredient claim
            # "외국산 콩은 쓰지 않아요" denies an origin, not the allergen
            qualified = re.search(r"산\s?$", norm[max(0, m.start() - 4):m.start()])
            absent = not qualified and _absent(norm, m.end(), s_end, pattern)
            kind = "allergen_absence" if absent else "allergen_presence"
            key = ("allergen_absent" if absent else "allergen", canon)
            out.append(Mention(m.start(), m.end(), kind, (frozenset({key}),)))
    return out

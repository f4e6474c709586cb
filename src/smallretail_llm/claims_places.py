"""Origins in text: countries, 국산/수입산, regions, and the region a parenthesis names
("국내산(전라남도 해남군)": 국내산 plus 전남 and 해남, so another region is another origin)."""

from __future__ import annotations

import re

from smallretail_llm import claims_vocab as V
from smallretail_llm.claim_text import Key, Mention, alt, negated_after


def _country_pattern(bare: bool) -> re.Pattern[str]:
    names = alt(n for ns in V.COUNTRIES.values() for n in ns)
    regions = alt(V.REGIONS)
    made = rf"(?:{names}|{regions})(?:도|시|군)?\s?산(?!업|림|물|악|맥|소|책)"
    place = rf"{alt(V.ORIGIN_WORDS)}|{made}|{names}|{regions}"
    cue_before = (r"(?:원산지|제조국|생산국|생산지|산지|made\s?in|메이드\s?인)\s?(?:는|은|:|-)?\s?"
                  rf"(?P<cued>{place})")
    cue_after = (rf"(?P<acted>{names}|{regions})\s?(?:에서\s?)?"
                 r"(?=생산|제조|재배|수확|가공|양식|어획|사육|만든|만들|키운|자란)")
    parts = [rf"(?P<word>(?:100\s?%\s?)?(?:{alt(V.ORIGIN_WORDS)}|{made})(?:\s?100\s?%)?)",
             cue_before, cue_after]
    if bare:
        parts.append(rf"(?P<bare>{names}|{regions})")
    return re.compile(rf"(?<![가-힣A-Za-z])(?:{'|'.join(parts)})", re.IGNORECASE)


_ORIGIN_TEXT = _country_pattern(bare=False)
_ORIGIN_FACT = _country_pattern(bare=True)


def place_keys(place: str) -> frozenset[Key]:
    """Keys of a place as written: "미국산" -> 미국, "제주도산" -> 제주 (and 대한민국)."""
    place = re.sub(r"\s|100%", "", place.lower())
    if place in V.ORIGIN_WORDS:
        return frozenset({("country", V.ORIGIN_WORDS[place])})
    for stem in (place, re.sub(r"산$", "", place), re.sub(r"(?:도|시|군)?산$", "", place)):
        for canon, names in V.COUNTRIES.items():
            if stem in names:
                return frozenset({("country", canon)})
        if stem in V.REGIONS:
            return frozenset({("region", stem)})
    return frozenset()


def origin_mentions(norm: str, corpus: bool) -> list[Mention]:
    out = []
    for m in (_ORIGIN_FACT if corpus else _ORIGIN_TEXT).finditer(norm):
        group = next(g for g in ("word", "cued", "acted", "bare") if g in m.re.groupindex and m[g])
        start, end = m.span(group)
        keys, negated = place_keys(m[group]), negated_after(norm, end)
        if corpus and any(k[0] == "region" for k in keys):  # a region fact is also a Korea fact
            keys |= {("country", V.KOREA)}
        if keys and (corpus or not negated):
            out.append(Mention(start, end, "origin", (keys,), negated=negated))
    return out



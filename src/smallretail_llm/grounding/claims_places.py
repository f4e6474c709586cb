"""Origins in text: countries, 국산/수입산, regions, and the region a parenthesis names
("국내산(전라남도 해남군)": 국내산 plus 전남 and 해남, so another region is another origin).
The place names are vocab.yaml's `places`."""

from __future__ import annotations

import functools
import re

from smallretail_llm.core import vocab
from smallretail_llm.grounding.claim_text import Key, Mention, alt, negated_after


@functools.cache
def _country_pattern(bare: bool) -> re.Pattern[str]:
    """Origins in copy; with `bare` (a record field) a bare place name counts too ("중국")."""
    places = vocab.places()
    names = alt(n for ns in places.countries.values() for n in ns)
    regions = alt(places.regions)
    made = rf"(?:{names}|{regions})(?:도|시|군)?\s?산(?!업|림|물|악|맥|소|책)"
    place = rf"{alt(places.origin_words)}|{made}|{names}|{regions}"
    cue_before = (r"(?:원산지|제조국|생산국|생산지|산지|made\s?in|메이드\s?인)\s?(?:는|은|:|-)?\s?"
                  rf"(?P<cued>{place})")
    cue_after = (rf"(?P<acted>{names}|{regions})\s?(?:에서\s?)?"
                 r"(?=생산|제조|재배|수확|가공|양식|어획|사육|만든|만들|키운|자란)"
                 rf"|(?P<named>{names}|{regions})(?=\s?(?:이|가|은|는)?\s?(?:원산지|제조국|생산국))")
    parts = [rf"(?P<word>(?:100\s?%\s?)?(?:{alt(places.origin_words)}|{made})(?:\s?100\s?%)?)",
             cue_before, cue_after]
    if bare:
        parts.append(rf"(?P<bare>{names}|{regions})")
    return re.compile(rf"(?<![가-힣A-Za-z])(?:{'|'.join(parts)})", re.IGNORECASE)



def place_keys(place: str) -> frozenset[Key]:
    """Keys of a place as written: "미국산" -> 미국, "제주도산" -> 제주 (and 대한민국)."""
    place = re.sub(r"\s|100%", "", place.lower())
    places = vocab.places()
    if place in places.origin_words:
        return frozenset({("country", places.origin_words[place])})
    for stem in (place, re.sub(r"산$", "", place), re.sub(r"(?:도|시|군)?산$", "", place)):
        for canon, names in places.countries.items():
            if stem in names:
                return frozenset({("country", canon)})
        if stem in places.regions:
            return frozenset({("region", stem)})
    return frozenset()


_PAREN = re.compile(r"\s?\((?P<inner>[^()]{2,40})\)")
_LOCALITY = re.compile(r"(?P<stem>[가-힣]{1,6}?)(?:특별자치도|특별자치시|특별시|광역시|도|시|군|구|읍|면)")


def _token_keys(token: str) -> frozenset[Key]:
    """Keys of one word of an origin's parenthesis: "전라남도" -> 전남, "해남군" -> 해남, "미국"."""
    provinces = vocab.places().provinces
    if token in provinces:
        return frozenset({("region", provinces[token])})
    keys = place_keys(token)
    if keys:
        return keys
    m = _LOCALITY.fullmatch(token)
    return frozenset({("region", m["stem"])}) if m else frozenset()


def paren_keys(norm: str, end: int) -> tuple[int, tuple[frozenset[Key], ...]]:
    """The region or country a parenthesis right after an origin names ("국내산(경상북도 영양군)",
    "수입산(미국)"): (its end, one key set per place word); (end, ()) when it names none."""
    m = _PAREN.match(norm, end)
    if m is None:
        return end, ()
    words = [w for w in re.split(r"[\s,·/]+", m["inner"]) if w]
    keys = [_token_keys(w) for w in words]
    if not keys or not all(keys):  # "(한우)", "(고등어: 국내산, …)": not a place
        return end, ()
    return m.end(), tuple(dict.fromkeys(keys))


def origin_mentions(norm: str, corpus: bool) -> list[Mention]:
    out = []
    for m in _country_pattern(bare=corpus).finditer(norm):
        group = next(g for g in ("word", "cued", "acted", "named", "bare") if g in m.re.groupindex and m[g])
        start, end = m.span(group)
        keys, negated = place_keys(m[group]), negated_after(norm, end)
        if corpus and any(k[0] == "region" for k in keys):  # a region fact is also a Korea fact
            keys |= {("country", vocab.places().korea)}
        if keys and (corpus or not negated):
            if group in ("word", "cued"):
                end, places = paren_keys(norm, end)
            else:
                places = ()
            out.append(Mention(start, end, "origin", (keys, *places), negated=negated))
    return out



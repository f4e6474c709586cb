"""Korean particles (조사), number formatting and sentence splitting for generated copy.

A particle depends on how the word before it is *read*: "1L" is read 리터 (no final consonant, so
"1L는"), "3" 삼 ("3은"), "HACCP" 에이치에이씨씨피 ("HACCP는"), "사과(국산)" by the word before the
parenthesis ("사과(국산)를"). The reading rules are small heuristics, documented where they apply.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata

from smallretail_llm.core.record import DateFact, NetContent

# Final sound of a word: None (vowel), "ㄹ" (matters for (으)로), or "C" (any other consonant).
_RIEUL = "ㄹ"
_CONS = "C"
_RIEUL_INDEX = 8  # ㄹ among the 28 jongseong slots (0 = none)

# Digits read in Sino-Korean: 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_FINAL = {"0": _CONS, "1": _RIEUL, "2": None, "3": _CONS, "4": None,
                "5": None, "6": _CONS, "7": _RIEUL, "8": _RIEUL, "9": None}
# Letter names as Koreans spell out acronyms: 엘, 엠, 엔, 알 end in a consonant; the rest do not.
_LETTER_FINAL = {"L": _RIEUL, "R": _RIEUL, "M": _CONS, "N": _CONS}
# Units after a number, read as words: 리터, 밀리리터, 그램, 킬로그램, 미터, 와트, 퍼센트, ...
_UNIT_FINAL = {
    "l": None, "ml": None, "dl": None, "cc": None, "g": _CONS, "kg": _CONS, "mg": _CONS,
    "mcg": _CONS, "ug": _CONS, "m": None, "cm": None, "mm": None, "km": None, "w": None,
    "kw": None, "v": None, "hz": None, "mah": None, "kcal": None, "cal": None, "oz": None,
    "lb": None, "ea": None, "t": None, "p": None, "gb": None, "tb": None, "mb": None, "x": None,
}
# Symbols read as words: % 퍼센트, ℃ 도, + 플러스, & 앤드, ~ 물결 (rare after a word).
_SYMBOL_FINAL = {"%": None, "℃": None, "℉": None, "°": None, "+": None, "&": None, "#": None}
_CLOSERS = " \t\n.,!?~'\"’”」』]>"
_JAMO_CONSONANTS = "ㄱㄲㄳㄴㄵㄶㄷㄸㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅃㅄㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_NUMBER_RE = re.compile(r"(\d[\d,]*)(\.\d+)?$")
_LATIN_RE = re.compile(r"[A-Za-z]+$")

# Consonant-form initials of a particle pair: 은/는, 이/가, 을/를, 과/와, 아/야, 으로/로, 이에요/예요 …
_CONSONANT_FORM_INITIALS = set("은이을과아으")


def _number_final(integer: str, fraction: str | None) -> str | None:
    """Final sound of a number read in Sino-Korean: 20 이십 (ㅂ), 100 백 (ㄱ), 1.5 일 점 오."""
    if fraction:
        return _DIGIT_FINAL[fraction[-1]]
    digits = integer.replace(",", "").lstrip("0")
    if not digits:
        return _CONS  # 영
    zeros = len(digits) - len(digits.rstrip("0"))
    if zeros == 0:
        return _DIGIT_FINAL[digits[-1]]
    # 십 (ㅂ), 백 (ㄱ), 천 (ㄴ), 만 (ㄴ, up to 천만), 억 (ㄱ), 조 (vowel), 경 (ㅇ)
    return None if 12 <= zeros <= 15 else _CONS


def _english_word_final(word: str) -> str | None:
    """Heuristic final sound of an English word read as a loanword (애플, 컵, 라인, 워터)."""
    w = word.lower()
    if w.endswith(("ng", "m", "n", "me", "ne")):
        return _CONS  # 링, 크림, 라인, 홈, 존
    if w.endswith(("l", "le")):
        return _RIEUL  # 오일, 애플
    if w.endswith("ck") or (w.endswith(("k", "p")) and len(w) > 1 and w[-2] in "aeiou"):
        return _CONS  # 팩, 컵, 숍
    return None  # 워터, 세트, 케이크, 티슈


def final_sound(word: str) -> str | None:
    """None when `word` is read with a final vowel, "ㄹ" for a ㄹ final, "C" for another consonant."""
    text = unicodedata.normalize("NFC", word).rstrip(_CLOSERS)
    while text.endswith(")"):  # particle follows the word before a parenthesis: 사과(국산)를
        head = text[: text.rfind("(")] if "(" in text else text[:-1]
        text = head.rstrip(_CLOSERS) or text[:-1].rstrip(_CLOSERS)
    if not text:
        return None
    last = text[-1]
    if "가" <= last <= "힣":
        jong = (ord(last) - ord("가")) % 28
        if jong == 0:
            return None
        return _RIEUL if jong == _RIEUL_INDEX else _CONS
    if last in _JAMO_CONSONANTS:  # names: 리을 ends in ㄹ, 기역/니은/… in another consonant
        return _RIEUL if last == "ㄹ" else _CONS
    number = _NUMBER_RE.search(text)
    if number:
        return _number_final(number.group(1), number.group(2))
    latin = _LATIN_RE.search(text)
    if latin:
        letters = latin.group(0)
        before = text[: latin.start()].rstrip()
        if before and before[-1].isdigit() and letters.lower() in _UNIT_FINAL:
            return _UNIT_FINAL[letters.lower()]  # 1L 리터, 500g 그램
        if letters.isupper():
            return _LETTER_FINAL.get(letters[-1])  # HACCP 피, KC 씨, GMO 오, LED 디
        return _english_word_final(letters)
    folded = unicodedata.normalize("NFKC", last)
    if folded != last and folded:  # ㎖ -> mL, ㎏ -> kg
        return final_sound(text[:-1] + folded)
    if last in _SYMBOL_FINAL:
        return _SYMBOL_FINAL[last]
    return final_sound(text[:-1])  # unknown symbol (★, ·): decide by what precedes it


def has_final_consonant(word: str) -> bool:
    """True when `word` is read ending in a consonant (받침): 사과 False, 수박 True, 3 True, 1L False."""
    return final_sound(word) is not None


def _split_pair(pair: str) -> tuple[str, str]:
    """(form after a consonant, form after a vowel) of "을/를", "를/을", "(으)로", "(이)에요"."""
    pair = pair.strip()
    if pair.startswith("(") and ")" in pair:
        optional, rest = pair[1:].split(")", 1)
        return optional + rest, rest
    if "/" not in pair:
        raise ValueError(f"조사 형식이 잘못되었습니다: {pair!r} (예: '을/를', '(으)로')")
    first, second = (p.strip() for p in pair.split("/", 1))
    if first[:1] in _CONSONANT_FORM_INITIALS:
        return first, second
    return second, first


def particle(word: str, pair: str) -> str:
    """The form of `pair` that fits `word`: particle("사과", "을/를") -> "를"."""
    after_consonant, after_vowel = _split_pair(pair)
    sound = final_sound(word)
    if sound is None:
        return after_vowel
    if sound == _RIEUL and after_consonant.startswith("으로"):
        return after_vowel  # ㄹ-final takes 로: 서울로, 1L로 is vowel anyway
    return after_consonant


def josa(word: str, pair: str) -> str:
    """`word` followed by the fitting particle: josa("사과", "을/를") -> "사과를"."""
    return word + particle(word, pair)


def is_josa_spec(spec: str) -> bool:
    """True for a format spec that names a particle pair ("을/를", "(으)로"), not a number format."""
    return any("가" <= ch <= "힣" for ch in spec) and ("/" in spec or spec.startswith("("))


class _JosaFormatter(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec and is_josa_spec(format_spec):
            return josa(format(value, ""), format_spec)
        return super().format_field(value, format_spec)


_FORMATTER = _JosaFormatter()


def fill(template: str, /, **values: object) -> str:
    """str.format where a spec may be a particle pair: fill("{x:을/를} 봐요", x="사과") -> "사과를 봐요".

    A missing value raises KeyError, like str.format."""
    return _FORMATTER.vformat(template, (), values)


def format_number(value: float, max_decimals: int = 3) -> str:
    """Thousands separators, no trailing zeros: 12900 -> "12,900", 1.50 -> "1.5", 2.0 -> "2"."""
    text = f"{value:,.{max_decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_krw(amount: int) -> str:
    """Won amount as shops write it: 12900 -> "12,900원"."""
    return f"{format_number(int(amount), 0)}원"


def format_net_content(net: NetContent) -> str:
    """Net content as shops write it: "1.5L", "500g", "500g x 2개", "30매"."""
    return net.display()


def format_date_fact(fact: DateFact) -> str:
    """The date as recorded (ISO, so every digit matches the record) or the period text."""
    if fact.date is not None:
        return fact.date.isoformat()
    return (fact.text or "").strip()


def join_items(items: list[str], sep: str = ", ") -> str:
    """Items as a comma list; particles then attach to the last item: "대두, 밀"."""
    return sep.join(i.strip() for i in items if i and i.strip())


# ------------------------------------------------------------------ sentences
@functools.lru_cache(maxsize=16)
def _sentence_re(ends: str, line_breaks: bool, cover: bool) -> re.Pattern[str]:
    marks = re.escape(ends)
    if cover:  # a piece: text up to and including its run of marks and line breaks
        stop = marks + (r"\n" if line_breaks else "")
        return re.compile(rf"[^{stop}]+[{stop}]*")
    return re.compile(rf"(?<=[{marks}])\s+" + (r"|\n+" if line_breaks else ""))


def sentence_spans(text: str, *, ends: str = ".!?", line_breaks: bool = True,
                   cover: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`: one sentence ends at the whitespace after one of
    `ends`, and (with `line_breaks`) at a line break; that whitespace belongs to no sentence and
    blank pieces are skipped. Spans are not stripped otherwise (a leading space stays).

    The parameters are the readers' real differences, each kept on purpose:
    - `ends`: the advertising-rule check also ends a sentence after "。", and the prompt-echo check
      after "다" (system prompts end sentences in 다 without a period).
    - `line_breaks=False`: one 고시 value or one system prompt is read as running text; a line
      break inside it ends nothing unless a mark comes before it.
    - `cover=True` (grounding's claim reading): the spans cover the whole text, so every claim lies
      in one: a sentence ends right after its run of marks and line breaks, whitespace or not
      ("1.5kg" ends a sentence after "1."), the marks stay in it and blank pieces are kept."""
    pattern = _sentence_re(ends, line_breaks, cover)
    if cover:
        return [m.span() for m in pattern.finditer(text)]
    spans, start = [], 0
    for match in pattern.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def split_sentences(text: str, *, ends: str = ".!?", line_breaks: bool = True) -> list[str]:
    """The sentences of `text` (see `sentence_spans`): "배송은 무료예요. 문의는 언제든지요!\n감사합니다"
    -> ["배송은 무료예요.", "문의는 언제든지요!", "감사합니다"]."""
    return [text[a:b] for a, b in sentence_spans(text, ends=ends, line_breaks=line_breaks)]

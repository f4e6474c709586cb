"""Record-constrained decoding: while the model writes a number, only continuations that form a
number the product record or shop policy states are allowed; slot tokens are allowed only for
fields the record has.

A small model's most common false claim is a mangled value ("2,0000원" for 24,900원). Grounding
catches it after the fact and the draft is lost; masking the logits makes it impossible. The
constraint is data (`ValueConstraint`: allowed number strings and slot names, built per request
from the same record the prompt shows); `TokenTable` knows how one tokenizer spells digits (single
digits, merged "900", byte-level "Ġ24", byte-fallback "<0x31>"); `banned_ids` is the per-step
decision both the transformers processor and the llama.cpp processor call. What counts as a
number, and whether a run of digits can still become a stated one, is in number_runs.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from smallretail_llm.baseline.slots import BLOCK, CLOSE, OPEN, SLOT_RE
from smallretail_llm.serving.decoding.draft_plan import (
    DraftState,
    advance,
    line_ids,
    paragraph_ban,
    spaced,
)
from smallretail_llm.serving.decoding.label_bans import (
    LabelTables,
    label_tables,
    misfit_slot_ids,
    said_label_ids,
)
from smallretail_llm.serving.decoding.number_runs import (
    NUMERIC,
    complete,
    filled_tail,
    tail_run,
    token_ok,
)

_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>")


@dataclass(frozen=True)
class ValueConstraint:
    """What a draft may state as numbers and slots. `numbers` are exact run strings; `slots`
    the slot names the record can fill (None: slots are not constrained)."""

    numbers: frozenset[str]
    slots: frozenset[str] | None = None
    values: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Slot name -> the value it fills in: a slot written right after a digit ("1⟦price_krw⟧")
    would glue a new number together ("124,900원"), so slots are checked by their values."""
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Field -> the label the prompt shows for it (`copy_check.field_labels`): with it, a slot
    is banned right after another field's name ("원산지는 ⟦use_by⟧")."""
    paragraphs: tuple[frozenset[str], ...] = ()
    """The slots of each paragraph of the renderer's copy of this record (detail: maker, amount,
    price and origin; storage and use-by; …; the closing statement). A draft's paragraph that
    has begun one of them does not end before all its slots are written, and the draft does not
    end while the last one is unwritten: a small model otherwise skips a fact it was shown
    ("원산지는 노르웨이예요." and on to the next paragraph, 제조원 never said)."""
    banned_words: tuple[str, ...] = ()
    """Words the draft may not write at all: for a question the record answers, the words that
    open a hand-off ("상품 정보에 나와 있지 않아요"); a small model says them for a field it
    rarely saw, and the record holds the value."""
    headers: tuple[str, ...] = ()
    """The headers that open the notice table's paragraph ("[상품 정보 안내]"): when the plan's
    next paragraph is the table, a new paragraph can only be the header, its line break and
    ⟦notice_block⟧, not a paragraph for facts the record lacks (on goods it has not seen, a
    small model writes the food copy's storage paragraph there)."""
    required: frozenset[str] = frozenset()
    """Detail: the plan's slots that hold a fact the category requires (storage, use-by …):
    the notice table's header does not open while a paragraph holding one is unwritten."""
    line_limit: int = 0
    """Bullets and seo: the most lines a draft may have (bullets 6, as the prompt asks; seo its
    title and keyword lines, plus the closing line where there is one); 0: no limit. A small
    model otherwise writes a seventh bullet, or bullet lines under a seo title."""
    line_starts: tuple[str, ...] = ()
    """How each line opens, where the style says (seo: its second line "키워드:"): a small
    model had written the keyword line without its label."""
    closing: str = ""
    """The line a draft must end with, where the category requires one (the 건강기능식품
    statement as the renderer writes it in this style; detail: its slot, the plan's last
    paragraph). Bullets and seo do not end before it, their last line can only be it, and once
    it is written the draft ends; detail opens it once every other paragraph is written."""

    def __post_init__(self) -> None:
        self.cache  # noqa: B018 (built with the request, not in the decode loop)
        self.value_heads  # noqa: B018

    @functools.cached_property
    def value_heads(self) -> dict[str, str | None]:
        """Slot name -> the part of its value a number being written before it can reach (up
        to its first character that is not a digit or separator), or None where the rest of
        the value states a number the record lacks: the rest is checked once, here, not at
        each number run (a notice table's value is hundreds of characters)."""
        heads: dict[str, str | None] = {}
        for name, value in self.values.items():
            end = next((i + 1 for i, ch in enumerate(value) if ch not in NUMERIC), len(value))
            heads[name] = value[:end] if token_ok("", value[end:], self) else None
        return heads

    @functools.cached_property
    def cache(self) -> _Cache:
        """What the decoder has worked out for this request, kept for the next steps; the
        label tables are found up front."""
        return _Cache(label_tables(self.labels, self.values))

    @functools.cached_property
    def banned_set(self) -> frozenset[str]:
        return frozenset(self.banned_words)

    @functools.cached_property
    def header_lines(self) -> tuple[str, ...]:
        """How the notice table's paragraph opens: each header, a line break, its slot."""
        return tuple(f"{h}\n{OPEN}{BLOCK}{CLOSE}" for h in self.headers)

    @functools.cached_property
    def required_before_table(self) -> tuple[int, ...]:
        """The plan's paragraphs before the notice table's that hold a required fact."""
        table_at = next((i for i, g in enumerate(self.paragraphs) if BLOCK in g), 0)
        return tuple(i for i, g in enumerate(self.paragraphs[:table_at]) if g & self.required)

    @functools.cached_property
    def paragraph_values(self) -> tuple[frozenset[str], ...]:
        """The values of each paragraph's slots (a slot's name where it has none)."""
        return tuple(frozenset(self.values.get(n, n) for n in g) for g in self.paragraphs)

    @functools.cached_property
    def plan_values(self) -> frozenset[str]:
        """The values of the slots of `paragraphs`."""
        return frozenset(self.values[n] for g in self.paragraphs for n in g if n in self.values)

    @functools.cached_property
    def plan_ends(self) -> frozenset[str]:
        """The last characters of `plan_values`: a token holding none of them states none."""
        return frozenset(value[-1] for value in self.plan_values if value)

    @functools.cached_property
    def prefixes(self) -> frozenset[str]:
        return frozenset(n[:i] for n in self.numbers for i in range(1, len(n) + 1))


@dataclass
class _Cache:
    """A request's decoding caches, filled as the decoder asks (a step costs microseconds)."""

    labels: LabelTables
    """The label checks' tables (`label_bans.label_tables`), shared with the requests that
    show the same labels."""
    run_bans: dict = field(default_factory=dict)
    """(token table id, number run) -> `banned`'s decision there: the same few runs come back
    at almost every step, and a vocabulary has a few hundred slots and digit tokens to test."""
    plan: DraftState | None = None
    """The draft as the decoder reads it (`draft_plan.DraftState`)."""


def _normalize_piece(piece: str) -> str:
    """A vocabulary piece as text, as far as digits matter: byte tokens decoded, everything else
    kept (SentencePiece's "▁" and byte-level "Ġ" are simply non-numeric characters)."""
    m = _BYTE_TOKEN.fullmatch(piece)
    if m:
        byte = int(m.group(1), 16)
        return chr(byte) if byte < 128 else "\x00"
    return piece


class TokenTable:
    """Per-tokenizer facts the constraint needs, computed once: each token's text, the tokens
    that contain a digit, the tokens that start a number continuation, and slot token ids."""

    def __init__(self, pieces: Sequence[str], special_ids: Iterable[int] = (),
                 eos_ids: Iterable[int] = ()) -> None:
        self.pieces = [_normalize_piece(p) for p in pieces]
        self.eos_ids = sorted(set(eos_ids))
        special = set(special_ids)
        self.digit_ids = [i for i, p in enumerate(self.pieces)
                          if i not in special and any(c.isdigit() and c.isascii() for c in p)]
        self.numeric_start_ids = [i for i, p in enumerate(self.pieces)
                                  if p and p[0] in NUMERIC and i not in special]
        self.numeric_start_set = frozenset(self.numeric_start_ids)
        self.slot_ids = {m.group(1): i for i, p in enumerate(self.pieces)
                         if (m := SLOT_RE.fullmatch(p))}
        self.slot_id_set = frozenset(self.slot_ids.values())
        self.newline_start_ids = [i for i, p in enumerate(self.pieces)
                                  if p.startswith("\n") and i not in special]
        self.sentence_end_ids = [i for i, p in enumerate(self.pieces)
                                 if p.lstrip("▁Ġ ")[:1] in (".", "!", "?") and i not in special]
        self.sentence_break_ids = frozenset(i for i, p in enumerate(self.pieces)
                                            if _SENTENCE_BREAK.search(p))
        self.word_ids = frozenset(i for i, p in enumerate(self.pieces)
                                  if i not in special and any(c.isalpha() for c in p))
        self.by_word: dict[str, list[int]] = {}
        """A word token's text without spacing marks -> the ids spelling it ("▁인증", "인증")."""
        for i in self.word_ids:
            self.by_word.setdefault(self.pieces[i].strip("▁Ġ "), []).append(i)
        self.size = len(self.pieces)
        self._containing: dict[str, list[int]] = {}
        self._containing_any: dict[frozenset[str], list[int]] = {}
        self._plain = [p.replace("▁", "").replace(" ", "") for p in self.pieces]
        self.texts = [spaced(piece) for piece in self.pieces]
        """Each token's text with spacing marks as spaces ("▁정보" -> " 정보")."""
        self.by_text: dict[str, list[int]] = {}
        """A token text -> the ids spelling it (special tokens left out)."""
        self.continuations: dict = {}
        """(text, targets) -> `draft_plan.continuing_ids` of them."""
        for i, text in enumerate(self.texts):
            if i not in special:
                self.by_text.setdefault(text, []).append(i)

    def containing(self, word: str) -> list[int]:
        """Ids of the tokens whose text (spacing marks and spaces removed) contains `word`;
        computed once per word."""
        found = self._containing.get(word)
        if found is None:
            found = self._containing[word] = [
                i for i, piece in enumerate(self._plain) if word in piece]
        return found

    def containing_any(self, words: frozenset[str]) -> list[int]:
        """Ids of the tokens containing one of `words`, sorted; computed once per word set
        (drafts of other products state the same fields)."""
        found = self._containing_any.get(words)
        if found is None:
            if len(self._containing_any) > 4096:  # a long-running server: keep it bounded
                self._containing_any.clear()
            found = self._containing_any[words] = sorted(
                {i for w in words for i in self.containing(w)})
        return found

    @classmethod
    def for_tokenizer(cls, tokenizer, eos_ids: Iterable[int] = ()) -> TokenTable:
        """From a transformers tokenizer (its vocabulary in id order); `eos_ids`: the ids that
        end a draft besides the tokenizer's own."""
        pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        eos = {i for i in (tokenizer.eos_token_id, *eos_ids) if i is not None and i >= 0}
        return cls([p or "" for p in pieces], tokenizer.all_special_ids, eos)


class Ban(NamedTuple):
    """One step's decision: these ids are banned, and with `only_numeric` every token that does
    not start a number is banned too (the model is inside an unfinished number); with `only`
    every token but those is banned (the notice table's header is being written). A tuple:
    one is made per row and step."""

    ids: list[int]
    only_numeric: bool
    only: list[int] | None = None


def banned(generated_text: str, allowed: ValueConstraint, table: TokenTable) -> Ban:
    """What the model may not emit next, given the text it has generated so far. Only tokens
    that contain or start a number are looked at, so a step costs little on any vocabulary."""
    end = generated_text[-1:]
    run = tail_run(filled_tail(generated_text, allowed)) if end in NUMERIC or end == CLOSE \
        else ""  # (no number being written: the common case)
    key = (id(table), run)
    if key not in allowed.cache.run_bans:  # the same few runs come back at almost every step
        allowed.cache.run_bans[key] = _run_ban(run, allowed, table)
    return allowed.cache.run_bans[key]


def _run_ban(run: str, allowed: ValueConstraint, table: TokenTable) -> Ban:
    heads = allowed.value_heads
    ids = [i for name, i in table.slot_ids.items()
           if (allowed.slots is not None and name not in allowed.slots)
           or (name in heads and ((head := heads[name]) is None or not token_ok(run, head, allowed)))]
    unfinished = bool(run) and not complete(run, allowed)
    if unfinished:
        candidates: Iterable[int] = table.numeric_start_ids
    elif run:  # a finished number that may also go on ("3,000" vs "30,000")
        candidates = sorted(set(table.digit_ids) | set(table.numeric_start_ids))
    else:
        candidates = table.digit_ids
    ids += [i for i in candidates if not token_ok(run, table.pieces[i], allowed)]
    return Ban(ids, unfinished)


def step_ban(ids: Sequence[int], allowed: ValueConstraint, table: TokenTable,
             words: bool = True, misfits: bool = True) -> Ban:
    """The per-step decision both engines make from the tokens a row has generated so far:
    `banned` on the number being written, plus every slot already written (a draft states each
    record value once; a small model otherwise loops "• ⟦price_krw⟧" line after line), a
    third line break in a row, and a sentence end right after one ("예요. ."); with labels,
    every slot that would state its value under the field name just written (the draft
    check's `copy_check.misfit`, asked before the slot), and the tokens that name a field whose
    slot is written (`label_bans.said_label_ids`); the draft's plan (`draft_plan`: paragraphs,
    lines), words it may not write (`words`: False where the caller bans `word_ids` itself,
    once for the whole draft), and no word twice in a row. With `misfits` False the label
    check's slots are left to the caller (`misfit_ban`): a greedy step needs them only when
    its choice is a slot."""
    state = advance(ids, allowed, table)
    text = state.text[-_WINDOW:]
    ban = banned(text, allowed, table)
    extra: list[int] = []
    if table.slot_ids:
        extra += state.written_ids
        if allowed.labels:
            if misfits:
                extra += misfit_slot_ids(text, allowed, table)
            if state.said_ids:
                extra += said_label_ids(state.said_ids, allowed, table)
        if allowed.paragraphs:
            plan_ban, only = paragraph_ban(state, allowed, table)
            extra += plan_ban
            if only:
                return Ban(ban.ids + extra, ban.only_numeric, only)
    if allowed.line_limit:
        line_ban, only = line_ids(state, allowed, table)
        if only:
            return Ban(ban.ids + extra, ban.only_numeric, only)
        extra += line_ban
    if words and allowed.banned_words:
        extra += word_ids(allowed, table)
    if text.endswith("\n\n"):  # one blank line between paragraphs, never a run of them
        extra += table.newline_start_ids
    if text.rstrip(" ▁Ġ").endswith((".", "!", "?")):  # no sentence without words ("예요. .")
        extra += table.sentence_end_ids
    extra += _last_word_ids(ids, table)
    return Ban(ban.ids + extra, ban.only_numeric) if extra else ban


def misfit_ban(ids: Sequence[int], allowed: ValueConstraint, table: TokenTable) -> list[int]:
    """The slots `step_ban(misfits=False)` leaves out: those the clause being written would
    mislabel (`label_bans.misfit_slot_ids`)."""
    if not (table.slot_ids and allowed.labels):
        return []
    return misfit_slot_ids(advance(ids, allowed, table).text[-_WINDOW:], allowed, table)


def word_ids(allowed: ValueConstraint, table: TokenTable) -> list[int]:
    """The tokens holding a word the draft may not write (`ValueConstraint.banned_words`): the
    same at every step."""
    return table.containing_any(allowed.banned_set) if allowed.banned_words else []


_SENTENCE_BREAK = re.compile(r"[.!?\n]")
_WINDOW = 96
"""Characters of the draft's end the per-step checks read: enough for the number being
written and the clause before a slot."""


def _last_word_ids(ids: Sequence[int], table: TokenTable) -> list[int]:
    """The word token just written, when it has letters: no word twice in a row ("판매 판매
    판매 …", "인증: 인증: …", a small model's loops). Spaces, ":" and "," between do not
    count."""
    for token in reversed(ids):
        if token not in table.word_ids:  # (ids past the tokenizer's: a padded model vocabulary)
            if 0 <= token < table.size and not table.pieces[token].strip("▁Ġ :,"):
                continue
            return []
        return table.by_word.get(table.pieces[token].strip("▁Ġ "), [])
    return []

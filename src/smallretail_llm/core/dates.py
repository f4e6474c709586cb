"""Dates as shops write them, and the labels a date goes under (소비기한, 유통기한, 사용기한,
제조일: vocab.yaml `date_labels`).

`parse_date` and `parse_use_by` are cell parsers like those of `core.normalize`: a bad value
raises `NormalizeError` with a Korean message that quotes it. Two-digit years are 20xx
("26.3.1" -> 2026-03-01).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import get_args

from smallretail_llm.core.normalize import NormalizeError, clean_cell
from smallretail_llm.core.record import DateFact, DateLabel
from smallretail_llm.core.vocab import date_label_spellings, deadline_labels

_DATE_RES = (
    re.compile(r"(?P<y>\d{4}|\d{2})\s*[./-]\s*(?P<m>\d{1,2})\s*[./-]\s*(?P<d>\d{1,2})\.?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4}|\d{2})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일"),
)
_TIME_OR_UNTIL = re.compile(r"(?:\s*T?\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*(?:까지)?$")


def parse_date(text: str | dt.date) -> dt.date:
    """A date as shops write it: "2026.03.01", "2026-3-1", "20260301", "26년 3월 1일", "26.3.1"."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    raw = clean_cell(text)
    if not raw:
        raise NormalizeError("날짜가 비어 있습니다")
    body = _TIME_OR_UNTIL.sub("", raw, count=1)
    match = next((m for r in _DATE_RES if (m := r.fullmatch(body))), None)
    if match is None:
        raise NormalizeError(f"날짜를 읽을 수 없습니다: '{raw}' (예: 2026.03.01)")
    year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
    if not 1900 <= year <= 2200:
        raise NormalizeError(f"날짜의 연도가 이상합니다: '{raw}'")
    try:
        return dt.date(year, int(match["m"]), int(match["d"]))
    except ValueError:
        raise NormalizeError(f"존재하지 않는 날짜입니다: '{raw}'") from None


@functools.cache
def _label_re() -> re.Pattern[str]:
    """A leading date label in any spelling (vocab.yaml `date_labels`), not "제조일로부터"."""
    return re.compile(rf"^({'|'.join(date_label_spellings())})(?![가-힣])\s*[:：]?\s*")


_PERIOD_RE = re.compile(r"(?<!\d)\d+\s*(?:개월|년|주|일)|표기|표시|참조")


def parse_use_by(text: str, label: str = "소비기한") -> DateFact:
    """A use-by cell -> DateFact: "2026.03.01" -> date; "제조일로부터 12개월" -> date None, text kept.
    A leading label in the text ("유통기한 2026-03-01") overrides `label`."""
    if label not in get_args(DateLabel):
        raise NormalizeError(f"알 수 없는 날짜 항목입니다: '{label}' ({', '.join(get_args(DateLabel))})")
    raw = clean_cell(text)
    match = _label_re().match(raw)
    if match and raw[match.end() :]:
        label, body = date_label_spellings()[match.group(1)], raw[match.end() :]
    else:
        body = raw
    if not body:
        raise NormalizeError(f"{label}이 비어 있습니다")
    try:
        return DateFact(label=label, date=parse_date(body), text=raw)
    except NormalizeError as exc:
        if re.fullmatch(r"[\d\s./년월일-]+", body):  # a date, but a wrong one ("2026-02-30")
            raise NormalizeError(f"{label}: {exc}") from exc
        if _PERIOD_RE.search(body):
            return DateFact(label=label, date=None, text=raw)
        raise NormalizeError(f"{label}을 읽을 수 없습니다: '{raw}' (예: 2026.03.01, 제조일로부터 12개월)") from exc


def deadline_label_in(text: str, default: str = "소비기한") -> str:
    """The deadline label a column header or notice label names, spaces ignored ("제조연월 및
    유통기한" -> 유통기한); `default` when it names none. Where it names several, another label wins
    over the default: an old export's "소비기한(유통기한)" keeps the 유통기한 the shop used. The
    others are tried in vocab order (유통기한, then 사용기한)."""
    squashed = text.replace(" ", "")
    labels = deadline_labels()
    for label in (*(lab for lab in labels if lab != default), default):
        if label in squashed:
            return label
    return default

"""PII redaction: a labelled corpus (tests/data/pii_cases.jsonl) scored for precision and recall,
plus the keep= exception and robustness on arbitrary text."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallretail_llm.core.pii import TOKENS, Redaction, redact_pii

CASES = [json.loads(line) for line in
         (Path(__file__).parent / "data" / "pii_cases.jsonl").read_text("utf-8").splitlines()
         if line.strip()]
SHOP_CS = {"1588-1234"}  # the corpus' shop CS number, kept


def _tokens(text: str) -> Counter[str]:
    return Counter({kind: text.count(token) for kind, token in TOKENS.items()})


def test_corpus_size_and_negatives() -> None:
    assert len(CASES) >= 100
    negatives = [c for c in CASES if not c["found"]]
    assert len(negatives) >= 30
    assert all(c["expected_text"] == c["text"] for c in negatives)


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:30] for c in CASES])
def test_case_exact(case: dict) -> None:
    result = redact_pii(case["text"], keep=SHOP_CS)
    assert result.text == case["expected_text"]
    assert result.found == case["found"]


def test_corpus_precision_and_recall() -> None:
    """Count replacement tokens per kind: a token the label lacks is a false positive, a missing
    one a false negative. Both must be zero over the whole corpus."""
    tp = fp = fn = 0
    for case in CASES:
        got = _tokens(redact_pii(case["text"], keep=SHOP_CS).text) - _tokens(case["text"])
        want = _tokens(case["expected_text"]) - _tokens(case["text"])
        tp += sum((got & want).values())
        fp += sum((got - want).values())
        fn += sum((want - got).values())
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert tp >= 80
    assert (precision, recall) == (1.0, 1.0)


def test_keep_leaves_the_shop_number_in_any_spelling() -> None:
    text = "고객센터 1588-1234, 상담원 직통 1588.1234, 개인 010-1234-5678"
    assert redact_pii(text, keep={"1588-1234"}).text == \
        "고객센터 1588-1234, 상담원 직통 1588.1234, 개인 [전화번호]"
    assert redact_pii("매장 (02) 555-1234", keep={"025551234"}).text == "매장 (02) 555-1234"
    assert redact_pii("help@shop.kr 로 문의", keep={"HELP@shop.kr"}).text == "help@shop.kr 로 문의"
    assert redact_pii("고객센터 1588-1234").text == "고객센터 [전화번호]"


def test_found_is_sorted_unique() -> None:
    result = redact_pii("010-1111-2222, 010-3333-4444, a@b.co, 900101-1234567")
    assert result == Redaction(text="[전화번호], [전화번호], [이메일], [주민등록번호]",
                               found=["email", "phone", "rrn"])


def test_empty_and_non_text() -> None:
    assert redact_pii("") == Redaction(text="", found=[])
    assert redact_pii(None) == Redaction(text="", found=[])  # type: ignore[arg-type]
    assert redact_pii("\ud800 010-1234-5678").text == "\ud800 [전화번호]"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_never_raises_and_keeps_text_without_tokens(text: str) -> None:
    result = redact_pii(text)
    assert isinstance(result.text, str)
    if not result.found:
        assert result.text == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789-. +()공일이삼@a가동로길호층번지", max_size=60))
def test_never_raises_on_number_soup(text: str) -> None:
    result = redact_pii(text)
    assert set(result.found) <= set(TOKENS)


def test_100kb_text_is_fast() -> None:
    text = " ".join(c["text"] for c in CASES)
    text = (text * (100_000 // len(text) + 1))[:100_000]
    started = time.perf_counter()
    result = redact_pii(text)
    assert time.perf_counter() - started < 2.0
    assert "010-1234-5678" not in result.text
    assert "8801234567890" in result.text

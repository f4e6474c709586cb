"""Particles follow how a word is read; numbers and units are written the way shops write them."""

from __future__ import annotations

import datetime as dt

import pytest

from smallretail_llm.core.korean import (
    fill,
    final_sound,
    format_date_fact,
    format_krw,
    format_net_content,
    format_number,
    has_final_consonant,
    josa,
    particle,
)
from smallretail_llm.core.record import DateFact, NetContent

V, L, C = None, "ㄹ", "C"  # vowel end, ㄹ end, other consonant end

WORDS = [
    # Hangul
    ("사과", V), ("수박", C), ("우유", V), ("두부", V), ("김치", V), ("쌀", L), ("물", L),
    ("서울", L), ("콩", C), ("밀", L), ("알", L), ("빵", C), ("라면", C), ("고추장", C),
    ("참기름", C), ("꿀", L), ("새우", V), ("잣", C), ("닭고기", V), ("복숭아", V), ("토마토", V),
    # numbers, read in Sino-Korean
    ("1", L), ("2", V), ("3", C), ("4", V), ("5", V), ("6", C), ("7", L), ("8", L), ("9", V),
    ("0", C), ("10", C), ("20", C), ("100", C), ("1000", C), ("10000", C), ("1.5", V),
    ("2.0", C), ("12,900", C), ("12,345", V), ("비타민C 1000", C), ("오메가3", C),
    # number + unit, read by the unit
    ("1L", V), ("1.5L", V), ("500ml", V), ("500mL", V), ("500g", C), ("2kg", C), ("30매", V),
    ("2개", V), ("12,900원", C), ("30%", V), ("10℃", V), ("5cm", V), ("100W", V), ("500㎖", V),
    # acronyms spelled out, English words read as loanwords
    ("HACCP", V), ("KC", V), ("GMO", V), ("LED", V), ("USB", V), ("LG", V), ("HTML", L),
    ("SPF", V), ("apple", L), ("cup", C), ("water", V), ("oil", L), ("set", V), ("pack", C),
    ("cream", C), ("line", C), ("milk", V),
    # brackets and quotes: the word before them decides
    ("사과(국산)", V), ("쌀(국내산)", L), ("두부(300g)", V), ("'책'", C), ("「우유」", V),
    ("ㄱ", C), ("ㄹ", L), ("두부★", V),
]


def test_word_list_is_large_enough():
    assert len(WORDS) >= 40


@pytest.mark.parametrize(("word", "sound"), WORDS)
def test_final_sound(word, sound):
    assert final_sound(word) == sound
    assert has_final_consonant(word) is (sound is not None)


@pytest.mark.parametrize(("word", "pair", "expected"), [
    ("사과", "을/를", "사과를"), ("수박", "을/를", "수박을"), ("수박", "를/을", "수박을"),
    ("사과", "은/는", "사과는"), ("수박", "은/는", "수박은"), ("1L", "은/는", "1L는"),
    ("3", "은/는", "3은"), ("HACCP", "은/는", "HACCP는"), ("사과", "이/가", "사과가"),
    ("쌀", "이/가", "쌀이"), ("우유", "과/와", "우유와"), ("콩", "와/과", "콩과"),
    ("서울", "(으)로", "서울로"), ("부산", "(으)로", "부산으로"), ("부산", "으로/로", "부산으로"),
    ("서울", "으로/로", "서울로"), ("사과", "(으)로", "사과로"), ("500g", "(으)로", "500g으로"),
    ("두부", "이에요/예요", "두부예요"), ("3,500원", "이에요/예요", "3,500원이에요"),
    ("2026-03-01", "이에요/예요", "2026-03-01이에요"), ("사과", "(이)라는", "사과라는"),
    ("수박", "(이)라는", "수박이라는"), ("친구", "아/야", "친구야"),
])
def test_josa(word, pair, expected):
    assert josa(word, pair) == expected


def test_particle_returns_only_the_particle():
    assert particle("사과", "을/를") == "를"
    assert particle("쌀", "(으)로") == "로"


def test_bad_pair_is_an_error():
    with pytest.raises(ValueError, match="조사 형식"):
        josa("사과", "를")


def test_fill_attaches_particles_and_keeps_number_specs():
    assert fill("{a:은/는} {b:을/를} 샀어요", a="동생", b="사과") == "동생은 사과를 샀어요"
    assert fill("{n:,}개", n=12000) == "12,000개"
    with pytest.raises(KeyError):
        fill("{missing:을/를}")


@pytest.mark.parametrize(("value", "expected"), [
    (12900, "12,900"), (1500, "1,500"), (1.5, "1.5"), (2.0, "2"), (0.125, "0.125"),
    (1234.5678, "1,234.568"), (0, "0"), (1_000_000, "1,000,000"),
])
def test_format_number(value, expected):
    assert format_number(value) == expected


def test_format_krw():
    assert format_krw(12900) == "12,900원"
    assert format_krw(0) == "0원"
    assert format_krw(1_250_000) == "1,250,000원"


def test_format_net_content():
    assert format_net_content(NetContent(value=1500, unit="mL")) == "1.5L"
    assert format_net_content(NetContent(value=500, unit="g", count=2)) == "500g x 2개"
    assert format_net_content(NetContent(value=30, unit="매")) == "30매"
    assert format_net_content(NetContent(value=2000, unit="g")) == "2kg"


def test_format_date_fact():
    assert format_date_fact(DateFact(date=dt.date(2026, 3, 1))) == "2026-03-01"
    assert format_date_fact(DateFact(text=" 제조일로부터 12개월 ")) == "제조일로부터 12개월"

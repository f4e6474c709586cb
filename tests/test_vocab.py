"""One source per vocabulary (core/specs/vocab.yaml, read by core.vocab): the file loads and
validates, a broken edit fails naming the file and the key, and every module that used to keep
its own copy of a word list now reads the one source."""

from __future__ import annotations

import copy
from importlib import resources
from typing import get_args

import pytest
import yaml

from smallretail_llm.core import categories, korean, vocab
from smallretail_llm.core import dates as dates_module
from smallretail_llm.core import normalize as nz
from smallretail_llm.core import record as record_module
from smallretail_llm.core.record import ProductRecord


def _raw() -> dict:
    spec = resources.files("smallretail_llm.core").joinpath("specs", "vocab.yaml")
    return yaml.safe_load(spec.read_text("utf-8"))


def _parse(raw: dict) -> vocab.Vocab:
    return vocab.parse_vocab(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))


# ------------------------------------------------------------------ the file
def test_vocab_yaml_loads_and_validates():
    v = vocab.load_vocab()
    assert v is vocab.load_vocab()  # read once
    assert tuple(v.tones) == get_args(vocab.Tone)
    assert tuple(v.styles) == get_args(vocab.Style)
    assert tuple(v.date_labels) == get_args(vocab.DateLabel)
    assert {u.base for u in v.units.values()} == set(get_args(vocab.Unit))
    assert vocab.deadline_labels() == ("소비기한", "유통기한", "사용기한")
    assert vocab.date_label_spellings()["제조일자"] == "제조일"
    assert vocab.unit_table()["키로"] == ("g", 1000)
    assert str(vocab.unit_table()["mg"][1]) == "0.001"  # exact, not a binary float
    assert vocab.cert_name("mfds") == "기능성 인증"
    assert vocab.places().korea in vocab.places().countries


def test_record_types_are_the_vocab_types():
    assert record_module.DateLabel is vocab.DateLabel
    assert record_module.Tone is vocab.Tone
    assert record_module.Unit is vocab.Unit
    assert record_module.TONE_LABELS is vocab.tone_labels()
    assert record_module.STYLE_LABELS is vocab.style_labels()


@pytest.mark.parametrize(("edit", "key"), [
    (lambda r: r["units"]["kg"].update(color="red"), "units.kg.color"),  # unknown key
    (lambda r: r["units"]["kg"].update(factor="lots"), "units.kg.factor"),  # wrong type
    (lambda r: r["units"]["kg"].update(base="lb"), "units.kg.base"),  # not a Unit
    (lambda r: r["date_labels"]["소비기한"].update(deadline="yes"), "date_labels.소비기한.deadline"),
    (lambda r: r.pop("places"), "places"),  # missing section
    (lambda r: r["tones"].update(cheerful="발랄"), "tones"),  # a code the Tone type lacks
    (lambda r: r["certifications"]["kc"]["patterns"].insert(0, "kc(?:"),
     "certifications.kc.patterns[0]"),  # a regex that does not compile
    (lambda r: r["certifications"]["kc"].update(record_names=["K C"]),
     "certifications.kc.record_names"),
    (lambda r: r["places"]["provinces"].update(강원도="강릉"), "places.provinces.강원도"),
    (lambda r: r["places"].update(korea="한국"), "places.korea"),
    (lambda r: r["value_match"]["units"].append("oz"), "value_match.units"),
    (lambda r: r["units"]["g"]["spellings"].append("킬로"), "units.g"),  # one spelling, two units
])
def test_a_broken_vocab_names_the_file_and_the_key(edit, key):
    raw = copy.deepcopy(_raw())
    edit(raw)
    with pytest.raises(vocab.VocabError) as info:
        _parse(raw)
    assert str(info.value).startswith("vocab.yaml: ")
    assert key in str(info.value)


def test_invalid_yaml_and_a_non_mapping_are_refused():
    with pytest.raises(vocab.VocabError, match=r"^vocab.yaml: not valid YAML"):
        vocab.parse_vocab("tones: [unclosed")
    with pytest.raises(vocab.VocabError, match=r"^vocab.yaml: must map"):
        vocab.parse_vocab("- a list")


def test_the_package_vocab_parses_the_same_through_parse_vocab():
    assert _parse(_raw()) == vocab.load_vocab()


def test_a_bad_food_flag_in_categories_yaml_is_refused():
    raw = {"label": "가공식품", "food": "yes",
           "fields": [{"key": "name", "label": "제품명", "required": True, "type": "text",
                       "record_attr": "name", "aliases": []}]}
    with pytest.raises(categories.CategorySpecError, match=r"x\.food"):
        categories._category_from_yaml("x", raw)
    with pytest.raises(categories.CategorySpecError, match="unknown keys"):
        categories._category_from_yaml("x", {**raw, "food": True, "fod": True})


# ------------------------------------------------------------------ each former duplicate
def test_food_categories_are_one_flag():
    from smallretail_llm.baseline import qa
    from smallretail_llm.data import qa_examples
    from smallretail_llm.grounding import compliance_rules

    foods = categories.food_categories()
    assert foods == {"processed_food", "agri_food", "health_food"}  # as the three copies had it
    assert qa.food_categories is categories.food_categories
    assert qa_examples.food_categories is categories.food_categories
    groups = {r.rule: r.categories for r in compliance_rules.rules()}
    assert groups["disease_claim"] == foods
    assert groups["fake_health_functional"] == foods - {"health_food"}
    assert all(categories.get_category(c).food for c in foods)  # the sample builder reads spec.food


def test_deadline_labels_are_read_from_the_vocab():
    from smallretail_llm.baseline import copy_check, qa, record_text, renderer

    for module in (qa, renderer, record_text, copy_check, dates_module):
        assert module.deadline_labels is vocab.deadline_labels, module.__name__
    assert ("use_by", "유통기한") in copy_check._known_labels()


def test_deadline_label_in_matches_both_former_orders_where_they_were_used():
    """catalog.ingest tried 유통기한, 사용기한, 소비기한 on a header with spaces removed;
    baseline.prompt_facts tried 사용기한, 유통기한, 소비기한 on a category's notice label. One
    function now serves both: it is ingest's rule, and on every notice label a category has
    (prompt_facts' only inputs) the two orders agree."""
    def ingest_rule(header: str) -> str:
        return next((k for k in ("유통기한", "사용기한", "소비기한") if k in header.replace(" ", "")),
                    "소비기한")

    def prompt_facts_rule(label: str) -> str:
        return next((k for k in ("사용기한", "유통기한", "소비기한") if k in label), "소비기한")

    for header in ("유통기한", "소비기한(유통기한)", "사용 기한", "유통기한/사용기한", "제조일", ""):
        assert dates_module.deadline_label_in(header) == ingest_rule(header)
    labels = [f.label for spec in categories.load_categories().values() for f in spec.fields]
    assert labels
    for label in labels:
        assert dates_module.deadline_label_in(label) == prompt_facts_rule(label), label


def test_tones_and_styles_are_read_from_the_vocab():
    from smallretail_llm.baseline import qa, renderer
    from smallretail_llm.baseline.renderer_phrases import PHRASES
    from smallretail_llm.data import dataset

    assert renderer.TONES == tuple(vocab.tone_labels()) == dataset.TONES
    assert dataset.STYLES == tuple(vocab.style_labels())
    assert [qa.tone_of(t) for t in (*renderer.TONES, "shouty")] == [*renderer.TONES, "polite"]
    for fact, by_tone in PHRASES.items():
        assert tuple(by_tone) == renderer.TONES, fact


def test_units_are_read_from_the_vocab():
    from smallretail_llm.evaluation.metrics import normalize_text
    from smallretail_llm.grounding import claims

    for spelling, (base, factor) in vocab.unit_table().items():
        assert nz.parse_quantity(f"2 {spelling}") == (float(2 * factor), base), spelling
    match = vocab.value_match()
    for unit in match.units:
        spec = vocab.units()[unit]
        assert normalize_text(f"3{unit}") == f"{float(3 * spec.factor):.3f}".rstrip("0").rstrip(
            ".") + spec.base.lower()
    for spelling in match.spellings:
        symbol = next(s for s, u in vocab.units().items() if spelling in u.spellings)
        assert normalize_text(f"3{spelling}") == normalize_text(f"3{symbol}"), spelling
    number_unit = claims._unit_res()[0]
    for unit in (*vocab.claim_units().latin, *vocab.claim_units().hangul):
        found = number_unit.search(f"약 37 {unit} 입니다")
        assert found is not None and found["unit"].lower() == unit, unit


def test_certifications_are_read_from_the_vocab():
    from smallretail_llm.grounding import claims, compliance, compliance_rules
    from smallretail_llm.grounding.facts import build_facts
    from smallretail_llm.grounding.record_rules import record_warnings

    certs = vocab.certifications()
    assert [name for name, _ in claims._cert_patterns()] == [
        c.name for c in certs.values() for _ in c.patterns]
    written = {"haccp": "해썹 인증", "organic": "유기가공식품", "pesticide_free": "저농약",
               "gap": "우수농산물관리", "kc": "KC 안전인증", "gmp": "cGMP", "mfds": "식약처 인정",
               "fda": "FDA 등록", "iso": "ISO 22000", "eco": "친환경 인증", "antibiotic_free": "무항생제",
               "animal_welfare": "동물복지", "halal": "HALAL", "vegan": "비건 인증", "patent": "특허 출원",
               "functional_cosmetics": "기능성 화장품"}
    assert set(written) == set(certs)
    for code, text in written.items():  # a certification as written reads as its vocab name
        assert claims.cert_keys(text) == {("cert", certs[code].name)}, code
    for rule in compliance_rules.rules():
        if rule.cert is not None:
            assert certs[rule.cert].record_names, rule.cert
    assert compliance._cert_notice_keys() == {"kc_certification": "kc"}
    health = ProductRecord(shop_id="s", sku="k", name="비타민", category="health_food")
    assert ("cert", vocab.cert_name("mfds")) in build_facts(health, None).keys
    assert claims.cert_keys("식약처 인정") == {("cert", vocab.cert_name("mfds"))}
    assert not [w for w in record_warnings(health) if w.rule == "uncertified_claim"]


def test_places_are_read_from_the_vocab():
    from smallretail_llm.grounding import check
    from smallretail_llm.grounding.claims_places import place_keys

    places = vocab.places()
    for canon, names in places.countries.items():
        for name in names:
            assert place_keys(name) == {("country", canon)}, name
    for word, country in places.origin_words.items():
        assert place_keys(word) == {("country", country)}, word
    for region in places.regions:
        assert place_keys(f"{region}산") == {("region", region)}, region
    assert check._has(frozenset({("country", places.imported)}), {("country", "미국")})
    assert not check._has(frozenset({("country", places.imported)}), {("country", places.korea)})


def test_ad_claim_words_are_read_from_the_vocab():
    from smallretail_llm.grounding import compliance_rules

    disease = [r.pattern.pattern for r in compliance_rules.rules() if r.rule == "disease_claim"]
    for word in (*vocab.ad_claims().diseases, *vocab.ad_claims().health_markers):
        assert any(word in p for p in disease), word


def test_every_sentence_splitter_is_the_core_one():
    from smallretail_llm.baseline import copy_check, renderer
    from smallretail_llm.grounding import check, claim_fields, claims_allergens, compliance
    from smallretail_llm.serving import draft_checks

    for module in (check, claim_fields, claims_allergens, compliance):
        assert module.sentence_spans is korean.sentence_spans, module.__name__
    for module in (compliance, renderer, copy_check, draft_checks):
        assert module.split_sentences is korean.split_sentences, module.__name__


def test_split_sentences_modes():
    text = " 원산지는 국산입니다. 1.5kg이에요!\n\n보관은 냉장다 둘째 줄"
    assert korean.split_sentences(text) == [" 원산지는 국산입니다.", "1.5kg이에요!", "보관은 냉장다 둘째 줄"]
    assert korean.split_sentences("가. 나\n다", line_breaks=False) == ["가.", "나\n다"]
    assert korean.split_sentences("하세요。 다음", ends=".!?。") == ["하세요。", "다음"]
    assert korean.split_sentences("합니다 다음", ends=".!?다") == ["합니다", "다음"]
    spans = korean.sentence_spans("1.5kg 두부. 끝", cover=True)
    assert spans == [(0, 2), (2, 9), (9, 11)]  # covers the text; breaks after every mark
    assert korean.sentence_spans("  ", cover=False) == []

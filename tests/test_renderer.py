"""The reference renderer: deterministic, varied, and it states only what the record says."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from importlib import resources

import pytest

from smallretail_llm.baseline.prompt_facts import HEALTH_FOOD_STATEMENT
from smallretail_llm.baseline.renderer import SEO_TITLE_MAX, render_description
from smallretail_llm.core.record import DateFact, NetContent, ProductRecord, ShopPolicy
from smallretail_llm.data.prompts import render_describe
from smallretail_llm.grounding.compliance import check_compliance

STYLES = ("detail", "intro", "bullets", "seo")
TONES = ("friendly", "polite", "concise")

POLICY = ShopPolicy(
    shop_id="s1", shop_name="동네마트", shipping_fee_krw=3000, free_shipping_threshold_krw=50000,
    shipping_days="결제 후 1~2일 내 출고", return_policy="수령 후 7일 이내 교환/반품",
    cs_phone="02-123-4567", cs_hours="평일 10~18시",
)

_FOODS = [("국산콩 두부", "대두"), ("우리밀 식빵", "밀"), ("서울 우유", "우유"), ("참깨 라면", "밀"),
          ("쌀", None), ("고등어 통조림", "고등어"), ("땅콩 버터", "땅콩"), ("토마토 주스", "토마토")]
_GOODS = [("wear", "면 티셔츠", {"material": "면 100%", "color": "흰색", "size": "M"}),
          ("kitchenware", "스테인리스 냄비", {"material": "스테인리스", "size": "지름 20cm"}),
          ("cosmetics", "수분 크림", {"usage": "적당량을 얼굴에 펴 바릅니다"}),
          ("small_electronics", "LED 무드등", {"model_name": "ML-200", "rated_power": "5V 2W"}),
          ("household_chemical", "주방 세제", {"use_and_form": "주방용 / 액상"})]
_BRANDS = ["풀무원", "오뚜기", "CJ", "해뜰농장", "LG", None]
_ORIGINS = ["국내산", "미국산", "중국", None]


def product(i: int) -> ProductRecord:
    """Product i of a varied synthetic catalog: fields present or missing by i."""
    kind = i % 3
    brand = _BRANDS[i % len(_BRANDS)]
    fields: dict = {"shop_id": "s1", "sku": f"P{i:03d}", "brand": brand, "origin": _ORIGINS[i % 4],
                    "price_krw": None if i % 5 == 4 else 1000 + 100 * i,
                    "manufacturer": f"{brand}식품" if brand and i % 2 else None}
    if kind < 2:
        name, allergen = _FOODS[i % len(_FOODS)]
        fields.update(
            name=f"{name} {i}호", category="health_food" if i % 10 == 1 else "processed_food",
            net_content=NetContent(value=100 * (i % 7 + 1), unit="g" if i % 2 else "mL",
                                   count=1 if i % 4 else 2),
            allergens=[allergen] if allergen and i % 6 else [],
            cross_contact="같은 제조시설에서 땅콩을 사용한 제품을 제조합니다" if i % 8 == 0 else None,
            storage=["냉장 보관", "직사광선을 피해 서늘한 곳에 보관하세요", "냉동 보관(-18℃ 이하)", None][i % 4],
            use_by=[DateFact(date=dt.date(2026, 1 + i % 12, 1 + i % 28)), None,
                    DateFact(label="유통기한", text="제조일로부터 12개월")][i % 3],
            certifications=[["HACCP"], [], ["유기농", "GAP"]][i % 3],
            notice={"food_type": "기타가공품", "ingredients": "정제수, 정제소금"} if i % 2 else {},
        )
    else:
        category, name, notice = _GOODS[i % len(_GOODS)]
        fields.update(name=f"{name} {i}", category=category, notice=notice,
                      net_content=NetContent(value=50, unit="mL") if category == "cosmetics" else None,
                      certifications=["KC 인증"] if category == "small_electronics" else [])
    return ProductRecord(**fields)


PRODUCTS = [product(i) for i in range(50)]


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def test_same_input_gives_the_same_text():
    for record in PRODUCTS[:10]:
        for style in STYLES:
            first = render_description(record, style, "polite", POLICY, seed=3)
            assert render_description(record, style, "polite", POLICY, seed=3) == first


def test_seed_changes_the_phrasing():
    detail = {render_description(PRODUCTS[0], "detail", "friendly", seed=s) for s in range(10)}
    assert len(detail) >= 3


def _opener(record: ProductRecord, tone: str) -> str:
    first = render_description(record, "detail", tone).split("\n")[0].split(". ")[0]
    for value in (record.name, record.brand or "@"):
        first = first.replace(value, "<>")
    return re.sub(r"<>[이가은는을를의]?(?:이에요|예요)?", "<>", first)


@pytest.mark.parametrize("tone", TONES)
def test_products_get_different_openers(tone):
    assert len({_opener(r, tone) for r in PRODUCTS}) >= 5


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("tone", TONES)
def test_numbers_come_only_from_the_prompt_facts(style, tone):
    for record in PRODUCTS:
        text = render_description(record, style, tone, POLICY)
        prompt = render_describe(record, style, tone, POLICY)[1]["content"]
        assert numbers(text) <= numbers(prompt), (record.key, text)


@pytest.mark.parametrize("tone", TONES)
def test_copy_passes_the_advertising_rules(tone):
    for record in PRODUCTS:
        for style in STYLES:
            text = render_description(record, style, tone, POLICY)
            assert check_compliance(text, record) == [], text


def test_no_superlatives_or_claims():
    banned = ("최고", "최상", "가장", "완벽", "최저가", "1위", "강력", "신선한", "맛있", "건강에", "효과")
    for record in PRODUCTS:
        for style in STYLES:
            for tone in TONES:
                text = render_description(record, style, tone, POLICY)
                assert not [w for w in banned if w in text], text


def test_seo_title_fits_and_lists_keywords():
    long_name = "유기농 " * 20 + "현미"
    records = [*PRODUCTS, PRODUCTS[0].model_copy(update={"name": long_name.strip()}),
               PRODUCTS[0].model_copy(update={"name": "가" * 80})]
    for record in records:
        title, keywords, *statement = render_description(record, "seo", "polite").split("\n")
        assert 0 < len(title) <= SEO_TITLE_MAX
        assert keywords.startswith("키워드: ") and keywords != "키워드: "
        assert statement == ([HEALTH_FOOD_STATEMENT] if record.category == "health_food" else [])
    tofu = PRODUCTS[0].model_copy(update={"keywords": ["두부", "국산콩", "반찬"]})
    assert render_description(tofu, "seo", "polite").endswith("\n키워드: 두부, 국산콩, 반찬")


def test_seo_does_not_depend_on_tone():
    for record in PRODUCTS[:10]:
        assert len({render_description(record, "seo", tone) for tone in TONES}) == 1


def test_health_food_copy_carries_the_required_statement():
    health = [r for r in PRODUCTS if r.category == "health_food"]
    assert health
    for record in health:
        for tone in TONES:
            assert render_description(record, "detail", tone).endswith("\n\n" + HEALTH_FOOD_STATEMENT)
            assert render_description(record, "intro", tone).endswith(". " + HEALTH_FOOD_STATEMENT)
            assert render_description(record, "seo", tone).endswith("\n" + HEALTH_FOOD_STATEMENT)
            bullets = render_description(record, "bullets", tone).split("\n")
            assert bullets[-1] == "• " + HEALTH_FOOD_STATEMENT
    for record in PRODUCTS:
        if record.category != "health_food":
            for style in STYLES:
                assert "의약품" not in render_description(record, style, "polite")


@pytest.mark.parametrize("tone", TONES)
def test_bullets_have_three_to_six_lines(tone):
    bare = ProductRecord(shop_id="s1", sku="X", name="수제 잼", category="processed_food")
    for record in [*PRODUCTS, bare]:
        lines = render_description(record, "bullets", tone).split("\n")
        assert 3 <= len(lines) <= 6
        assert all(line.startswith("• ") for line in lines)


def test_intro_is_one_sentence():
    for record in PRODUCTS:
        for tone in TONES:
            text = render_description(record, "intro", tone).removesuffix(" " + HEALTH_FOOD_STATEMENT)
            assert "\n" not in text
            assert len(re.findall(r"[.!?](?!\d)", text)) == 1, text


def test_tones_change_the_endings():
    record = PRODUCTS[0]
    friendly = render_description(record, "detail", "friendly")
    polite = render_description(record, "detail", "polite")
    concise = render_description(record, "detail", "concise")
    assert "요." in friendly and "니다." not in friendly.replace("제조합니다.", "")
    assert "니다." in polite and "요." not in polite
    assert "요." not in concise and "니다." not in concise.replace("제조합니다.", "")


def test_exact_text_of_one_product():
    record = ProductRecord(
        shop_id="s1", sku="T1", name="국산콩 두부", category="processed_food", brand="풀무원",
        origin="국내산", price_krw=3500, net_content=NetContent(value=300, unit="g"),
        storage="냉장 보관", use_by=DateFact(date=dt.date(2026, 3, 1)), allergens=["대두"])
    text = render_description(record, "detail", "polite")
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 3
    assert "풀무원" in paragraphs[0] and "국산콩 두부" in paragraphs[0]
    assert "원산지는 국내산" in paragraphs[0] and "3,500원입니다." in paragraphs[0]
    assert "소비기한은 2026-03-01까지" in paragraphs[1] and "냉장 보관" in paragraphs[1]
    assert "대두를 함유하고 있습니다." in paragraphs[2]


MISSING = {
    "price_krw": ("가격", "판매가", "3,500"), "origin": ("원산지",), "allergens": ("알레르기", "함유"),
    "certifications": ("인증", "HACCP"), "use_by": ("소비기한", "유통기한"), "storage": ("보관",),
    "manufacturer": ("제조사", "제조원"), "net_content": ("중량", "용량", "구성"),
    "cross_contact": ("제조시설",), "notice": ("식품의 유형", "고시"),
}


@pytest.mark.parametrize("field", sorted(MISSING))
def test_missing_facts_are_not_mentioned(field):
    full = ProductRecord(
        shop_id="s1", sku="F", name="두부", category="processed_food", brand="풀무원",
        manufacturer="풀무원식품", origin="국내산", price_krw=3500,
        net_content=NetContent(value=300, unit="g"), allergens=["대두"],
        cross_contact="같은 제조시설에서 밀을 사용한 제품을 제조합니다", storage="냉장 보관",
        use_by=DateFact(date=dt.date(2026, 3, 1)), certifications=["HACCP"],
        notice={"food_type": "두부"})
    empty = ProductRecord.model_fields[field].get_default(call_default_factory=True)
    record = full.model_copy(update={field: empty})
    words = MISSING[field]
    assert any(w in render_description(full, "detail", "polite", seed=1) for w in words)
    for style in STYLES:
        for tone in TONES:
            for seed in range(3):
                text = render_description(record, style, tone, seed=seed)
                assert not [w for w in words if w in text], (style, tone, text)


def test_style_reads_only_the_fields_its_prompt_shows():
    record = PRODUCTS[0].model_copy(update={"storage": "냉장 보관", "origin": "국내산"})
    for tone in TONES:
        text = render_description(record, "intro", tone)
        assert "보관" not in text and "국내산" not in text


def test_unknown_style_or_tone_is_an_error():
    with pytest.raises(ValueError, match="알 수 없는 스타일"):
        render_description(PRODUCTS[0], "poem", "polite")
    with pytest.raises(ValueError, match="알 수 없는 말투"):
        render_description(PRODUCTS[0], "intro", "rude")


def _sample_catalog() -> list[tuple[ProductRecord, ShopPolicy | None]]:
    import json

    from smallretail_llm.catalog.service import parse_file

    root = resources.files("smallretail_llm.catalog") / "samples"
    policies = {}
    if (root / "shops.json").is_file():
        for raw in json.loads((root / "shops.json").read_text(encoding="utf-8")):
            policy = ShopPolicy.model_validate(raw)
            policies[policy.shop_id] = policy
    records = []
    for path in sorted(p for p in root.iterdir() if p.name.endswith(".csv")):
        parsed, _, _ = parse_file(path.name, path.name.removesuffix(".csv"), data=path.read_bytes())
        records += [(r, policies.get(r.shop_id)) for _, r in parsed.records]
    return records


needs_grounding = pytest.mark.skipif(
    importlib.util.find_spec("smallretail_llm.grounding.check") is None,
    reason="smallretail_llm.grounding.check (check_description) is not written yet")


def _grounding_failures(items, pairs_for) -> list:
    """Rendered copy that fails grounding or the copy check a model draft must pass (the
    copy check's rules are the renderer's own shapes)."""
    from smallretail_llm.baseline.copy_check import copy_problems
    from smallretail_llm.grounding.check import check_description

    failures = []
    for i, (record, policy) in enumerate(items):
        for style, tone in pairs_for(i):
                text = render_description(record, style, tone, policy)
                report = check_description(text, record, policy, style=style, strict=True)
                problems = copy_problems(text, record, style)
                if not report.passed or problems:
                    failures.append((record.key, style, tone, text, report, problems))
    return failures


def _catalog_or_skip():
    catalog = _sample_catalog()
    if not catalog:
        pytest.skip("the sample catalog (src/smallretail_llm/catalog/samples/*.csv) is not there yet")
    return catalog


@needs_grounding
def test_every_reference_over_the_sample_catalog_passes_grounding():
    """Every product, with style and tone rotating so the file stays fast; the slow test below
    renders every product in every style and tone."""
    catalog = _catalog_or_skip()
    assert len(catalog) >= 100
    failures = _grounding_failures(catalog, lambda i: [(STYLES[i % 4], TONES[i // 4 % 3])])
    assert not failures, failures[:3]


@needs_grounding
def test_synthetic_products_pass_grounding_with_and_without_policy():
    items = [(r, POLICY if i % 2 else None) for i, r in enumerate(PRODUCTS)]
    assert not _grounding_failures(items, lambda i: [(s, TONES[(i + j) % 3])
                                                      for j, s in enumerate(STYLES)])


@pytest.mark.slow
@needs_grounding
def test_every_tone_over_the_sample_catalog_passes_grounding():
    failures = _grounding_failures(_catalog_or_skip(),
                                   lambda i: [(s, t) for s in STYLES for t in TONES])
    assert not failures, failures[:3]

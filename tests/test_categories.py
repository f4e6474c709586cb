"""Category specs: coverage of the 상품정보제공고시, lookups, and missing-field reports."""

import datetime as dt
import json
from pathlib import Path

import pytest

from smallretail_llm.core import categories
from smallretail_llm.core.categories import (
    CATEGORIES,
    FIELD_TYPES,
    UnknownCategory,
    get_category,
    missing_required,
)
from smallretail_llm.core.record import DateFact, NetContent, ProductRecord, ShopPolicy

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "product_info_notice.json"
# The reference's keys that CODES.md renames; every other reference key is used as is.
RENAMED = {"micro": "small_electronics", "food": "agri_food", "general_food": "processed_food",
           "diet_food": "health_food"}
SAMPLE_CODES = {"processed_food", "agri_food", "health_food", "cosmetics", "wear", "kitchenware",
                "household_chemical", "small_electronics"}
FOODS = ("processed_food", "agri_food", "health_food")


def test_36_groups_with_the_shared_codes():
    assert len(CATEGORIES) == 36
    assert SAMPLE_CODES <= set(CATEGORIES)
    assert get_category("household_chemical").label == "생활화학제품"
    assert get_category("small_electronics").label == "소형전자(MP3/전자사전등)"


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared not present")
def test_every_reference_group_is_covered():
    reference = json.loads(REFERENCE.read_text("utf-8"))
    assert len(reference) == 35
    codes = {RENAMED.get(key, key) for key in reference}
    assert codes == set(CATEGORIES) - {"household_chemical"}
    for key, group in reference.items():  # names agree up to spacing and the fixed parenthesis
        spec = get_category(RENAMED.get(key, key))
        title = group["title"].replace(" ", "").split("(")[0]
        assert title in {name.split("(")[0] for name in (spec.label, *spec.aliases)}, key


def test_fields_are_well_formed():
    for spec in CATEGORIES.values():
        keys = [f.key for f in spec.fields]
        assert len(keys) == len(set(keys)), spec.code
        assert all(f.type in FIELD_TYPES for f in spec.fields)
        assert spec.required_fields, spec.code
    assert "waight" not in {f.key for s in CATEGORIES.values() for f in s.fields}


@pytest.mark.parametrize("code", FOODS)
def test_foods_say_soubigihan_not_yutonggihan(code):
    use_by = get_category(code).field("use_by")
    assert (use_by.label, use_by.required, use_by.type, use_by.record_attr) == (
        "소비기한", True, "date", "use_by")
    assert "유통기한" in use_by.aliases  # old exports still map here
    assert not any("유통기한" in f.label for f in get_category(code).fields)


def test_health_food_keeps_the_not_medicine_statement():
    field = get_category("health_food").field("not_medicine_notice")
    assert field.required and "의약품이 아니" in field.label
    assert field.record_attr is None


def test_conditional_fields_are_optional():
    assert get_category("processed_food").field("import_notice").required is False
    assert get_category("shoes").field("heel_height").required is False
    assert get_category("cosmetics").field("functional_review").required is False
    assert get_category("wear").field("made_in").record_attr == "origin"
    assert get_category("cosmetics").field("all_ingredients").label == "전성분"


@pytest.mark.parametrize(
    "name, code",
    [("processed_food", "processed_food"), ("가공식품", "processed_food"),
     ("식품(농수산물)", "agri_food"), ("식품 (농수산물)", "agri_food"), ("농수산물", "agri_food"),
     ("건강기능식품", "health_food"), ("소형전자(MP3/전자사전등)", "small_electronics"),
     ("소형전자", "small_electronics"), ("생활화학제품", "household_chemical"),
     ("Cosmetics", "cosmetics"), ("영상가전(TV류)", "image")],
)
def test_get_category_by_code_label_or_alias(name, code):
    assert get_category(name).code == code


@pytest.mark.parametrize("name", ["과자류", "", "food"])
def test_unknown_category_raises_with_korean_message(name):
    with pytest.raises(UnknownCategory) as info:
        get_category(name)
    assert isinstance(info.value, KeyError)
    assert str(info.value).startswith(f"알 수 없는 카테고리: '{name}'")


def test_field_for_header_matches_labels_and_aliases():
    food = get_category("processed_food")
    assert food.field_for_header("원재료명 및 함량").key == "ingredients"
    assert food.field_for_header("유통기한").key == "use_by"
    assert food.field_for_header(" 식품 유형 ").key == "food_type"
    assert food.field_for_header("메모") is None


def _record(category: str, **kw) -> ProductRecord:
    return ProductRecord(shop_id="s1", sku="A-1", name=kw.pop("name", "상품"), category=category, **kw)


def test_missing_required_processed_food_attr_vs_notice():
    record = _record(
        "processed_food", manufacturer="(주)한결식품", net_content=NetContent(value=500, unit="g"),
        use_by=DateFact(date=dt.date(2027, 3, 1)),
        notice={"food_type": "과자", "ingredients": "밀가루(국산) 60%, 설탕", "safety_caution": " "},
    )
    assert [f.key for f in missing_required(record)] == [
        "producer_location", "safety_caution", "cs_phone"]


def test_missing_required_notice_value_satisfies_field_without_record_attr():
    record = _record(
        "agri_food", origin="국내산", storage="냉장 보관",
        notice={"product_name": "사과", "manufacturer": "김영수(경북 청송)", "net_content": "2kg",
                "manufactured_on": "2025년산", "use_by": "수령 후 7일", "components": "사과 8~10과",
                "safety_caution": "해당 없음", "cs_phone": "02-123-4567"},
    )
    assert missing_required(record) == []


def test_missing_required_with_policy_fills_phone_fields():
    record = _record("wear", manufacturer="봄날", origin="대한민국",
                     notice={"material": "면 100%", "color": "아이보리", "size": "FREE",
                             "caution": "손세탁", "manufactured_ym": "2025.09"})
    assert [f.key for f in missing_required(record)] == ["warranty", "as_contact"]
    policy = ShopPolicy(shop_id="s1", shop_name="봄날", shipping_fee_krw=3000,
                        shipping_days="1~2일", return_policy="7일 이내", cs_phone="1588-1234",
                        cs_hours="평일 10~17시")
    assert [f.key for f in missing_required(record, policy)] == ["warranty"]


def test_missing_required_unknown_category_raises():
    with pytest.raises(UnknownCategory):
        missing_required(_record("과자류"))


def test_specs_are_loaded_once_and_read_only():
    assert categories.load_categories() is CATEGORIES
    with pytest.raises(TypeError):
        CATEGORIES["x"] = CATEGORIES["wear"]  # type: ignore[index]

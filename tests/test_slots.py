"""Value slots: delexicalised targets fill back to the exact original, particles follow the
filled value, unknown slots are reported, and every slot name is one nano token."""

import re

import pytest

from smallretail_llm.baseline.copy_check import field_labels, mislabeled_slots, orphan_labels
from smallretail_llm.baseline.slots import all_slot_names, delexicalize, fill, slot, slot_values
from smallretail_llm.catalog.sample_catalog import load_samples
from smallretail_llm.catalog.service import catalog_pairs
from smallretail_llm.core.record import NetContent, ProductRecord, ShopPolicy
from smallretail_llm.data.dataset import build_examples
from smallretail_llm.db.store import Store
from smallretail_llm.serving.draft_requests import answer_values


@pytest.fixture(scope="module")
def pairs():
    store = Store("sqlite://")
    load_samples(store)
    return catalog_pairs(store)


def _record(**kw):
    base = {"shop_id": "s", "sku": "A1", "name": "국산 찰현미 4kg", "category": "agri_food",
                "price_krw": 24900, "net_content": NetContent(value=4000, unit="g"),
                "origin": "국내산(전라남도 해남군)"}
    return ProductRecord(**{**base, **kw})


POLICY = ShopPolicy(shop_id="s", shop_name="한밭식탁", shipping_fee_krw=3000,
                    free_shipping_threshold_krw=30000, shipping_days="1~2일", return_policy="7일 이내",
                    cs_phone="1588-4821", cs_hours="평일 09:00~18:00")


def test_values_come_from_the_prompt_lines():
    values = slot_values(_record(), POLICY)
    assert values["price_krw"] == "24,900원"
    assert values["net_content"] == "4kg"
    assert values["policy.shipping_fee_krw"] == "3,000원"
    assert values["policy.free_shipping_threshold_krw"] == "30,000원"
    assert "brand" not in values  # no value, no slot


def test_longest_value_wins_and_numbers_do_not_match_inside_numbers():
    values = slot_values(_record(), POLICY)
    text = "국산 찰현미 4kg은 24,900원이에요. 배송비는 3,000원, 30,000원 이상 무료배송. 14kg 아님"
    delexed = delexicalize(text, values)
    assert delexed.startswith(f"{slot('name')}은 {slot('price_krw')}이에요.")
    assert slot("policy.shipping_fee_krw") in delexed
    assert slot("policy.free_shipping_threshold_krw") in delexed
    assert "14kg" in delexed  # "4kg" is not inside "14kg"


def test_particles_follow_the_filled_value():
    values = {"name": "청송 사과", "price_krw": "24,900원"}
    assert fill("⟦name⟧은 ⟦price_krw⟧예요.", values).text == "청송 사과는 24,900원이에요."
    values = {"name": "유기농 현미", "price_krw": "9,900원"}
    assert fill("⟦name⟧는 ⟦price_krw⟧이에요. ⟦name⟧가 좋아요", values).text == \
        "유기농 현미는 9,900원이에요. 유기농 현미가 좋아요"
    # a copula after a vowel keeps either form; after a consonant only the 이-form is right
    assert fill("⟦net_content⟧이고", {"net_content": "1L"}).text == "1L이고"
    assert fill("⟦net_content⟧고", {"net_content": "4kg"}).text == "4kg이고"
    # a syllable that starts a word is no particle
    assert fill("⟦name⟧ 이벤트", {"name": "사과"}).text == "사과 이벤트"


def test_unknown_slots_are_reported_not_invented():
    filled = fill("원산지는 ⟦origin⟧이에요.", {"name": "사과"})
    assert filled.unknown == ("origin",)
    assert filled.filled == ()
    assert "⟦origin⟧" in filled.text


def test_every_dataset_target_round_trips(pairs):
    """fill(delexicalize(t)) == t for every target of the sample catalog: training on slot
    targets loses nothing the renderer or the Q&A generator wrote. (Also the label check.)"""
    built = build_examples(pairs, seed=0)
    by_key = {r.key: (r, p) for r, p in pairs}
    checked = 0
    for rows in built.splits.values():
        for row in rows:
            record, policy = by_key[row["product_key"]]
            target = row["messages"][-1]["content"]
            values = slot_values(record, policy)
            if row["task"] == "answer":  # and the question-fact slots of its prompt
                question = re.search(r"\[고객 질문\] (.*)", row["messages"][-2]["content"])[1]
                values = answer_values(record, policy, question)[0]
            assert fill(row["slot_target"], values).text == target
            # and every slot sits under its own field's name: the label check never fails a
            # text the renderer or the rules write
            assert not mislabeled_slots(row["slot_target"], field_labels(record, policy), values)
            if row["task"] == "describe":
                assert not orphan_labels(row["slot_target"], values)
            checked += 1
    assert checked > 20000


def test_slot_names_cover_every_category_field():
    names = all_slot_names()
    assert len(names) == len(set(names))
    assert "price_krw" in names and "policy.cs_phone" in names
    assert any(n.startswith("notice.") for n in names)


def test_a_notice_line_is_one_slot_with_its_legal_label():
    record = _record(notice={"producer_location": "전라남도 해남군", "food_type": "현미"})
    values = slot_values(record, POLICY)
    label_line = next(v for k, v in values.items() if k == "notice.food_type.line")
    assert label_line.endswith(": 현미")
    text = f"[상품정보제공고시]\n- {label_line}\n"
    target = delexicalize(text, values)
    assert target == "[상품정보제공고시]\n- ⟦notice.food_type.line⟧\n"  # label and value together
    assert fill(target, values).text == text
    assert "notice.food_type.line" in all_slot_names()


def test_the_notice_list_is_one_slot_the_record_fills(pairs):
    """Every rendered detail copy's 상품정보제공고시 list becomes one ⟦notice_block⟧ when
    delexicalised, and filling it gives the renderer's text back."""
    from smallretail_llm.baseline.renderer import notice_block, render_description

    blocks = 0
    for record, policy in pairs:
        values = slot_values(record, policy)
        text = render_description(record, "detail", "polite", policy)
        slotted = delexicalize(text, values)
        assert fill(slotted, values).text == text
        if notice_block(record):
            blocks += 1
            assert values["notice_block"] == notice_block(record)
            assert slotted.count(slot("notice_block")) == 1, record.key
            assert ".line" not in slotted  # no notice line left outside the block
    assert blocks > len(pairs) // 2
    assert "notice_block" in all_slot_names()


@pytest.mark.parametrize("value, filled", [
    ("냉장 보관", "받으신 후 냉장 보관해 주세요."),  # a noun phrase takes the target's ending
    ("비닐에 싸서 보관하면 더 오래 갑니다", "받으신 후 비닐에 싸서 보관하면 더 오래 갑니다."),
    ("개봉 후 냉장 보관하세요.", "받으신 후 개봉 후 냉장 보관하세요."),
])
def test_a_whole_sentence_value_keeps_its_own_ending(value, filled):
    assert fill("받으신 후 ⟦storage⟧해 주세요.", {"storage": value}).text == filled

"""Prompt templates: every version renders, rendering is strict, each task sends only its fields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from smallretail_llm.baseline import prompt_facts as F
from smallretail_llm.core.record import DateFact, NetContent, ProductRecord, ShopPolicy
from smallretail_llm.data import prompts as P

STYLES = ("detail", "intro", "bullets", "seo")
TONES = ("friendly", "polite", "concise")
REPO_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


def tofu(**changes) -> ProductRecord:
    record = ProductRecord(
        shop_id="s1", sku="A-1", name="국산콩 두부", category="processed_food", brand="풀무원",
        manufacturer="풀무원식품", origin="국내산", price_krw=3500,
        net_content=NetContent(value=300, unit="g"), keywords=["두부", "국산콩"], stock=12,
        notice={"product_name": "국산콩 두부", "food_type": "두부",
                "ingredients": "대두(국산) 98%, 정제소금"},
        allergens=["대두"], cross_contact="같은 제조시설에서 밀을 사용한 제품을 제조합니다",
        storage="냉장 보관", use_by=DateFact(date=dt.date(2026, 3, 1)), certifications=["HACCP"],
    )
    return record.model_copy(update=changes)


POLICY = ShopPolicy(
    shop_id="s1", shop_name="동네마트", shipping_fee_krw=3000, free_shipping_threshold_krw=50000,
    shipping_days="결제 후 1~2일 내 출고", return_policy="수령 후 7일 이내 교환/반품",
    cs_phone="02-123-4567", cs_hours="평일 10~18시", tone="friendly",
)


def test_every_template_file_loads_and_is_named_by_name_and_version():
    listed = P.list_prompts(REPO_PROMPTS)
    assert ("describe", "v1") in listed and ("answer", "v1") in listed
    for name, version in listed:
        template = P.load_prompt(name, version)
        assert (template.name, template.version, template.id) == (name, version, f"{name}.{version}")
    for name, version in P.PROMPT_VERSIONS.items():
        assert (name, version) in listed


@pytest.mark.parametrize("version", sorted(v for n, v in P.list_prompts(REPO_PROMPTS) if n == "describe"))
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("tone", TONES)
def test_every_describe_version_renders_every_style_and_tone(version, style, tone):
    messages = P.render_describe(tofu(), style, tone, POLICY, version=version)
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert user.startswith("[상품 정보]\n상품명: 국산콩 두부\n")
    assert f"[요청] {P.STYLE_LABELS[style]}:" in user
    assert "{" not in user and "}" not in user


@pytest.mark.parametrize("version", sorted(v for n, v in P.list_prompts(REPO_PROMPTS) if n == "answer"))
@pytest.mark.parametrize("tone", TONES)
def test_every_answer_version_renders_every_tone(version, tone):
    policy = POLICY.model_copy(update={"tone": tone})
    system, user = (m["content"] for m in P.render_answer(tofu(), " 배송 언제 와요? ", policy, version))
    assert f'"{F.HANDOFF_MARKER}"' in system
    assert "[고객 질문] 배송 언제 와요?\n" in user
    template = P.load_prompt("answer", version)
    assert user.endswith(template.defaults["tone_instructions"][tone])
    assert "배송비: 3,000원 (50,000원 이상 무료배송)" in user
    assert "고객센터: 02-123-4567 (평일 10~18시)" in user


def test_missing_variable_raises_a_clear_error():
    template = P.load_prompt("describe")
    with pytest.raises(P.PromptError, match="describe.v1를 채울 값이 없습니다: 'facts'"):
        template.render(policy_block="", style_label="x", style_instruction="x",
                        tone_instruction="", category_note="")


def test_empty_question_is_an_error():
    with pytest.raises(P.PromptError, match="질문이 비어"):
        P.render_answer(tofu(), "  ", POLICY)


def test_unknown_style_and_tone_are_errors():
    with pytest.raises(P.PromptError, match="알 수 없는 스타일"):
        P.render_describe(tofu(), "poem", "polite")
    with pytest.raises(P.PromptError, match="tone_instructions에 'rude'"):
        P.render_describe(tofu(), "intro", "rude")


def test_unknown_prompt_and_version_are_errors():
    with pytest.raises(P.PromptError, match="알 수 없는 프롬프트"):
        P.load_prompt("poem")
    with pytest.raises(P.PromptError, match="describe.v999"):
        P.load_prompt("describe", "v999")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_prompts_dir_env_and_strict_custom_template(tmp_path, monkeypatch):
    _write(tmp_path, "describe.v9.yaml",
           "name: describe\nversion: v9\nsystem: 시스템\nuser: '{facts} {unknown}'\ndefaults: {}\n")
    monkeypatch.setenv(P.PROMPTS_DIR_ENV, str(tmp_path))
    template = P.load_prompt("describe", "v9")
    assert template.variables == {"facts", "unknown"}
    with pytest.raises(P.PromptError, match="'unknown'"):
        template.render(facts="사실")
    assert template.render(facts="a", unknown="b")[1] == {"role": "user", "content": "a b"}


def test_malformed_template_files_are_errors(tmp_path):
    _write(tmp_path, "describe.v2.yaml", "name: describe\nversion: v2\nsystem: s\nuser: u\n")
    with pytest.raises(P.PromptError, match="항목은"):
        P.load_prompt("describe", "v2", prompts_dir=tmp_path)
    _write(tmp_path, "describe.v3.yaml",
           "name: describe\nversion: v4\nsystem: s\nuser: u\ndefaults: {}\n")
    with pytest.raises(P.PromptError, match="파일 이름"):
        P.load_prompt("describe", "v3", prompts_dir=tmp_path)


def test_fingerprint_changes_with_the_text(tmp_path):
    body = "name: answer\nversion: v7\nsystem: s\nuser: '{question}'\ndefaults: {}\n"
    path = _write(tmp_path, "answer.v7.yaml", body)
    first = P.load_prompt("answer", "v7", prompts_dir=tmp_path).fingerprint
    assert P.load_prompt("answer", "v7", prompts_dir=tmp_path).fingerprint == first
    path.write_text(body.replace("system: s", "system: t"), encoding="utf-8")
    assert P.load_prompt("answer", "v7", prompts_dir=tmp_path).fingerprint != first


def _facts(style: str, record: ProductRecord) -> str:
    return P.render_describe(record, style, "polite")[1]["content"].split("\n\n[요청]")[0]


def test_each_style_sends_only_its_fields():
    record = tofu()
    assert _facts("intro", record) == (
        "[상품 정보]\n상품명: 국산콩 두부\n브랜드: 풀무원\n중량: 300g\n가격: 3,500원")
    assert _facts("seo", record) == (
        "[상품 정보]\n상품명: 국산콩 두부\n브랜드: 풀무원\n중량: 300g\n키워드: 두부, 국산콩\n분류: 가공식품")
    detail = _facts("detail", record)
    for line in ("보관방법: 냉장 보관", "소비기한: 2026-03-01", "알레르기 유발성분: 대두",
                 "인증: HACCP", "식품의 유형: 두부", "원재료명 및 함량: 대두(국산) 98%, 정제소금"):
        assert line in detail.split("\n")
    # the notice's 제품명 duplicates the record's name and is left out; stock is for answers
    assert "제품명:" not in detail and "재고" not in detail


def test_missing_fields_are_left_out():
    bare = ProductRecord(shop_id="s1", sku="B", name="수제 잼", category="processed_food")
    assert _facts("detail", bare) == "[상품 정보]\n상품명: 수제 잼"
    assert _facts("bullets", bare) == "[상품 정보]\n상품명: 수제 잼\n분류: 가공식품"


def test_answer_facts_include_everything_answerable():
    user = P.render_answer(tofu(extra={"메모": "원가 2,100원"}), "재고 있나요?", POLICY)[1]["content"]
    for line in ("재고: 12개", "분류: 가공식품", "혼입 가능 알레르기: 같은 제조시설에서 밀을 사용한 제품을 제조합니다",
                 "교환/반품: 수령 후 7일 이내 교환/반품"):
        assert line in user.split("\n")
    # unknown export columns are kept in the DB but are often internal: never shown to the model
    assert "메모" not in user and "2,100" not in user


def test_policy_goes_into_detail_only_and_the_health_note_into_every_style():
    record = tofu(category="health_food", allergens=[], notice={})
    policy_block = ("[쇼핑몰 정책]\n배송비: 3,000원 (50,000원 이상 무료배송)\n"
                    "고객센터: 02-123-4567 (평일 10~18시)")
    for style in STYLES:
        user = P.render_describe(record, style, "polite", POLICY)[1]["content"]
        assert (policy_block in user) is (style == "detail")
        assert F.HEALTH_FOOD_STATEMENT in user
        assert F.HEALTH_FOOD_STATEMENT not in P.render_describe(tofu(), style, "polite")[1]["content"]
    seo = P.render_describe(record, "seo", "friendly")[1]["content"]
    assert "해요체" not in seo  # a title has no tone


def test_notice_values_stand_in_for_empty_attributes():
    cream = ProductRecord(shop_id="s1", sku="C", name="수분크림", category="cosmetics",
                          notice={"use_by": "개봉 후 12개월", "net_content": "50mL",
                                  "usage": "적당량을 바릅니다"})
    effective = F.effective_record(cream)
    assert effective.use_by == DateFact(label="사용기한", text="개봉 후 12개월")
    assert effective.net_content == F.normalize.parse_net_content("50mL")
    assert effective.notice == {"usage": "적당량을 바릅니다"}
    assert _facts("detail", cream) == ("[상품 정보]\n상품명: 수분크림\n용량: 50mL\n"
                                       "사용기한: 개봉 후 12개월\n사용방법: 적당량을 바릅니다")
    # an attribute that is set wins; a value that does not parse stays a notice line
    assert F.effective_record(tofu()).notice == tofu().notice
    assert _facts("detail", cream.model_copy(update={"notice": {"use_by": "x"}})) == (
        "[상품 정보]\n상품명: 수분크림\n사용기한 또는 개봉 후 사용기간: x")


class CharTokenizer:
    chat_template = None

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


class ChatTokenizer:
    chat_template = "fake"

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize and add_generation_prompt
        return {"input_ids": [0] * (sum(len(m["content"]) for m in messages) + 3)}


def test_prompt_stats():
    messages = [{"role": "system", "content": "가나다"}, {"role": "user", "content": "abcd"}]
    assert P.prompt_stats(messages) == {"system_chars": 3, "user_chars": 4, "chars": 7, "tokens": None}
    assert P.prompt_stats(messages, CharTokenizer())["tokens"] == 8  # joined by a newline
    assert P.prompt_stats(messages, ChatTokenizer())["tokens"] == 10


def test_system_prompts_stay_short():
    for name in P.PROMPT_VERSIONS:
        assert len(P.load_prompt(name).system) <= 160

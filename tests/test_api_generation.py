"""POST /v1/descriptions and /v1/answers through the HTTP layer: happy paths, the grounded
fallback, every caller mistake as a clear Korean 4xx, 503 on a full queue, redacted logs."""

import io
import json
import logging

import pytest

from fake_engine import UNGROUNDED_DRAFT, ApiHarness, FakeEngine, shop_policy, tofu
from smallretail_llm.baseline.renderer import render_description
from smallretail_llm.db.keys import create_key
from smallretail_llm.serving.logs import JsonFormatter


def renderer_reply(request):
    """A grounded draft for s1's TOFU-300, whatever the style in the prompt says."""
    record = tofu("s1", name="국산콩 두부 s1")
    return render_description(record, "intro", "polite", seed=11)


@pytest.fixture
def api(tmp_path):
    with ApiHarness(tmp_path, FakeEngine(reply=renderer_reply), max_regenerations=1) as harness:
        yield harness


def test_description_by_product_id(api):
    r = api.client.post("/v1/descriptions", headers=api.auth(),
                        json={"product_id": "TOFU-300", "style": "intro", "tone": "polite"})
    assert r.status_code == 200
    body = r.json()
    expected = renderer_reply(None)
    assert body["text"] == expected
    assert {k: body[k] for k in ("style", "tone", "source", "product_id", "regenerations", "model")} == {
        "style": "intro", "tone": "polite", "source": "model", "product_id": "TOFU-300",
        "regenerations": 0, "model": "fake-base"}
    assert body["grounding"] == {"passed": True, "unsupported_claims": [], "missing_required": [],
                                 "compliance_violations": []}
    usage = body["usage"]
    assert usage["completion_tokens"] == len(expected)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert r.headers["x-request-id"]


def test_forced_ungrounded_draft_ends_in_grounded_fallback(tmp_path):
    with ApiHarness(tmp_path, FakeEngine([UNGROUNDED_DRAFT]), max_regenerations=2) as api:
        r = api.client.post("/v1/descriptions", headers=api.auth(),
                            json={"product_id": "TOFU-300", "style": "detail"})
        body = r.json()
        assert r.status_code == 200
        assert (body["source"], body["regenerations"], body["grounding"]["passed"]) == (
            "fallback", 2, True)
        record = api.store.get_product("s1", "TOFU-300")
        assert body["text"] == render_description(record, "detail", "polite", shop_policy("s1"))
        assert len(api.engine.calls) == 3
        metrics = api.client.get("/metrics").text
        assert 'smallretail_grounding_total{outcome="fallback"} 1.0' in metrics
        assert 'smallretail_grounding_total{outcome="regenerate"} 2.0' in metrics


def test_inline_product_is_scoped_to_the_callers_shop(api):
    product = tofu("ignored", sku="ADHOC-1").model_dump(mode="json")
    del product["shop_id"]
    api.engine.reply = lambda request: "맑은콩 국산콩 두부를 소개합니다."
    r = api.client.post("/v1/descriptions", headers=api.auth("s2"),
                        json={"product": product, "style": "intro", "max_chars": 100})
    assert r.status_code == 200
    assert (r.json()["product_id"], r.json()["source"]) == ("ADHOC-1", "model")
    assert api.store.get_product("s2", "ADHOC-1") is None  # ad-hoc use stores nothing


def test_answer_happy_path_and_handoff(api):
    api.engine.reply = lambda request: "소비기한은 2026-03-01까지입니다."
    r = api.client.post("/v1/answers", headers=api.auth(),
                        json={"product_id": "TOFU-300", "question": "소비기한 언제까지예요?"})
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("answer", "needs_human", "evidence", "source", "product_id")} == {
        "answer": "소비기한은 2026-03-01까지입니다.", "needs_human": False, "evidence": ["use_by"],
        "source": "model", "product_id": "TOFU-300"}
    r = api.client.post("/v1/answers", headers=api.auth(),
                        json={"product_id": "TOFU-300", "question": "쿠폰 할인 되나요?"})
    assert (r.json()["needs_human"], r.json()["source"]) == (True, "handoff")
    metrics = api.client.get("/metrics").text
    s1 = api.app.state.services.metrics.shop_label("s1")  # a keyed hash, never the shop id
    assert s1 != "s1" and 'shop="s1"' not in metrics
    assert f'smallretail_answers_total{{outcome="automatic",shop="{s1}"}} 1.0' in metrics
    assert f'smallretail_answers_total{{outcome="handoff",shop="{s1}"}} 1.0' in metrics


def test_answer_needs_a_policy(api):
    key = create_key(api.store, "s3")  # a shop with a key and a product but no policy
    api.store.put_product(tofu("s3"))
    headers = {"Authorization": f"Bearer {key}"}
    r = api.client.post("/v1/answers", headers=headers,
                        json={"product_id": "TOFU-300", "question": "배송비 얼마예요?"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "policy_missing")
    inline = shop_policy("x").model_dump(mode="json")
    api.engine.reply = lambda request: "배송비는 3,000원입니다."
    r = api.client.post("/v1/answers", headers=headers, json={
        "product_id": "TOFU-300", "question": "배송비 얼마예요?", "policy": inline})
    assert (r.status_code, r.json()["answer"]) == (200, "배송비는 3,000원입니다.")


@pytest.mark.parametrize(("path", "payload", "status", "code", "message"), [
    ("/v1/descriptions", {"product_id": "NOPE"}, 404, "product_not_found",
     "상품을 찾을 수 없습니다: 상품코드 'NOPE'"),
    ("/v1/descriptions", {"product_id": "TOFU-300", "style": "poem"}, 422, "validation_error",
     "요청 본문의 'style': 허용되지 않는 값입니다: 'poem' (가능한 값: 'detail', 'intro', 'bullets', 'seo')."),
    ("/v1/descriptions", {"product_id": "TOFU-300", "max_chars": "많이"}, 422, "validation_error",
     "요청 본문의 'max_chars': 정수 값이어야 합니다."),
    ("/v1/descriptions", {"product_id": "TOFU-300", "styel": "seo"}, 422, "validation_error",
     "요청 본문의 'styel': 알 수 없는 항목입니다."),
    ("/v1/descriptions", {"style": "seo"}, 422, "validation_error",
     "요청 본문: product_id(상품코드)와 product(상품 정보) 중 정확히 하나를 보내세요."),
    ("/v1/descriptions", {"product": {"sku": "X", "category": "processed_food"}}, 422,
     "validation_error", "요청 본문의 'product.name': 필수 항목이 없습니다."),
    ("/v1/descriptions", {"product": {"sku": "X", "name": "두부", "category": "우주선"}}, 422,
     "unknown_category", ("알 수 없는 카테고리: '우주선' (상품정보제공고시 분류 코드나 이름을 "
                          "쓰세요. 예: processed_food 또는 가공식품)")),
    ("/v1/answers", {"product_id": "TOFU-300", "question": "   "}, 422, "validation_error",
     "요청 본문의 'question': 질문이 비어 있습니다."),
    ("/v1/answers", {"product_id": "TOFU-300", "question": 42}, 422, "validation_error",
     "요청 본문의 'question': 문자열 값이어야 합니다."),
    ("/v1/answers", {"product_id": "TOFU-300"}, 422, "validation_error",
     "요청 본문의 'question': 필수 항목이 없습니다."),
    ("/v1/answers", {"product_id": "TOFU-300", "question": "가" * 100_000}, 422,
     "question_too_long", "질문이 너무 깁니다: 100,000자 (최대 1,000자)."),
])
def test_caller_mistakes_are_clear_4xx(api, path, payload, status, code, message):
    r = api.client.post(path, headers=api.auth(), json=payload)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"] == message
    assert api.engine.calls == []


def test_malformed_json_is_a_400(api):
    r = api.client.post("/v1/descriptions", headers=api.auth() | {"content-type": "application/json"},
                        content=b'{"product_id": "TOFU-300",')
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_json" and error["message"].startswith("요청 본문의 JSON 형식이")
    r = api.client.post("/v1/descriptions", headers=api.auth(), content=b"product_id=TOFU-300")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")
    assert "application/json" in r.json()["error"]["message"]


def test_full_queue_is_a_503_with_retry_after(api):
    api.engine.queue_full = True
    r = api.client.post("/v1/descriptions", headers=api.auth(), json={"product_id": "TOFU-300"})
    assert (r.status_code, r.headers["retry-after"], r.json()["error"]["code"]) == (
        503, "3", "overloaded")
    assert "대기열" in r.json()["error"]["message"]


def test_personal_data_never_reaches_the_logs(api):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        api.engine.reply = lambda request: "배송비는 3,000원입니다."
        question = "배송비 얼마예요? 010-9876-5432 kim.minsu@example.com 으로 연락 주세요"
        r = api.client.post("/v1/answers", headers=api.auth(),
                            json={"product_id": "TOFU-300", "question": question})
        assert r.status_code == 200
        logging.getLogger("smallretail_llm.test").info("slip: %s", question)  # a careless caller
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    text = stream.getvalue()
    assert "010-9876-5432" not in text and "kim.minsu@example.com" not in text
    assert "9876" not in text
    answer_log = next(line for line in lines if line["msg"] == "answer")
    assert answer_log["question"] == "배송비 얼마예요? [전화번호] [이메일] 으로 연락 주세요"
    assert answer_log["shop"] == "s1" and answer_log["needs_human"] is False
    assert any(line["logger"] == "smallretail_llm.access" and line["status"] == 200 for line in lines)
    assert lines[-1]["msg"] == "slip: 배송비 얼마예요? [전화번호] [이메일] 으로 연락 주세요"
    # the prompt the model saw was redacted too
    assert "010-9876-5432" not in json.dumps(api.engine.calls[0].messages, ensure_ascii=False)


def test_log_redaction_survives_a_failing_redactor(monkeypatch):
    """redact_pii logs its own failures; formatting that line must neither recurse nor leak."""
    from smallretail_llm.core import pii

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pii, "_candidates", broken)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("smallretail_llm")
    logger.addHandler(handler)
    try:
        logging.getLogger("smallretail_llm.test").warning("연락처 010-5555-6666")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert "5555" not in stream.getvalue()
    assert lines[-1]["msg"] == "연락처 ***-****-****"

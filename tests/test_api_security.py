"""Auth, shop isolation of models, rate limits, body limits, the catch-all 500, demo mode."""

import logging

import pytest
from pydantic import ValidationError

from fake_engine import ApiHarness, FakeEngine
from smallretail_llm.db.keys import ApiKeys, key_id_of
from smallretail_llm.serving.settings import Settings

DESCRIBE = {"product_id": "TOFU-300", "style": "intro"}


@pytest.fixture
def api(tmp_path):
    with ApiHarness(tmp_path, rate_limit_burst=2, rate_limit_per_minute=60,
                    max_body_bytes=2048) as harness:
        yield harness


def test_missing_invalid_and_revoked_keys_are_401(api):
    r = api.client.post("/v1/descriptions", json=DESCRIBE)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "missing_api_key")
    assert r.headers["www-authenticate"] == "Bearer"
    r = api.client.get("/v1/products", headers={"Authorization": "Bearer sr_nope"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_api_key")
    ApiKeys(api.store).revoke(key_id_of(api.keys["s2"]))
    r = api.client.get("/v1/products", headers=api.auth("s2"))
    assert r.status_code == 401
    assert api.engine.calls == []


def test_ops_endpoints_need_no_key(api):
    assert api.client.get("/healthz").json() == {"status": "ok", "model": None}
    assert api.client.get("/readyz").json() == {"status": "ready", "model": "fake-base"}
    assert api.client.get("/metrics").headers["content-type"].startswith("text/plain")
    api.engine.ready = False
    r = api.client.get("/readyz")
    assert (r.status_code, r.headers["retry-after"], r.json()["error"]["code"]) == (
        503, "5", "not_ready")


def test_rate_limit_per_key_with_retry_after(api):
    for _ in range(2):
        assert api.client.get("/v1/products", headers=api.auth("s1")).status_code == 200
    r = api.client.get("/v1/products", headers=api.auth("s1"))
    assert (r.status_code, r.headers["retry-after"], r.json()["error"]["code"]) == (
        429, "1", "rate_limited")
    assert api.client.get("/v1/products", headers=api.auth("s2")).status_code == 200  # own bucket
    api.clock.advance(1.0)  # 60/min refills one request per second
    assert api.client.get("/v1/products", headers=api.auth("s1")).status_code == 200
    assert api.client.get("/v1/products", headers=api.auth("s1")).status_code == 429
    assert 'smallretail_rejected_total{reason="rate_limited"} 2.0' in api.client.get("/metrics").text


def test_body_over_the_limit_is_413_declared_or_chunked(api):
    big = {"product_id": "TOFU-300", "question": "가" * 1000}  # ~3 KB of UTF-8
    r = api.client.post("/v1/answers", headers=api.auth(), json=big)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    assert r.json()["error"]["message"] == "요청 본문이 너무 큽니다 (최대 2,048바이트)."

    def chunks():
        yield b'{"product_id": "TOFU-300", "question": "'
        for _ in range(10):
            yield "가".encode() * 100
        yield b'"}'

    r = api.client.post("/v1/answers", headers=api.auth() | {"content-type": "application/json"},
                        content=chunks())
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    assert api.engine.calls == []


class BrokenEngine(FakeEngine):
    async def generate(self, request):
        raise RuntimeError("secret internal detail")


def test_unexpected_error_is_a_generic_500_logged_with_traceback(tmp_path, caplog):
    with ApiHarness(tmp_path, BrokenEngine()) as api, caplog.at_level(logging.ERROR):
        r = api.client.post("/v1/descriptions", headers=api.auth(), json=DESCRIBE)
    assert r.status_code == 500
    error = r.json()["error"]
    assert error["code"] == "internal_error"
    assert error["message"] == "서버 내부 오류가 발생했습니다. 잠시 후 다시 시도하세요."
    assert error["details"] == {"request_id": r.headers["x-request-id"]}
    assert "secret" not in r.text and "Traceback" not in r.text
    logged = [rec for rec in caplog.records if rec.exc_info]
    assert "secret internal detail" in str(logged[0].exc_info[1])


def test_unknown_route_and_wrong_method_use_the_error_shape(api):
    r = api.client.get("/v1/nothing", headers=api.auth())
    assert r.json() == {"error": {"code": "not_found", "message":
                                  "요청한 주소를 찾을 수 없습니다: /v1/nothing", "details": None}}
    r = api.client.delete("/v1/descriptions", headers=api.auth())
    assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")


def test_models_are_scoped_to_the_shop(tmp_path):
    engine = FakeEngine(adapters=["s1-style", "shared-style"], reply=lambda req: "국산콩 두부")
    adapters = {"s1-style": "/adapters/s1", "shared-style": "/adapters/shared"}
    with ApiHarness(tmp_path, engine, adapter=adapters, adapter_shops={"s1-style": "s1"}) as api:

        def ids(shop):
            models = api.client.get("/v1/models", headers=api.auth(shop)).json()
            return [m["id"] for m in models["data"]]

        assert ids("s1") == ["fake-base", "s1-style", "shared-style"]
        assert ids("s2") == ["fake-base", "shared-style"]
        chat = {"model": "s1-style", "messages": [{"role": "user", "content": "안녕"}]}
        r = api.client.post("/v1/chat/completions", headers=api.auth("s2"), json=chat)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "model_not_found")
        assert r.json()["error"]["details"]["available"] == ["fake-base", "shared-style"]
        assert api.client.post("/v1/chat/completions", headers=api.auth("s1"),
                               json=chat).status_code == 200
        # descriptions default to the shop's own adapter, else a shared one
        for shop, adapter in (("s1", "s1-style"), ("s2", "shared-style")):
            r = api.client.post("/v1/descriptions", headers=api.auth(shop), json=DESCRIBE)
            assert (r.json()["model"], engine.calls[-1].adapter) == (adapter, adapter)
        r = api.client.post("/v1/descriptions", headers=api.auth("s1"),
                            json=DESCRIBE | {"model": "fake-base"})
        assert engine.calls[-1].adapter is None and r.json()["model"] == "fake-base"


def test_keyless_demo_mode_only_on_loopback(tmp_path, caplog):
    with pytest.raises(ValidationError, match="127.0.0.1 에서만"):
        Settings(demo=True, host="0.0.0.0")
    with caplog.at_level(logging.WARNING), ApiHarness(tmp_path, demo=True, demo_shop="s2") as api:
        r = api.client.get("/v1/products/TOFU-300")
        assert (r.status_code, r.json()["product"]["shop_id"]) == (200, "s2")
        # a key, when sent, still decides the shop
        assert api.client.get("/v1/products/TOFU-300", headers=api.auth("s1")).json()[
            "product"]["shop_id"] == "s1"
    assert any("키 없는 로컬 데모 모드" in rec.getMessage() for rec in caplog.records)


def test_openapi_docs_list_every_endpoint_with_korean_examples(api):
    spec = api.client.get("/openapi.json").json()
    assert {"/v1/descriptions", "/v1/answers", "/v1/products", "/v1/products/{sku}",
            "/v1/products/import", "/v1/chat/completions", "/v1/models", "/healthz", "/readyz",
            "/metrics"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert schemas["AnswerRequest"]["examples"][0]["question"] == "소비기한이 언제까지예요?"
    assert schemas["DescriptionRequest"]["examples"][1]["product"]["name"] == "국산콩 두부 300g"
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert api.client.get("/docs").status_code == 200

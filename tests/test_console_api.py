"""The console's server side without a browser: the page and its assets, the per-shop counters
(GET /v1/console/stats) and the claim/field explanations (POST /v1/console/explain)."""

import re

import pytest

from fake_engine import UNGROUNDED_DRAFT, ApiHarness, FakeEngine


@pytest.fixture
def api(tmp_path):
    engine = FakeEngine(reply=lambda request: "맑은콩 국산콩 두부입니다. 원산지는 국내산입니다.")
    with ApiHarness(tmp_path, engine, max_regenerations=0) as harness:
        yield harness


def test_page_and_assets_are_served_without_a_key(api):
    r = api.client.get("/console")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self';")
    assert (r.headers["referrer-policy"], r.headers["x-content-type-options"]) == (
        "no-referrer", "nosniff")
    assert '<html lang="ko">' in r.text
    linked = re.findall(r'(?:src|href)="(/console/[^"]+)"', r.text)
    assert sorted(linked) == ["/console/console.css", "/console/console.js"]
    imported = re.findall(r'from "\./([^"]+)"', api.client.get("/console/console.js").text)
    assert imported == ["dom.js"]
    for name, media_type in {"console.js": "text/javascript; charset=utf-8",
                             "dom.js": "text/javascript; charset=utf-8",
                             "console.css": "text/css; charset=utf-8"}.items():
        r = api.client.get(f"/console/{name}")
        assert (r.status_code, r.headers["content-type"]) == (200, media_type)


@pytest.mark.parametrize("name", ["index.html", "app.py", "..%2Fapp.py", "x" * 41])
def test_only_the_console_files_are_served(api, name):
    r = api.client.get(f"/console/{name}")
    assert r.status_code in (404, 422)
    assert r.json()["error"]["code"] in ("not_found", "validation_error")


def test_no_browser_storage_in_the_page_code(api):
    code = "".join(api.client.get(f"/console/{n}").text for n in ("console.js", "dom.js"))
    storage = r"localStorage\.|sessionStorage\.|document\.cookie|indexedDB\."
    assert not re.search(storage + r"|\.innerHTML|\.outerHTML", code)


def test_stats_need_a_key(api):
    r = api.client.get("/v1/console/stats")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "missing_api_key")


def test_stats_count_each_shops_descriptions_and_answers(api):
    client = api.client
    for _ in range(2):
        assert client.post("/v1/descriptions", headers=api.auth(),
                           json={"product_id": "TOFU-300", "style": "intro"}).status_code == 200
    assert client.post("/v1/descriptions", headers=api.auth(),  # a 404 is no description
                       json={"product_id": "NOPE", "style": "intro"}).status_code == 404
    assert client.post("/v1/descriptions", headers=api.auth(),  # nor is a 422
                       json={"product_id": "TOFU-300", "style": "poem"}).status_code == 422
    api.engine.reply = lambda request: "보관 방법은 냉장 보관 (0~10℃)입니다."
    answer = client.post("/v1/answers", headers=api.auth(),
                         json={"product_id": "TOFU-300", "question": "보관은 어떻게 해요?"}).json()
    assert answer["needs_human"] is False
    handoff = client.post("/v1/answers", headers=api.auth(),
                          json={"product_id": "TOFU-300", "question": "쿠폰 할인 되나요?"}).json()
    assert handoff["needs_human"] is True
    client.post("/v1/descriptions", headers=api.auth("s2"),
                json={"product_id": "TOFU-300", "style": "intro"})

    s1 = client.get("/v1/console/stats", headers=api.auth()).json()
    s2 = client.get("/v1/console/stats", headers=api.auth("s2")).json()
    assert {k: v for k, v in s1.items() if k != "since"} == {
        "shop_id": "s1", "products": 1, "descriptions": 2, "answers_automatic": 1,
        "answers_handoff": 1}
    assert {k: v for k, v in s2.items() if k != "since"} == {
        "shop_id": "s2", "products": 1, "descriptions": 1, "answers_automatic": 0,
        "answers_handoff": 0}
    assert s1["since"] == s2["since"] and s1["since"].endswith("Z")
    metrics = client.get("/metrics").text
    label = api.app.state.services.metrics.shop_label  # a keyed hash, never the shop id
    assert f'smallretail_descriptions_total{{shop="{label("s1")}"}} 2.0' in metrics
    assert f'smallretail_descriptions_total{{shop="{label("s2")}"}} 1.0' in metrics
    assert 'shop="s1"' not in metrics


def test_fallback_descriptions_count_too(tmp_path):
    with ApiHarness(tmp_path, FakeEngine([UNGROUNDED_DRAFT]), max_regenerations=0) as api:
        body = api.client.post("/v1/descriptions", headers=api.auth(),
                               json={"product_id": "TOFU-300", "style": "detail"}).json()
        assert body["source"] == "fallback"
        stats = api.client.get("/v1/console/stats", headers=api.auth()).json()
        assert stats["descriptions"] == 1


def test_explain_lists_the_claims_the_check_reads(api):
    text = "국산콩 두부 s1 300g, 국내산. 3,500원, 우유 무첨가, 유기농 인증. 판매 1위!"
    r = api.client.post("/v1/console/explain", headers=api.auth(), json={
        "product_id": "TOFU-300", "text": text,
        "fields": ["use_by", "food_type", "notice.ingredients", "storage", "policy.cs_phone"]})
    assert r.status_code == 200
    body = r.json()
    claims = [(c["text"], c["kind"], c["label"]) for c in body["claims"]]
    assert claims == [
        ("300g", "quantity", "수치·용량"), ("국내산", "origin", "원산지"),
        ("3,500원", "price", "가격·배송 조건"), ("우유", "allergen_absence", "알레르기 성분(무첨가)"),
        ("유기농 인증", "certification", "인증"), ("판매 1위", "ranking", "순위·최상급")]
    assert all(text[c["start"]:c["end"]] == c["text"] for c in body["claims"])
    assert body["fields"] == [
        {"key": "use_by", "label": "소비기한"}, {"key": "food_type", "label": "식품의 유형"},
        {"key": "notice.ingredients", "label": "원재료명 및 함량"},
        {"key": "storage", "label": "보관방법"},
        {"key": "policy.cs_phone", "label": "고객센터 전화번호"}]


def test_explain_skips_the_products_own_name_and_empty_text(api):
    r = api.client.post("/v1/console/explain", headers=api.auth(),
                        json={"product_id": "TOFU-300", "text": "국산콩 두부 s1"})
    assert r.json() == {"claims": [], "fields": []}


def test_explain_sees_only_the_callers_products(api):
    api.store.delete_product("s2", "TOFU-300")
    r = api.client.post("/v1/console/explain", headers=api.auth("s2"),
                        json={"product_id": "TOFU-300", "text": "국내산"})
    assert (r.status_code, r.json()["error"]["message"]) == (
        404, "상품을 찾을 수 없습니다: 상품코드 'TOFU-300'")

"""The API over the real transformers engine with a tiny random model (tests/tiny_models.py):
streaming equals the plain answer through SSE, a random draft never leaves ungrounded, and the
batcher's queue and batch metrics are exported."""

import json

import pytest

from fake_engine import ApiHarness

tiny_models = pytest.importorskip("tiny_models")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_models.build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=3)


@pytest.fixture
def api(tmp_path, model_dir):
    from smallretail_llm.hf_engine import TransformersEngine

    engine = TransformersEngine(model_dir, max_new_tokens=16)
    with ApiHarness(tmp_path, engine, max_new_tokens=12, max_regenerations=1) as harness:
        yield harness


def test_stream_matches_plain_completion_through_sse(api):
    chat = {"model": api.engine.name, "messages": [{"role": "user", "content": "사과 소개해 주세요"}],
            "max_tokens": 12}
    plain = api.client.post("/v1/chat/completions", headers=api.auth(), json=chat).json()
    r = api.client.post("/v1/chat/completions", headers=api.auth(), json=chat | {"stream": True})
    raw = r.content
    events = raw.decode("utf-8", errors="strict").split("\n\n")[:-1]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert streamed == plain["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == plain["choices"][0]["finish_reason"]
    assert plain["usage"]["completion_tokens"] <= 12


def test_random_model_draft_ends_in_grounded_fallback(api):
    r = api.client.post("/v1/descriptions", headers=api.auth(),
                        json={"product_id": "TOFU-300", "style": "intro"})
    body = r.json()
    assert (r.status_code, body["source"], body["regenerations"]) == (200, "fallback", 1)
    assert body["grounding"]["passed"] is True and body["model"] == api.engine.name
    assert 0 < body["usage"]["completion_tokens"] <= 2 * 12
    metrics = api.client.get("/metrics").text
    assert "smallretail_queue_depth 0.0" in metrics
    assert 'smallretail_batch_size_bucket{le="1"} 2.0' in metrics
    assert 'smallretail_tokens_total{direction="out"}' in metrics

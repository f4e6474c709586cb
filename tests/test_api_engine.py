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
    from smallretail_llm.serving.engines.hf_engine import TransformersEngine

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
    values = dict(line.rsplit(" ", 1) for line in metrics.splitlines()
                  if line.startswith("smallretail_") and " " in line)
    # draft and regeneration one after the other: every decode step ran one row (the second may
    # have joined the first one's run, so one or two batches started)
    assert values['smallretail_decode_rows_bucket{le="1"}'] == values["smallretail_decode_rows_count"]
    assert float(values["smallretail_decode_rows_count"]) >= 2
    assert float(values["smallretail_batch_size_count"]) + float(
        values["smallretail_batch_joined_total"]) == 2.0
    assert 'smallretail_tokens_total{direction="out"}' in metrics


@pytest.mark.parametrize("sampling", [
    {"temperature": 1e-300}, {"temperature": 5e-324, "top_p": 5e-324}, {"temperature": 2.0},
    {"temperature": 1e-300, "seed": -(2**63)}, {"top_p": 1e-300, "temperature": 0.5,
                                                "seed": 2**63 - 1}])
def test_no_sampling_value_the_schema_accepts_gives_a_500(api, sampling):
    """temperature 1e-300 made logits / temperature overflow (inf, NaN) and the sampler raise."""
    chat = {"model": api.engine.name, "max_tokens": 4,
            "messages": [{"role": "user", "content": "사과 소개해 주세요"}]}
    for stream in (False, True):
        r = api.client.post("/v1/chat/completions", headers=api.auth(),
                            json=chat | sampling | {"stream": stream})
        assert r.status_code == 200, r.text
        assert "error" not in r.text


def test_prefix_cache_is_kept_per_shop(api):
    """A prompt shop s1 sent is reused for s1's next request, never for s2's: otherwise a
    faster answer would tell s2 what s1's customers typed (a timing oracle)."""
    cache = api.engine.prefix_cache
    assert cache is not None
    chat = {"model": api.engine.name, "max_tokens": 2, "messages": [
        {"role": "user", "content": "주문번호 20261205-77 배송지 변경 부탁드립니다 사과 소개"}]}

    def hits_after(shop: str) -> int:
        assert api.client.post("/v1/chat/completions", headers=api.auth(shop),
                               json=chat).status_code == 200
        return cache.stats.hits

    before = cache.stats.hits
    assert hits_after("s1") == before  # first time: nothing stored
    assert hits_after("s2") == before  # another shop: s1's prompt is not reused
    assert hits_after("s1") == before + 1  # the same shop again: reused

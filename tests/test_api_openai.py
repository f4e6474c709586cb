"""OpenAI-compatible /v1/chat/completions and /v1/models: wire format, SSE streaming that
delivers each delta as it is generated, whole multi-byte characters, and the official client."""

import asyncio
import json

import httpx2
import openai
import pytest

from fake_engine import ApiHarness, FakeEngine

KOREAN = "국산콩 두부 🥢 맛보세요"
CHAT = {"model": "fake-base", "messages": [{"role": "system", "content": "짧게 답하세요."},
                                          {"role": "user", "content": "두부 소개해 줘"}]}


@pytest.fixture
def api(tmp_path):
    with ApiHarness(tmp_path, FakeEngine([KOREAN]), max_new_tokens=64) as harness:
        yield harness


def events(text: str) -> list[str]:
    assert text.endswith("\n\n")
    return [part.removeprefix("data: ") for part in text.split("\n\n")[:-1]]


def test_non_streaming_completion(api):
    r = api.client.post("/v1/chat/completions", headers=api.auth(), json=CHAT | {"max_tokens": 500})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "fake-base"
    assert body["choices"] == [{"index": 0, "message": {"role": "assistant", "content": KOREAN},
                                "finish_reason": "stop"}]
    assert body["usage"] == {"prompt_tokens": len("짧게 답하세요.두부 소개해 줘"),
                             "completion_tokens": len(KOREAN),
                             "total_tokens": len("짧게 답하세요.두부 소개해 줘") + len(KOREAN)}
    request = api.engine.calls[0]
    assert (request.max_new_tokens, request.temperature) == (64, 0.0)  # capped, greedy default
    assert [m["role"] for m in request.messages] == ["system", "user"]


def test_max_tokens_and_stop_map_to_finish_reasons(api):
    r = api.client.post("/v1/chat/completions", headers=api.auth(), json=CHAT | {"max_tokens": 3})
    assert r.json()["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": "국산콩"},
                                      "finish_reason": "length"}
    r = api.client.post("/v1/chat/completions", headers=api.auth(), json=CHAT | {"stop": ["🥢"]})
    assert r.json()["choices"][0]["message"]["content"] == "국산콩 두부 "


@pytest.mark.parametrize(("change", "message"), [
    ({"messages": []}, "요청 본문의 'messages': 항목이 너무 적습니다 (최소 1개)."),
    ({"n": 2}, "요청 본문의 'n': 1 이하이어야 합니다."),
    ({"temperature": 3}, "요청 본문의 'temperature': 2 이하이어야 합니다."),
    ({"messages": [{"role": "tool", "content": "x"}]},
     "요청 본문의 'messages[0].role': 허용되지 않는 값입니다: 'tool' (가능한 값: 'system', 'developer', 'user', 'assistant')."),
])
def test_bad_chat_requests_are_422(api, change, message):
    r = api.client.post("/v1/chat/completions", headers=api.auth(), json=CHAT | change)
    assert (r.status_code, r.json()["error"]["message"]) == (422, message)


def test_stream_is_sse_with_done(api):
    r = api.client.post("/v1/chat/completions", headers=api.auth(),
                        json=CHAT | {"stream": True, "stream_options": {"include_usage": True}})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    parts = events(r.text)
    assert parts[-1] == "[DONE]"
    chunks = [json.loads(p) for p in parts[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [c["choices"][0]["delta"].get("content") for c in chunks[1:-2]]
    assert deltas == list(KOREAN)  # one whole character per delta, never a broken byte
    assert chunks[-2]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == len(KOREAN)
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}


def test_stream_errors_before_the_first_byte_are_json(api):
    api.engine.queue_full = True
    r = api.client.post("/v1/chat/completions", headers=api.auth(), json=CHAT | {"stream": True})
    assert (r.status_code, r.headers["retry-after"], r.json()["error"]["code"]) == (
        503, "3", "overloaded")


def test_stream_sends_each_delta_as_soon_as_it_is_generated(api):
    """Drive the ASGI app directly; the engine emits one character per gate release, and each
    one must reach the client (as one whole UTF-8 event) before the next is generated."""

    async def scenario():
        api.engine.gate = asyncio.Semaphore(0)
        body = json.dumps(CHAT | {"stream": True}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"authorization", api.auth()["Authorization"].encode())]
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
                 "http_version": "1.1", "method": "POST", "scheme": "http",
                 "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions",
                 "query_string": b"", "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
        sent: asyncio.Queue = asyncio.Queue()
        delivered = False

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()

        task = asyncio.create_task(api.app(scope, receive, sent.put))
        start = await asyncio.wait_for(sent.get(), 5)
        assert (start["type"], start["status"]) == ("http.response.start", 200)
        first = await asyncio.wait_for(sent.get(), 5)
        assert '"role": "assistant"' in first["body"].decode("utf-8")
        for char in KOREAN:
            for _ in range(5):
                await asyncio.sleep(0)
            assert sent.empty()  # nothing is sent before the engine produced it
            api.engine.gate.release()
            message = await asyncio.wait_for(sent.get(), 5)
            event = message["body"].decode("utf-8", errors="strict")
            assert event.startswith("data: ") and event.endswith("\n\n")
            assert json.loads(event[6:])["choices"][0]["delta"] == {"content": char}
        rest = []
        while True:
            message = await asyncio.wait_for(sent.get(), 5)
            rest.append(message.get("body", b"").decode())
            if not message.get("more_body", False):
                break
        await asyncio.wait_for(task, 5)
        return "".join(rest)

    tail = asyncio.run(scenario())
    assert tail.endswith("data: [DONE]\n\n") and '"finish_reason": "stop"' in tail


def test_official_openai_client_plain_and_streaming(api):
    async def scenario():
        transport = httpx2.ASGITransport(app=api.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            client = openai.AsyncOpenAI(api_key=api.keys["s1"], base_url="http://testserver/v1",
                                        http_client=http, max_retries=0)
            models = await client.models.list()
            completion = await client.chat.completions.create(**CHAT)
            stream = await client.chat.completions.create(**CHAT, stream=True)
            pieces = [c.choices[0].delta.content async for c in stream
                      if c.choices and c.choices[0].delta.content]
            with pytest.raises(openai.NotFoundError) as missing:
                await client.chat.completions.create(**(CHAT | {"model": "gpt-4o"}))
            bad_key = openai.AsyncOpenAI(api_key="sr_wrong", base_url="http://testserver/v1",
                                         http_client=http, max_retries=0)
            with pytest.raises(openai.AuthenticationError):
                await bad_key.chat.completions.create(**CHAT)
            return [m.id for m in models.data], completion, pieces, missing.value

    ids, completion, pieces, missing = asyncio.run(scenario())
    assert ids == ["fake-base"]
    assert completion.choices[0].message.content == KOREAN
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == len(KOREAN)
    assert "".join(pieces) == KOREAN and len(pieces) == len(KOREAN)
    assert missing.status_code == 404 and missing.body["code"] == "model_not_found"

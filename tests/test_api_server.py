"""One real server: `serve()` runs uvicorn on 127.0.0.1 at a free port (fake engine), the
official OpenAI client talks to it over HTTP, the JSON logs carry no personal data; then the
process is stopped. Bounded: every wait has a deadline."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest

from fake_engine import shop_policy, tofu
from smallretail_llm.db.keys import create_key
from smallretail_llm.db.store import Store
from smallretail_llm.serving.server_process import stop, wait_ready

TESTS = Path(__file__).parent
REPLY = "국산콩 두부를 소개합니다."
LAUNCH = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from fake_engine import FakeEngine
from smallretail_llm.serving.api.server import serve
from smallretail_llm.serving.settings import Settings
serve(Settings(), FakeEngine([{REPLY!r}]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    db = f"sqlite:///{tmp_path / 'server.db'}"
    store = Store(db)
    key = create_key(store, "s1")
    store.put_policy(shop_policy("s1"))
    store.put_product(tofu("s1"))
    port = free_port()
    env = os.environ | {"SMALLRETAIL_DB": db, "SMALLRETAIL_HOST": "127.0.0.1",
                        "SMALLRETAIL_PORT": str(port), "SMALLRETAIL_LOG_LEVEL": "INFO"}
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, 60, lambda: log_path.read_text(errors="replace"))
        yield base, key, log_path
    finally:
        stop(proc)


def test_real_server_with_the_openai_client(server):
    base, key, log_path = server
    client = openai.OpenAI(api_key=key, base_url=f"{base}/v1", max_retries=0, timeout=20)
    messages = [{"role": "user", "content": "두부 소개해 줘"}]
    completion = client.chat.completions.create(model="fake-base", messages=messages)
    assert completion.choices[0].message.content == REPLY
    pieces = [chunk.choices[0].delta.content
              for chunk in client.chat.completions.create(model="fake-base", messages=messages,
                                                          stream=True)
              if chunk.choices and chunk.choices[0].delta.content]
    assert pieces == list(REPLY)  # delivered as separate SSE events, each a whole character

    question = "배송비 얼마예요? 제 번호 010-2222-3333"
    r = httpx.post(f"{base}/v1/answers", headers={"Authorization": f"Bearer {key}"}, timeout=20,
                   json={"product_id": "TOFU-300", "question": question})
    assert r.status_code == 200 and r.json()["needs_human"] in (True, False)
    assert "smallretail_http_requests_total" in httpx.get(f"{base}/metrics", timeout=5).text

    lines = [line for line in log_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) >= 4 and all("ts" in r and "level" in r for r in records)
    assert "010-2222-3333" not in log_path.read_text(encoding="utf-8")
    assert any(r.get("msg") == "answer" and "[전화번호]" in r.get("question", "") for r in records)


def test_adapter_with_another_prompt_version_is_refused_at_startup(tmp_path):
    import json

    import pytest

    from smallretail_llm.data.prompts import ANSWER_VERSION, DESCRIBE_VERSION
    from smallretail_llm.models.adapter import ADAPTER_META, AdapterMismatch
    from smallretail_llm.serving.engines.factory import check_adapters

    good, old = tmp_path / "good", tmp_path / "old"
    current = [f"answer.{ANSWER_VERSION}", f"describe.{DESCRIBE_VERSION}"]
    for path, versions in ((good, current), (old, ["answer.v0", f"describe.{DESCRIBE_VERSION}"])):
        path.mkdir()
        (path / ADAPTER_META).write_text(json.dumps({"prompt_versions": versions}), encoding="utf-8")
    check_adapters({"good": str(good)})
    with pytest.raises(AdapterMismatch, match=f"answer.{ANSWER_VERSION}"):
        check_adapters({"good": str(good), "old": str(old)})
    with pytest.raises(AdapterMismatch, match="메타데이터가 없습니다"):
        check_adapters({"bare": str(tmp_path)})

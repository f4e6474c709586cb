"""The SFT dataset built from the sample catalog: leakage-free splits, hand-offs everywhere,
grounded targets, deterministic bytes, and a teacher that only contributes grounded drafts."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from smallretail_llm.catalog.sample_catalog import load_samples
from smallretail_llm.data.dataset import SPLITS, build_examples, save, split_of
from smallretail_llm.db.store import Store
from smallretail_llm.grounding.check import check_answer, check_description


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'db.sqlite'}")
    load_samples(store)
    return [(p, store.get_policy(shop)) for shop in store.shops() for p in store.list_products(shop)]


@pytest.fixture(scope="module")
def built(catalog):
    return build_examples(catalog, seed=0)


def test_no_product_in_two_splits(built, catalog):
    seen = {}
    for name in SPLITS:
        for row in built.splits[name]:
            assert seen.setdefault(row["product_key"], name) == name
    assert len(seen) == len(catalog)
    assert all(built.splits[name] for name in SPLITS)
    assert {split_of(r) for r, _ in catalog} == set(SPLITS)


def test_handoff_cases_exist_for_every_category(built, catalog):
    categories = {r.category for r, _ in catalog}
    handoff = {row["category"] for rows in built.splits.values() for row in rows if row["needs_human"]}
    assert handoff == categories


def test_every_target_is_grounded(built, catalog):
    by_key = {r.key: (r, p) for r, p in catalog}
    failures = []
    for rows in built.splits.values():
        for row in rows:
            record, policy = by_key[row["product_key"]]
            target = row["messages"][-1]["content"]
            if row["task"] == "describe":
                report = check_description(target, record, policy, row["style"])
            else:
                report = check_answer(target, row["messages"][-2]["content"], record, policy)
            if not report.passed:
                failures.append((row["product_key"], row["task"], row["style"], target, report))
    assert failures == []


def test_examples_carry_task_fields(built):
    row = next(r for r in built.splits["train"] if r["task"] == "describe")
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert row["prompt_version"].startswith("describe.") and row["style"] and row["tone"]
    kinds = {r["kind"] for rows in built.splits.values() for r in rows if r["task"] == "answer"}
    assert {"field", "policy", "unanswerable", "pii", "injection"} <= kinds


def test_build_is_deterministic(catalog, tmp_path):
    subset = catalog[::10]
    save(build_examples(subset, seed=3), tmp_path / "a")
    save(build_examples(subset, seed=3), tmp_path / "b")
    for name in SPLITS:
        assert (tmp_path / "a" / f"{name}.jsonl").read_bytes() == (tmp_path / "b" / f"{name}.jsonl").read_bytes()
    card = json.loads((tmp_path / "a" / "dataset_card.json").read_text(encoding="utf-8"))
    assert sum(s["examples"] for s in card["splits"].values()) == sum(
        len(rows) for rows in build_examples(subset, seed=3).splits.values())
    from datasets import load_from_disk

    assert set(load_from_disk(str(tmp_path / "a" / "hf"))) == set(SPLITS)


class _Teacher(BaseHTTPRequestHandler):
    """A local OpenAI-compatible endpoint: grounded drafts for intros, invented claims otherwise."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = body["messages"][-1]["content"]
        name = next(line.split(":", 1)[1].strip() for line in user.splitlines() if line.startswith("상품명"))
        text = name if "한줄소개" in user else f"{name}, 판매 1위! 100% 환불 보장"
        payload = {"id": "x", "object": "chat.completion", "model": body["model"],
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop"}]}
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_teacher_keeps_only_grounded_drafts(catalog):
    from smallretail_llm.data.teacher import TeacherClient, teacher_drafter

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Teacher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = TeacherClient(f"http://127.0.0.1:{server.server_port}/v1", timeout_s=10)
        built = build_examples(catalog[:6], seed=0, drafter=teacher_drafter(client))
        client.close()
    finally:
        server.shutdown()
    rows = [r for rs in built.splits.values() for r in rs if r["task"] == "describe"]
    teacher_rows = [r for r in rows if r["source"] == "teacher"]
    assert teacher_rows and all(r["style"] == "intro" for r in teacher_rows)
    assert built.stats["teacher_kept"] == len(teacher_rows)
    assert built.stats["teacher_fallback"] == len(rows) - len(teacher_rows)
    assert not any("판매 1위" in r["messages"][-1]["content"] for r in rows)
    assert built.card()["teacher"] == {"teacher_kept": len(teacher_rows),
                                       "teacher_fallback": len(rows) - len(teacher_rows)}


def test_teacher_unreachable_falls_back(catalog):
    from smallretail_llm.data.teacher import TeacherClient, teacher_drafter

    client = TeacherClient("http://127.0.0.1:9/v1", timeout_s=2)
    built = build_examples(catalog[:1], seed=0, drafter=teacher_drafter(client))
    assert built.stats["teacher_kept"] == 0 and built.stats["teacher_fallback"] > 0

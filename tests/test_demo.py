"""The demo's cached assets are rebuilt when the prompt versions change (a stale adapter would
be refused by the server at start-up)."""

import json

from smallretail_llm import demo
from smallretail_llm.data.prompts import PROMPT_VERSIONS
from smallretail_llm.models.adapter import ADAPTER_META


def test_current_versions_are_the_prompt_versions_served():
    assert demo.current_prompt_versions() == sorted(
        f"{task}.{version}" for task, version in PROMPT_VERSIONS.items())


def test_dataset_and_adapter_versions_are_read_from_what_was_built(tmp_path):
    rows = [{"prompt_version": "answer.v1"}, {"prompt_version": "describe.v1"},
            {"prompt_version": "answer.v1"}]
    (tmp_path / "train.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows) + "\n", encoding="utf-8")
    assert demo.dataset_versions(tmp_path) == ["answer.v1", "describe.v1"]
    assert demo.dataset_versions(tmp_path / "missing") == []
    (tmp_path / ADAPTER_META).write_text(
        json.dumps({"prompt_versions": ["describe.v1", "answer.v1"]}), encoding="utf-8")
    assert demo.adapter_versions(tmp_path) == ["answer.v1", "describe.v1"]
    assert demo.adapter_versions(tmp_path) != demo.current_prompt_versions()  # answer is v2

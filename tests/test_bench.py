"""The bench: prompt choice, measurements on a tiny model, ceilings, targets, the report, and the
llama.cpp engine against the transformers engine (when llama-cpp-python and the converter are
installed)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

from smallretail_llm.bench import cases as bench_cases
from smallretail_llm.bench import run as bench
from smallretail_llm.bench.report import check_targets, render_markdown
from smallretail_llm.serving.engines.engine import GenerationRequest, UnknownAdapter
from smallretail_llm.serving.engines.hf_engine import TransformersEngine
from tiny_models import build_nano_tiny, one_thread  # noqa: F401  (autouse: one torch thread)

SYSTEM = "너는 쇼핑몰 고객 상담원이다. 상품 정보에 있는 사실로만 답한다."



@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A random-weight nano-style model (SentencePiece tokenizer, so llama.cpp can convert it)."""
    return build_nano_tiny(tmp_path_factory.mktemp("bench") / "tiny")


def row(product: str, question: str, task: str = "answer", shop: str = "shop") -> dict:
    user = f"[쇼핑몰 정책]\n쇼핑몰: {shop}\n\n[상품 정보]\n상품명: {product}\n\n[고객 질문] {question}"
    return {"task": task, "shop_id": shop, "product_key": f"{shop}/{product}", "messages": [
        {"role": "system", "content": SYSTEM}, {"role": "user", "content": user},
        {"role": "assistant", "content": "답"}]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    rows = [row("사과 1kg", "배송비 얼마예요?"), row("사과 1kg", "배송비 얼마예요? 빨리요"),
            row("배", "보관?", shop="다른상점"), row("현미 4kg", "원산지가 어디인가요? 국산인가요?"),
            row("사과 1kg", "설명", task="describe")]
    out = tmp_path_factory.mktemp("data")
    (out / "test.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    return out


def test_pick_prompts_takes_the_median_and_its_real_neighbours(tiny, dataset):
    picked = bench.pick_prompts(dataset, tiny)
    messages = picked["messages"]
    assert picked["rows"] == 5 and picked["task"] == "answer"
    assert "쇼핑몰: shop" in messages["same_shop"][1]["content"]  # not the other shop's 배
    assert all(m["role"] != "assistant" for m in messages["median"])
    assert "사과 1kg" in messages["median"][1]["content"]
    assert "사과 1kg" in messages["same_product"][1]["content"]
    assert messages["same_product"] != messages["median"]
    assert "사과" not in messages["same_shop"][1]["content"]
    assert 0 < picked["shared_tokens_same_shop"] < picked["shared_tokens_same_product"]
    assert picked["shared_tokens_same_product"] < picked["median_tokens"]


def test_measure_engine_on_a_tiny_model(tiny, dataset):
    prompts = bench.pick_prompts(dataset, tiny)["messages"]
    spec = {"label": "tiny", "engine": "transformers", "model_dir": str(tiny),
            "tokenizer_dir": str(tiny), "batches": [1, 2], "repeats": 1, "new_tokens": 6,
            "prompts": prompts}
    engine = bench_cases.load_engine(spec)
    result = asyncio.run(bench_cases.measure_engine(engine, spec))
    assert result["prompt_tokens"] > 10 and result["ttft_s"] > 0
    assert set(result["decode_tok_s"]) == {"1", "2"} and all(
        v > 0 for v in result["decode_tok_s"].values())
    assert len(result["greedy_tokens"]) == 6
    assert result["ttft_cached_same_product_ratio"] > 0
    assert engine.prefix_cache.stats.hits > 0
    assert bench_cases.weight_bytes(engine, spec) == sum(
        p.numel() * 4 for p in engine._model.parameters())


def test_training_and_profile_cases_on_a_tiny_model(tiny, dataset):
    trained = bench_cases.training_case(
        {"model_dir": str(tiny), "batch": 2, "seq": 16, "steps": 1, "token_range": 500})
    assert trained["tokens_per_s"] > 0 and trained["peak_rss_mb"] > 0
    assert (trained["device"], trained["dtype"], trained["lora_rank"]) == ("cpu", "float32", 16)
    prompts = bench.pick_prompts(dataset, tiny)["messages"]
    profile = bench_cases.profile_case(
        {"engine": "transformers", "model_dir": str(tiny), "tokenizer_dir": str(tiny),
         "batches": [1], "prompts": prompts, "steps": 2})
    assert profile["forward_loop_tok_s"] > 0 and len(profile["top_ops"]) == 8
    assert profile["top_ops"][0]["self_pct"] >= profile["top_ops"][-1]["self_pct"]


def test_ceiling_and_ratios():
    result = {"weight_bytes": 900_000_000, "kv_bytes_per_step": 100_000_000,
              "decode_tok_s": {"1": 15.0, "4": 40.0}, "greedy_tokens": [1, 2, 3, 9]}
    baseline = {"decode_tok_s": {"1": 5.0}, "greedy_tokens": [1, 2, 3, 4]}
    summary = bench.summarize_engine({}, result, bandwidth=30.0, baseline=baseline)
    assert summary["ceiling_tok_s"] == 30.0
    assert summary["fraction_of_ceiling"] == {"1": 0.5, "4": round(40 / 120, 3)}
    assert summary["x_fp32_b1"] == 3.0 and summary["greedy_same_tokens"] == "3/4"


def test_engine_plan_without_llama_keeps_transformers_rows_only():
    plan = bench.engine_plan(quick=True, llama=False)
    assert {p["variant"] for p in plan} == {"fp32", "int8"}
    assert {p["model"] for p in plan} == {"nano", *bench.SHAPES}
    full = bench.engine_plan(quick=False, llama=True)
    assert {"q8_0", "q4_0"} <= {p["variant"] for p in full} and len(full) > len(plan)


def sample_report() -> dict:
    shape = "Qwen/Qwen2.5-0.5B-Instruct"
    engines = [
        {"model": shape, "engine": "transformers", "variant": "fp32", "decode_tok_s": {"1": 5.0},
         "fraction_of_ceiling": {"1": 0.35}, "ttft_s": 2.0, "ttft_cached_same_product_ratio": 0.2,
         "ttft_cached_same_shop_ratio": 0.9, "bytes_per_token_mb": 1900, "ceiling_tok_s": 14.0,
         "prefill_tok_s": 200, "peak_rss_mb": 3000},
        {"model": shape, "engine": "llama.cpp", "variant": "q8_0", "decode_tok_s": {"1": 37.0},
         "fraction_of_ceiling": {"1": 0.69}, "x_fp32_b1": 7.4, "ttft_s": 1.8,
         "bytes_per_token_mb": 510, "ceiling_tok_s": 54.0, "prefill_tok_s": 240, "peak_rss_mb": 1300,
         "greedy_same_tokens": "3/16"},
        {"model": shape, "engine": "llama.cpp", "variant": "q4_0", "skipped": "없음"},
    ]
    server = {"model": "nano", "requests_per_run": 16, "runs": [
        {"route": "/v1/answers", "clients": c, "batching": b, "req_s": r, "completion_tok_s": 1.0,
         "p50_s": 1.0, "p95_s": 2.0, "statuses": {"200": 16}}
        for c, b, r in ((1, True, 1.0), (16, True, 5.0), (16, False, 1.1))]}
    server["speedup_16_vs_1"] = {"/v1/answers": {"vs_one_client": 5.0, "vs_batching_off": 4.55}}
    return {"quick": True, "machine": {"cpu": "cpu", "cores": 2, "simd": ["avx2"], "torch": "2",
            "transformers": "5", "llama_cpp": None}, "engines": engines, "server": server,
            "training": [{"model": "*", "device": "cuda", "skipped": "GPU 없음"}],
            "bandwidth_gb_s": {"start": 30.0, "end": 29.0}, "prompts": {"median_tokens": 445}}


def test_targets_are_judged_from_the_report():
    targets = check_targets(sample_report())
    assert targets["decode_b1"]["met"] and targets["decode_b1"]["rows"] == [
        {"engine": "llama.cpp q8_0", "tok_s": 37.0, "fraction_of_ceiling": 0.69, "x_fp32": 7.4,
         "met": True}]
    assert targets["batching_16_clients"] == {
        "rule": ">= 5x the throughput of one client", "speedups": {"/v1/answers": 5.0}, "met": True}
    cached = targets["cached_ttft"]
    assert cached["met_same_product"] and not cached["met_same_shop"]


def test_markdown_report_has_every_section():
    report = sample_report()
    report["targets"] = check_targets(report)
    text = render_markdown(report)
    for heading in ("## Targets", "## Engines", "## Shared-prefix reuse", "## Server",
                    "## LoRA training"):
        assert heading in text
    assert "| Qwen/Qwen2.5-0.5B-Instruct | llama.cpp q8_0 | 510 | 54.0 |" in text
    assert "| Qwen/Qwen2.5-0.5B-Instruct | llama.cpp q4_0 | 없음 |" in text
    assert "GPU 없음" in text and "**met**" in text and "missed" in text
    assert "llama.cpp engine" not in text  # (no such table in that run)
    server = report["server"]
    server["llama_cpp"] = {"skipped": "make llama"}
    assert "llama.cpp engine: skipped (make llama)" in render_markdown(report)
    server["llama_cpp"] = {"model": "nano merged", "runs": server["runs"][:2],
                           "speedup_16_vs_1": {"/v1/answers": {"vs_one_client": 5.0}}}
    text = render_markdown(report)
    assert "on the llama.cpp engine: nano merged." in text
    assert "Throughput at 16 clients: /v1/answers 5.0x one client" in text


def test_run_bench_without_assets_writes_a_report_that_says_why(tmp_path):
    report = bench.run_bench(tmp_path / "out", quick=True, nano_dir=tmp_path / "none",
                             data_dir=tmp_path / "none")
    assert "engines" not in report and "server" not in report
    assert "make train" in report["skipped"][0]
    assert json.loads((tmp_path / "out" / "bench.json").read_text())["skipped"] == report["skipped"]
    assert "make train" in (tmp_path / "out" / "bench.md").read_text()
    with pytest.raises(ValueError, match="알 수 없는 벤치 항목"):
        bench.run_bench(tmp_path / "out", parts=["gpu"])


# -- llama.cpp ---------------------------------------------------------------------------------

needs_llama = pytest.mark.skipif(
    not os.environ.get("LLAMA_CPP_CONVERTER") or importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python 과 LLAMA_CPP_CONVERTER(convert_hf_to_gguf.py)가 필요함")


@needs_llama
def test_llama_engine_matches_transformers_greedy(tiny, tmp_path):
    from smallretail_llm.models.export import gguf_file
    from smallretail_llm.serving.engines.llama_engine import LlamaCppEngine

    gguf = gguf_file(tiny, "f32", tmp_path)
    llama = LlamaCppEngine(gguf, tokenizer=tiny, name="tiny-gguf", num_threads=1)
    hf = TransformersEngine(tiny, num_threads=1, prefix_cache_mb=0)
    requests = [GenerationRequest(messages=[{"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": q}], max_new_tokens=12,
                                  ignore_eos=True) for q in ("배송비 얼마예요?", "보관 방법은요?")]

    async def run(engine):
        return [await engine.generate(r) for r in requests]

    ours, theirs = asyncio.run(run(llama)), asyncio.run(run(hf))
    assert [r.token_ids for r in ours] == [r.token_ids for r in theirs]
    assert [r.text for r in ours] == [r.text for r in theirs]
    assert ours[0].prompt_tokens == theirs[0].prompt_tokens
    assert llama.model_names() == ["tiny-gguf"]
    with pytest.raises(UnknownAdapter):
        llama._prepare(GenerationRequest(prompt="a", adapter="other"))


@needs_llama
def test_llama_engine_applies_the_record_constraint_like_transformers(tiny, tmp_path):
    """The same ValueConstraint masks the same tokens in both engines: greedy outputs agree and
    every number in them is one the constraint allows."""
    from smallretail_llm.models.export import gguf_file
    from smallretail_llm.serving.decoding.value_constraint import ValueConstraint
    from smallretail_llm.serving.engines.llama_engine import LlamaCppEngine

    allowed = ValueConstraint(frozenset({"3,000", "12"}))
    request = GenerationRequest(messages=[{"role": "user", "content": "가격: 3,000원 배송비?"}],
                                max_new_tokens=16, ignore_eos=True, constraint=allowed)
    llama = LlamaCppEngine(gguf_file(tiny, "f32", tmp_path), tokenizer=tiny, num_threads=1)
    hf = TransformersEngine(tiny, num_threads=1, prefix_cache_mb=0)
    ours, theirs = asyncio.run(llama.generate(request)), asyncio.run(hf.generate(request))
    assert ours.token_ids == theirs.token_ids
    for number in re.findall(r"[0-9](?:[0-9,.]*[0-9])?", ours.text)[:-1]:
        assert number.rstrip(",.") in allowed.numbers, ours.text


def test_cli_bench_reports_unknown_parts_and_missing_assets(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from smallretail_llm.cli import app

    monkeypatch.setenv("SMALLRETAIL_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    bad = runner.invoke(app, ["bench", "--parts", "gpu", "--out", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "알 수 없는 벤치 항목: gpu" in bad.output
    done = runner.invoke(app, ["bench", "--quick", "--out", str(tmp_path / "o")])
    assert done.exit_code == 0, done.output
    assert "make train" in json.loads(done.output)["skipped"][0]
    assert (tmp_path / "o" / "bench.md").is_file()


def test_export_finds_the_converter_that_make_llama_unpacks(tmp_path, monkeypatch):
    from smallretail_llm.models.export import find_gguf_converter

    monkeypatch.delenv("LLAMA_CPP_CONVERTER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("SMALLRETAIL_HOME", str(tmp_path))
    assert find_gguf_converter() is None
    (tmp_path / "llama.cpp").mkdir()
    (tmp_path / "llama.cpp" / "convert_hf_to_gguf.py").write_text("")
    assert find_gguf_converter() == tmp_path / "llama.cpp" / "convert_hf_to_gguf.py"


def test_cached_gguf_is_rebuilt_when_the_weights_change(tmp_path, monkeypatch):
    from smallretail_llm.models import export

    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"old weights")
    made = []

    def fake_export(model_dir, outfile, outtype):
        made.append(outtype)
        Path(outfile).write_bytes(b"gguf")
        return Path(outfile)

    monkeypatch.setattr(export, "export_gguf", fake_export)
    first = export.gguf_file(model, "f16", tmp_path / "gguf")
    assert export.gguf_file(model, "f16", tmp_path / "gguf") == first and made == ["f16"]
    os.utime(model / "model.safetensors", ns=(1, 1))  # a rebuilt model: other weights
    (model / "model.safetensors").write_bytes(b"new weights!")
    assert export.gguf_file(model, "f16", tmp_path / "gguf") == first
    assert made == ["f16", "f16"]


def test_standin_adapter_is_built_once_and_served_mixed(tiny):
    """The mixed-adapter bench's stand-in adapter (a rank on every linear layer, random B so it
    changes the output) loads like a shop's adapter, under two names in one batch."""
    from dataclasses import replace

    from smallretail_llm.bench.standins import standin_adapter

    adapter = standin_adapter(tiny, r=4)
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 4
    assert standin_adapter(tiny, r=4) == adapter  # cached: not rebuilt
    engine = TransformersEngine(tiny, adapters={"a": adapter, "b": adapter}, prefix_cache_mb=0)
    request = GenerationRequest(messages=[{"role": "user", "content": "가격"}], max_new_tokens=4,
                                ignore_eos=True)

    async def both():
        try:
            return await asyncio.gather(*(engine.generate(replace(request, adapter=name))
                                          for name in ("a", "b")))
        finally:
            await engine.aclose()

    with_a, with_b = asyncio.run(both())
    assert with_a.token_ids == with_b.token_ids  # the same adapter under two names
    assert (with_a.model, with_b.model) == ("a", "b")


def test_peer_report_puts_both_side_by_side_and_judges_the_ratios(monkeypatch, tmp_path):
    """eval/bench_peer.py: the table and the targets from one run's rows; the peer missing is a
    skip with its reason, never a failure (its lookup order: flag, env, PATH, make's build)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
    import bench_peer

    def side(tok_s: float) -> dict:
        return {"clients": 1, "requests": 2, "tokens": 128, "tok_s": tok_s, "p50_s": 1.0,
                "p95_s": 2.0}

    report = {"model": "0.5B shape", "ours": "ours", "peer": "llama-server", "new_tokens": 64,
              "rounds": 2, "targets": bench_peer.TARGETS, "met": {"varied": True, "repeated": False}, "controls_cost_max": 1.05,
              "rows": [{"workload": "repeated", "clients": c, "ours": side(o), "peer": side(p),
                        "ours_plain": side(o * 1.05), "ours_again": side(o),
                        "controls_cost": 1.05,
                        "ours_over_peer_tok_s": round(o / p, 2)}
                       for c, o, p in ((1, 30.0, 45.0), (4, 90.0, 80.0), (16, 190.0, 120.0))]}
    text = bench_peer.markdown(report)
    assert "| repeated | 1 | 30.0 | 45.0 | 0.67 | 1.0 / 2.0 | 1.0 / 2.0 | 31.5 / 30.0 (1.05x) |" in text
    assert "≥ 1 at 1 client, ≥ 1.5 at 16 clients: varied **met**; repeated missed" in text
    assert "at most 1.05x (target ≤ 1.1x: **met**)" in text
    assert "Our llama.cpp engine" not in text  # (llama-cpp-python not installed for that run)
    # a missed ratio is explained from this machine's decode profile (`smallretail bench`)
    assert "Missed: repeated at 1 client (0.67)." in text
    assert "Run `smallretail bench` on this machine for the decode profile." in text
    bench = {"profile": {"forward_loop_step_ms": 30.0, "ops_per_step": 4000,
                         "top_ops": [{"op": "quantized::linear_dynamic", "self_pct": 60.0,
                                      "ms_per_step": 18.0, "calls_per_step": 169.0}]},
             "engines": [{"model": bench_peer.TARGET_SHAPE, "variant": "int8",
                          "bytes_per_token_mb": 490.0}]}
    explained = bench_peer.markdown(report | {"machine": {"cpu": "AMD EPYC", "cores": 2,
                                                          "bandwidth_gb_s": 50.0}}, bench)
    assert "Machine: AMD EPYC, 2 cores, read bandwidth 50.0 GB/s." in explained
    assert ("takes 18.0 ms of it (60.0%): 490.0 MB of weights at 27.2 GB/s. The other 12.0 ms "
            "are the step's other 3831 operator calls") in explained
    assert "22.2 ms a token at best here" in explained  # the peer's 45 tok/s at 1 client
    report["ours_llama"] = "llama.cpp engine"
    for row in report["rows"]:
        row.update(ours_llama=side(row["peer"]["tok_s"] * 1.25), llama_over_peer_tok_s=1.25)
    assert "| repeated | 16 | 150.0 | 120.0 | 1.25 | 1.0 / 2.0 |" in bench_peer.markdown(report)
    assert "Skipped: no peer" in bench_peer.markdown({"model": "m", "skipped": "no peer"})
    monkeypatch.setenv("SMALLRETAIL_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SMALLRETAIL_LLAMA_SERVER", raising=False)
    assert bench_peer.peer_binary(None) is None
    built = tmp_path / "llama.cpp" / "build" / "bin" / "llama-server"
    built.parent.mkdir(parents=True)
    built.write_text("")
    assert bench_peer.peer_binary(None) == built
    given = tmp_path / "my-server"
    given.write_text("")
    assert bench_peer.peer_binary(str(given)) == given

    async def send(job: int) -> int:  # concurrent workers: every request's tokens counted
        await asyncio.sleep(0)
        return job

    counted = asyncio.run(bench_peer.drive(send, [5] * 8, 4))
    assert (counted["requests"], counted["tokens"]) == (8, 40)

"""One bench measurement, run in its own process (``python -m smallretail_llm.bench.cases SPEC``)
so that its peak RSS is its own and a crash or an out-of-memory kill loses one row, not the run.

An engine case loads one engine and measures, through the ``Engine`` protocol only (so the
transformers and llama.cpp engines are measured the same way):
- time to first token (TTFT) of the median prompt: a 1-token generation, prefix cache emptied
  first; prefill tokens/s is prompt tokens / TTFT;
- TTFT with a cached prefix, for two real neighbours of that prompt: another product of the
  same shop, same task (shares the system prompt and the shop policy) and the same product's
  prompt with another question or tone (shares the policy and the product block);
- decode tokens/s at each batch size: B identical concurrent requests of N tokens (``ignore_eos``)
  against the same with 1 token, so the prefill and the first token cancel out:
  ``B (N - 1) / (T_N - T_1)``. Identical prompts hit the prefix cache, so T_1 is one step;
- weight bytes each decode step reads, for the bandwidth ceiling the parent computes.
A training case times LoRA steps. Each prints one JSON line starting with ``RESULT``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

RESULT_MARK = "RESULT "
Messages = list[dict[str, str]]


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    exec from the forking parent, so every child would report at least the parent's size."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 4)


def load_engine(spec: Mapping[str, Any]):
    """The engine a spec names: transformers (fp32 or int8) or llama.cpp (a GGUF file)."""
    from smallretail_llm.serving.engines.batching import BatchingConfig
    from smallretail_llm.serving.engines.factory import local_engine

    batching = BatchingConfig(max_batch_size=max(spec["batches"]), max_wait_ms=1, max_queue=256)
    if spec["engine"] == "llama":
        return local_engine(spec["tokenizer_dir"], gguf=spec["gguf"], batching=batching,
                            num_threads=spec.get("threads"))
    return local_engine(spec["model_dir"], tokenizer=spec["tokenizer_dir"], batching=batching,
                        quantize=spec.get("quantize"), device=spec.get("device", "cpu"),
                        num_threads=spec.get("threads"))


def weight_bytes(engine, spec: Mapping[str, Any]) -> int:
    if spec["engine"] == "llama":
        return Path(spec["gguf"]).stat().st_size  # every tensor is read per token (tied output)
    from smallretail_llm.models.quantize import decode_weight_bytes

    return decode_weight_bytes(engine._model)


def kv_bytes(spec: Mapping[str, Any]) -> int:
    from transformers import AutoConfig

    from smallretail_llm.models.quantize import kv_bytes_per_token

    return kv_bytes_per_token(AutoConfig.from_pretrained(spec["model_dir"], local_files_only=True))


async def measure_engine(engine, spec: Mapping[str, Any]) -> dict[str, Any]:
    from smallretail_llm.serving.engines.engine import GenerationRequest

    prompts: Mapping[str, Messages] = spec["prompts"]
    repeats = spec["repeats"]

    def req(messages: Messages, n: int, **kw) -> GenerationRequest:
        return GenerationRequest(messages=messages, max_new_tokens=n, ignore_eos=True, **kw)

    async def ttft(messages: Messages, before: Messages | None = None) -> tuple[float, int]:
        engine.clear_prefix_cache()
        if before is not None:
            await engine.generate(req(before, 1))
        start = time.perf_counter()
        result = await engine.generate(req(messages, 1))
        return time.perf_counter() - start, result.prompt_tokens

    await engine.generate(req(prompts["median"], 4))  # warm-up: lazy loading, thread pools
    out: dict[str, Any] = {}
    uncached = [await ttft(prompts["median"]) for _ in range(repeats)]
    out["prompt_tokens"] = uncached[0][1]
    out["ttft_s"] = _median([t for t, _ in uncached])
    out["prefill_tok_s"] = round(out["prompt_tokens"] / out["ttft_s"], 1)
    for label in ("same_shop", "same_product"):
        if prompts.get(label):
            times = [(await ttft(prompts["median"], prompts[label]))[0] for _ in range(repeats)]
            out[f"ttft_cached_{label}_s"] = _median(times)
            out[f"ttft_cached_{label}_ratio"] = round(_median(times) / out["ttft_s"], 3)
    new_tokens = spec["new_tokens"]
    reference = await engine.generate(
        GenerationRequest(messages=prompts["median"], max_new_tokens=new_tokens, ignore_eos=True))
    out["greedy_tokens"] = list(reference.token_ids)
    decode: dict[str, float] = {}
    for batch in spec["batches"]:
        async def wall(n: int, batch: int = batch) -> float:
            start = time.perf_counter()
            await asyncio.gather(*(engine.generate(req(prompts["median"], n)) for _ in range(batch)))
            return time.perf_counter() - start

        rates = []
        for _ in range(repeats):
            first = await wall(1)  # the prompt is cached by now: this is ~1 forward step
            rates.append(batch * (new_tokens - 1) / max(await wall(new_tokens) - first, 1e-9))
        decode[str(batch)] = round(statistics.median(rates), 2)
        logger.info("%s batch %d: %.1f tok/s", spec["label"], batch, decode[str(batch)])
    out["decode_tok_s"] = decode
    out["new_tokens"] = new_tokens
    return out


def engine_case(spec: Mapping[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    engine = load_engine(spec)
    load_s = round(time.perf_counter() - started, 2)
    result = asyncio.run(measure_engine(engine, spec))
    context = result["prompt_tokens"] + spec["new_tokens"] // 2
    result.update(
        load_s=load_s,
        weight_bytes=weight_bytes(engine, spec),
        kv_bytes_per_step=kv_bytes(spec) * context,
        peak_rss_mb=peak_rss_mb(),
    )
    return result


def training_case(spec: Mapping[str, Any]) -> dict[str, Any]:
    """LoRA (r=16 on every projection, AdamW) steps on random token batches: tokens/s and peak
    memory. fp32 on CPU (bf16 is slower on AVX2 CPUs), bf16 on CUDA."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    device = spec.get("device", "cpu")
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(spec["model_dir"], dtype=dtype,
                                                 local_files_only=True).to(device)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=targets))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    batch, seq = spec["batch"], spec["seq"]
    generator = torch.Generator().manual_seed(0)
    vocab = min(model.config.vocab_size, spec.get("token_range", 8000))

    def step() -> None:
        ids = torch.randint(5, vocab, (batch, seq), generator=generator).to(device)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    model.train()
    step()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    result = {
        "device": device, "dtype": str(dtype).removeprefix("torch."), "batch": batch, "seq": seq,
        "lora_rank": 16, "step_s": _median(times),
        "tokens_per_s": round(batch * seq / statistics.median(times), 1),
        "peak_rss_mb": peak_rss_mb(),
    }
    if device == "cuda":
        result["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def profile_case(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Where one batch-1 decode step goes: the engine's own forward (its slot KV cache, position
    ids and mask, as ``step_loop`` calls it) under the torch profiler, the top operators by self
    time, and the loop's step time next to the engine's."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from smallretail_llm.serving.engines.kv_slots import SlotCache

    engine = load_engine(spec)
    model = engine._model
    ids = engine._prepare(_request(spec["prompts"]["median"])).ids
    steps = spec.get("steps", 16)

    def measure() -> tuple[float, Any]:  # in the engine's worker thread, like generation
        with torch.inference_mode():
            cache = SlotCache(model.config.get_text_config(), 1, dtype=engine.dtype,
                              device=engine.device)
            row = cache.add_row(len(ids) + 2 * steps + 8)
            positions, mask = cache.prefill(row, [len(ids)])
            logits = model(torch.tensor([ids]), position_ids=positions, attention_mask=mask,
                           cache=cache, use_cache=True, logits_to_keep=1).logits
            token = logits[:, -1:].argmax(-1)

            def step() -> None:
                nonlocal token
                positions, mask = cache.decode()
                out = model(token, position_ids=positions, attention_mask=mask, cache=cache,
                            use_cache=True, logits_to_keep=1)
                token = out.logits[:, -1:].argmax(-1)

            for _ in range(3):
                step()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            loop_s = (time.perf_counter() - start) / steps
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(steps):
                    step()
        return loop_s, prof

    loop_s, prof = engine._batcher.run_in_worker(measure)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    top = [{"op": e.key, "self_pct": round(100 * e.self_cpu_time_total / total, 1),
            "ms_per_step": round(e.self_cpu_time_total / 1000 / steps, 2), "calls_per_step":
            round(e.count / steps, 1)} for e in events[:8]]
    return {"forward_loop_step_ms": round(loop_s * 1000, 2),
            "forward_loop_tok_s": round(1 / loop_s, 2), "top_ops": top,
            "ops_per_step": round(sum(e.count for e in events) / steps)}


def _request(messages: Messages):
    from smallretail_llm.serving.engines.engine import GenerationRequest

    return GenerationRequest(messages=messages, max_new_tokens=1)


CASES = {"engine": engine_case, "training": training_case, "profile": profile_case}


def main(argv: Sequence[str] | None = None) -> None:
    spec = json.loads((argv or sys.argv[1:])[0])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    import torch

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    print(RESULT_MARK + json.dumps(CASES[spec["kind"]](spec), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()

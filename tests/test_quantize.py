"""int8 weights on CPU: what is quantized, how close the outputs stay, the byte accounting."""

from __future__ import annotations

import asyncio

import pytest
import torch
from peft import PeftModel
from torch import nn
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from smallretail_llm.models.quantize import decode_weight_bytes, kv_bytes_per_token, quantize_model
from smallretail_llm.serving.engines.engine import GenerationRequest
from smallretail_llm.serving.engines.hf_engine import TransformersEngine
from tiny_models import (
    REPLY_PROMPT,
    build_lora_adapter,
    build_tiny_model,
    one_thread,  # noqa: F401  (autouse: one torch thread)
)

REPLY = "국내산 사과 1kg, 냉장 보관하세요."
SMALL = {"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 2, "num_key_value_heads": 1}



@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("quant")
    base = build_tiny_model(root / "base", seed=0)
    return {"base": base, "a1": build_lora_adapter(base, root / "a1", seed=1),
            "korean": build_tiny_model(root / "korean", seed=1, reply=REPLY)}


def quantized_names(model: nn.Module) -> set[str]:
    return {name for name, m in model.named_modules() if type(m).__name__ == "Linear"
            and type(m).__module__.startswith("torch.ao.nn.quantized")}


def test_every_linear_is_quantized_and_logits_stay_close(models):
    model = AutoModelForCausalLM.from_pretrained(models["base"]).eval()
    linears = {name for name, m in model.named_modules() if type(m) is nn.Linear}
    ids = torch.randint(0, 200, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        reference = model(ids).logits
        quantize_model(model)
        logits = model(ids).logits
    assert quantized_names(model) == linears and "lm_head" in linears
    assert not any(type(m) is nn.Linear for m in model.modules())
    spread = (reference.max() - reference.min()).item()
    assert (logits - reference).abs().max().item() < 0.05 * spread


def test_lora_layers_stay_fp32_and_adapters_still_work(models):
    base = AutoModelForCausalLM.from_pretrained(models["base"])
    model = PeftModel.from_pretrained(base, str(models["a1"]), adapter_name="a1").eval()
    ids = torch.randint(0, 200, (2, 10), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        reference = model(ids).logits
        quantize_model(model)
        logits = model(ids, adapter_names=["a1", "__base__"]).logits
    names = quantized_names(model)
    assert names and not any(".lora_" in n for n in names)
    lora_a = [m for n, m in model.named_modules() if n.endswith(".lora_A.a1")]
    assert lora_a and all(type(m) is nn.Linear for m in lora_a)
    spread = (reference.max() - reference.min()).item()
    assert (logits[0] - reference[0]).abs().max().item() < 0.05 * spread


def test_unknown_mode_and_non_cpu_are_refused():
    model = LlamaForCausalLM(LlamaConfig(**SMALL))
    with pytest.raises(ValueError, match="알 수 없는 양자화 방식"):
        quantize_model(model, "int4")
    model = model.to("meta")
    with pytest.raises(ValueError, match="CPU 전용"):
        quantize_model(model)


def test_engine_int8_keeps_a_confident_greedy_answer(models):
    engine = TransformersEngine(models["korean"], num_threads=1, quantize="int8")
    request = GenerationRequest(messages=REPLY_PROMPT, max_new_tokens=40)
    result = asyncio.run(engine.generate(request))
    assert (result.text, result.finish_reason) == (REPLY, "stop")
    assert engine.quantize == "int8" and quantized_names(engine._model)


def test_decode_weight_bytes_counts_what_one_step_reads():
    torch.manual_seed(0)
    untied = LlamaForCausalLM(LlamaConfig(**SMALL, tie_word_embeddings=False))
    params = {n: p.numel() for n, p in untied.named_parameters()}
    embedding = params["model.embed_tokens.weight"]
    everything = sum(params.values())
    assert decode_weight_bytes(untied) == 4 * (everything - embedding + SMALL["hidden_size"])
    tied = LlamaForCausalLM(LlamaConfig(**SMALL, tie_word_embeddings=True))
    assert decode_weight_bytes(tied) == 4 * sum(p.numel() for p in tied.parameters())
    linear = sum(m.weight.numel() for m in untied.modules() if type(m) is nn.Linear)
    fp32 = decode_weight_bytes(untied)
    quantize_model(untied)
    out_features = sum(m.weight().shape[0] for m in untied.modules() if type(m).__name__ == "Linear"
                       and type(m).__module__.startswith("torch.ao.nn.quantized"))
    # int8 weights plus a scale and zero point per output channel (fp64 + int64 in torch.ao)
    assert decode_weight_bytes(untied) == fp32 - 4 * linear + linear + 16 * out_features


def test_kv_bytes_per_token_uses_kv_heads_and_head_dim():
    config = LlamaConfig(**SMALL)  # 2 layers, 1 kv head of 8
    assert kv_bytes_per_token(config) == 2 * 2 * 1 * 8 * 4

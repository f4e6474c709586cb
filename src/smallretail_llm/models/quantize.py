"""int8 weights for CPU inference, and how many weight bytes one decode step reads.

Why int8: decoding one token reads every weight once, so on CPU its speed is bounded by memory
bandwidth; int8 weights read 4x fewer bytes than fp32 (MODELS.md: fp32 ceiling ~11 tok/s,
int8 ~45 tok/s on the 0.5B shape). ``torch.ao.quantization.quantize_dynamic`` is the int8 path
that ships in the pinned torch (deprecated in favour of torchao, not installed here): int8
weights with one scale per output channel, activations quantized per call, fbgemm int8 GEMM.

What is quantized: every ``nn.Linear`` of the model, ``lm_head`` included (at batch 1 it is a
quarter of the bytes), but never LoRA's own ``lora_A``/``lora_B`` (peft reads their ``weight``
tensors; they are tiny and stay fp32, so adapters keep working, mixed batches included). The
input embedding stays fp32: a lookup reads one row per token, so it costs memory, not speed.

Outputs are not bit-identical to fp32: logits move by ~1% of their range (measured on the test
models), so greedy outputs may differ after a near tie. The bench reports the agreement.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from transformers import PreTrainedConfig

logger = logging.getLogger(__name__)

QUANT_MODES = ("int8",)
_LORA_PARTS = (".lora_A.", ".lora_B.", ".lora_embedding_A", ".lora_embedding_B", ".lora_magnitude")


def quantize_model(model: nn.Module, mode: str = "int8") -> nn.Module:
    """Quantize ``model`` in place for CPU inference and return it.

    Raises ValueError for an unknown mode or a model on another device than the CPU."""
    if mode not in QUANT_MODES:
        raise ValueError(f"알 수 없는 양자화 방식입니다: '{mode}' (가능한 값: {', '.join(QUANT_MODES)})")
    device = next(model.parameters()).device
    if device.type != "cpu":
        raise ValueError(f"int8 동적 양자화는 CPU 전용입니다 (모델 장치: {device}).")
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    targets = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if type(module) is nn.Linear and not any(part in f"{name}." for part in _LORA_PARTS)
    }
    with warnings.catch_warnings():  # torch.ao.quantization's deprecation notice, every call
        warnings.simplefilter("ignore")
        quantize_dynamic(model, targets, dtype=torch.qint8, inplace=True)
    logger.info("int8 dynamic quantization: %d linear layers", len(targets))
    return model


def _quantized_bytes(module: nn.Module) -> int | None:
    """Bytes of a dynamic-quantized linear's weight (+ bias), or None for other modules."""
    packed = getattr(module, "_packed_params", None)
    if packed is None or not hasattr(packed, "_weight_bias"):
        return None
    weight, bias = packed._weight_bias()
    scales = weight.q_per_channel_scales() if weight.qscheme() in (
        torch.per_channel_affine, torch.per_channel_symmetric) else torch.empty(1)
    total = weight.numel() * weight.element_size() + 2 * scales.numel() * scales.element_size()
    return total + (bias.numel() * bias.element_size() if bias is not None else 0)


def decode_weight_bytes(model: nn.Module) -> int:
    """Weight bytes one decode step reads: every parameter once, except that an input embedding
    is read one row per token (unless it is also the output matrix, as in tied models)."""
    embedding = model.get_input_embeddings()  # type: ignore[operator]
    output = model.get_output_embeddings()  # type: ignore[operator]
    tied = isinstance(output, nn.Linear) and output.weight is embedding.weight
    total = 0
    for _name, param in model.named_parameters():  # a tied tensor is listed once
        if param is embedding.weight and not tied:
            total += param.shape[-1] * param.element_size()
        else:
            total += param.numel() * param.element_size()
    for module in model.modules():
        total += _quantized_bytes(module) or 0
    return total


def kv_bytes_per_token(config: PreTrainedConfig) -> int:
    """Bytes of K and V one token adds to the cache (fp32), all layers together."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = text.num_attention_heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    return 2 * text.num_hidden_layers * kv_heads * head_dim * 4

"""Workaround for huggingface/transformers#46082: `LlamaConfig` refuses a hidden size that is not
a multiple of the head count even when `head_dim` is given explicitly, so kakaocorp's
kanana-nano-2.1b (hidden 1792, 24 heads x head_dim 128) cannot be built or loaded. The fix,
transformers PR #46211, is in no release the registry serves (5.24 here).

Narrow on purpose: the patched config class is used only for `model_type: llama` configs whose
`head_dim` is explicit and inconsistent with hidden_size / num_attention_heads, and only while
the installed `LlamaConfig` still refuses such a shape (`stock_llama_accepts_explicit_head_dim`).
Remove this module (and its three call sites: model_shapes.build_config, training.load_base,
the smoke run's random-init model) once a transformers release with the fix is pinned.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import LlamaConfig, PreTrainedModel

UPSTREAM = "huggingface/transformers#46082 (fix: PR #46211)"


def needs_workaround(values: dict[str, Any]) -> bool:
    """True for a llama config dict whose explicit head_dim does not follow hidden/heads."""
    head_dim, hidden, heads = (values.get(k) for k in ("head_dim", "hidden_size", "num_attention_heads"))
    return (
        values.get("model_type") == "llama"
        and isinstance(head_dim, int) and isinstance(hidden, int) and isinstance(heads, int) and heads > 0
        and (hidden % heads != 0 or hidden // heads != head_dim)
        and not stock_llama_accepts_explicit_head_dim()
    )


@functools.cache
def stock_llama_accepts_explicit_head_dim() -> bool:
    """False while the installed transformers has bug #46082 (probed on a 56-wide toy shape)."""
    from transformers import LlamaConfig

    try:
        LlamaConfig(hidden_size=56, num_attention_heads=3, num_key_value_heads=1, head_dim=16)
    except Exception:  # noqa: BLE001 - huggingface_hub's strict errors are not ValueErrors
        return False
    return True


@functools.cache
def explicit_head_dim_config_class() -> type[LlamaConfig]:
    """`LlamaConfig` whose architecture check trusts an explicit head_dim (what PR #46211 does)."""
    from huggingface_hub.dataclasses import strict
    from transformers import LlamaConfig

    @strict
    class ExplicitHeadDimLlamaConfig(LlamaConfig):
        """LlamaConfig for an explicit head_dim (transformers#46082); saves as plain "llama"."""

        def validate_architecture(self) -> None:
            if not (isinstance(self.head_dim, int) and self.head_dim > 0):
                raise ValueError(f"head_dim must be a positive int, got {self.head_dim!r}")

    return ExplicitHeadDimLlamaConfig


def build_config(values: dict[str, Any]) -> LlamaConfig:
    """A config from a config.json-style dict (model_type included) that needs the workaround."""
    values = {k: v for k, v in values.items() if k != "model_type"}
    return explicit_head_dim_config_class()(**values)


def load_config(name_or_path: str | Path, **kwargs: Any) -> LlamaConfig | None:
    """The patched config of a hub id or folder that needs the workaround, else None."""
    from transformers import PreTrainedConfig

    values, _ = PreTrainedConfig.get_config_dict(str(name_or_path), **kwargs)
    return build_config(values) if needs_workaround(values) else None


def from_pretrained(name_or_path: str | Path, config: LlamaConfig | None = None,
                    **kwargs: Any) -> PreTrainedModel:
    """AutoModelForCausalLM.from_pretrained, or with `config` (from `load_config`) the Llama
    class named directly: AutoModel maps config classes exactly, not their subclasses."""
    from transformers import AutoModelForCausalLM, LlamaForCausalLM

    if config is None:
        return AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
    return LlamaForCausalLM.from_pretrained(name_or_path, config=config, **kwargs)

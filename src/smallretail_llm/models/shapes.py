"""Shapes of the target base models (specs/model_shapes.yaml), turned into transformers configs
and weightless models so CI can check every training recipe without the hub."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import yaml

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedConfig, PreTrainedModel


class UnknownModelShape(KeyError):
    """The model name has no entry in model_shapes.yaml."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


class ShapeNotLoadable(ValueError):
    """The installed transformers cannot build this model (a known upstream bug)."""


@dataclass(frozen=True)
class ModelShape:
    name: str
    config: dict[str, Any]
    verified: bool
    source: str
    license: str = ""
    published_params: dict[str, float] = field(default_factory=dict)
    """Model card counts in billions: total and/or non_embedding."""
    blocked_by: str | None = None


@functools.cache
def load_shapes() -> dict[str, ModelShape]:
    spec_file = resources.files("smallretail_llm.models").joinpath("specs/model_shapes.yaml")
    text = spec_file.read_text("utf-8")
    return {name: ModelShape(name=name, **entry) for name, entry in yaml.safe_load(text).items()}


def get_shape(name: str) -> ModelShape:
    shapes = load_shapes()
    if name not in shapes:
        raise UnknownModelShape(
            f"모델 형태 정보가 없습니다: {name!r}. 알려진 모델: {', '.join(shapes)} "
            "(src/smallretail_llm/models/specs/model_shapes.yaml에 추가하세요)"
        )
    return shapes[name]


def build_config(name: str) -> PreTrainedConfig:
    """The transformers config of `name`, built from the shipped shape data.

    Raises ShapeNotLoadable when transformers refuses the real shape, naming the known bug,
    so a GPU run fails in seconds with the reason instead of after a download."""
    from transformers import AutoConfig

    from smallretail_llm.models import llama_head_dim

    shape = get_shape(name)
    values = dict(shape.config)
    if llama_head_dim.needs_workaround(values):  # kanana: transformers#46082
        return llama_head_dim.build_config(values)
    model_type = values.pop("model_type")
    try:
        return AutoConfig.for_model(model_type, **values)
    except Exception as exc:  # huggingface_hub's strict-dataclass errors are not ValueErrors
        if shape.blocked_by:
            raise ShapeNotLoadable(
                f"{name}: 설치된 transformers가 이 모델 구성을 거부합니다 — {shape.blocked_by}"
            ) from exc
        raise


def build_meta_model(name: str) -> PreTrainedModel:
    """A model of `name`'s exact shape on the meta device: no memory, no weights."""
    import torch
    import transformers

    config = build_config(name)
    # The class is named, not looked up by config class: the kanana workaround's config is a
    # LlamaConfig subclass that AutoModelForCausalLM does not map.
    assert config.architectures is not None  # every shape in model_shapes.yaml names its class
    model_class = getattr(transformers, config.architectures[0])
    with torch.device("meta"):
        return model_class(config)


def count_parameters(model: PreTrainedModel) -> dict[str, int]:
    """Total parameters (a tied embedding counted once) and those outside the embedding."""
    total = sum(p.numel() for p in model.parameters())
    # typed nn.Module by transformers; a causal LM's input embedding is an nn.Embedding
    embedding = cast("torch.nn.Embedding", model.get_input_embeddings()).weight.numel()
    return {"total": total, "non_embedding": total - embedding}

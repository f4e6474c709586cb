"""A batch mixing LoRA adapters (mixed_lora.py) computes, row by row, what the row's own adapter
computes alone: adapters of other ranks and other target layers, base rows, prefill and decode
shapes; the layers are restored after the block."""

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, LlamaForCausalLM

from smallretail_llm.serving.engines.mixed_lora import mixable, mixed_adapters
from tiny_models import build_lora_adapter, build_tiny_model, one_thread  # noqa: F401

BASE = "__base__"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    base_dir = build_tiny_model(root / "base", seed=0)
    torch.manual_seed(5)  # a third adapter of another rank on other layers, random B
    other = get_peft_model(LlamaForCausalLM.from_pretrained(base_dir), LoraConfig(
        r=2, lora_alpha=3, target_modules=["k_proj", "gate_proj", "down_proj"],
        init_lora_weights=False))
    other.save_pretrained(root / "a3")
    peft = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir),
                                     str(build_lora_adapter(base_dir, root / "a1", seed=1)),
                                     adapter_name="a1")
    peft.load_adapter(str(build_lora_adapter(base_dir, root / "a2", seed=2)), adapter_name="a2")
    peft.load_adapter(str(root / "a3"), adapter_name="a3")
    return peft.eval()


def alone(model, ids: torch.Tensor, name: str) -> torch.Tensor:
    if name == BASE:
        with model.disable_adapter():
            return model(ids).logits
    model.set_adapter(name)
    return model(ids).logits


@pytest.mark.parametrize("names", [["a1", BASE, "a3", "a2", "a1", "a3"], ["a3"] * 3])
@pytest.mark.parametrize("length", [9, 1])  # a prompt's prefill, one decode step
def test_each_row_gets_its_own_adapter(model, length, names):
    ids = torch.randint(0, 200, (len(names), length), generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        expected = torch.cat([alone(model, ids[i:i + 1], n) for i, n in enumerate(names)])
        with mixed_adapters(model, names, BASE):
            mixed = model(ids).logits
    assert torch.allclose(mixed, expected, atol=1e-5, rtol=1e-4)
    with torch.inference_mode(), model.disable_adapter():
        base = model(ids).logits
    assert (expected - base).abs().max().item() > 1e-2  # the adapters change the output


def test_layers_are_restored_after_the_block_also_on_error(model):
    ids = torch.randint(0, 200, (2, 5), generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        before = alone(model, ids, "a2")
        with pytest.raises(RuntimeError), mixed_adapters(model, ["a1", BASE], BASE):
            raise RuntimeError("boom")
        assert not any("forward" in vars(m) for m in model.modules())
        assert torch.equal(alone(model, ids, "a2"), before)


def test_plain_lora_is_mixable_dora_is_not(tmp_path, model):
    assert mixable(model)
    base_dir = build_tiny_model(tmp_path / "base", seed=0)
    dora = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base_dir),
        str(build_lora_adapter(base_dir, tmp_path / "d", seed=3, use_dora=True)))
    assert not mixable(dora)

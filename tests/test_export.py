"""Export: the merged model equals base + adapter; GGUF is optional and skipped with a reason."""

from __future__ import annotations

import logging

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from smallretail_llm.models import export, nano
from smallretail_llm.training import sft as training

TINY = nano.NanoShape(vocab_size=400, hidden_size=32, intermediate_size=64, num_layers=2,
                      num_heads=4, num_kv_heads=2, context=128)
TEXTS = [f"{name} {i}kg 원산지 국내산 가격 {i * 1000:,}원 user assistant system"
         for i in range(1, 30) for name in ("사과", "김치", "현미")]


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    tokenizer = nano.train_tokenizer(TEXTS, out, vocab_size=TINY.vocab_size)
    torch.manual_seed(0)
    nano.new_model(tokenizer, TINY).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def adapter_dir(base_dir, tmp_path_factory):
    """An adapter with random non-zero LoRA weights (so merging changes the model)."""
    out = tmp_path_factory.mktemp("adapter")
    torch.manual_seed(1)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False,
                      task_type="CAUSAL_LM")
    get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir), lora).save_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    tokenizer.save_pretrained(out)
    training.write_adapter_metadata(out, ["describe.v1"], tokenizer, str(base_dir))
    return out


@pytest.fixture(scope="module")
def merged_dir(base_dir, adapter_dir, tmp_path_factory):
    return export.export_merged(str(base_dir), adapter_dir, tmp_path_factory.mktemp("merged") / "m")


def logits(model, tokenizer):
    inputs = tokenizer(["<|im_start|>user\n사과 1kg<|im_end|>\n"], return_tensors="pt",
                       add_special_tokens=False)
    with torch.no_grad():
        return model(**inputs).logits


def test_merged_equals_base_plus_adapter(base_dir, adapter_dir, merged_dir):
    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    with_adapter = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir),
                                             str(adapter_dir))
    merged = AutoModelForCausalLM.from_pretrained(merged_dir)
    expected = logits(with_adapter, tokenizer)
    torch.testing.assert_close(logits(merged, tokenizer), expected, atol=1e-5, rtol=1e-4)
    base = logits(AutoModelForCausalLM.from_pretrained(base_dir), tokenizer)
    assert (base - expected).abs().max() > 1e-3  # the adapter really changed the model
    assert not any("lora" in name for name, _ in merged.named_parameters())


def test_merged_folder_is_servable_and_checkable(merged_dir):
    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    assert tokenizer.chat_template == nano.CHAT_TEMPLATE
    assert tokenizer.eos_token == "<|im_end|>"
    assert (merged_dir / "model.safetensors").is_file()
    assert (merged_dir / "tokenizer.model").is_file()  # for llama.cpp's converter
    meta = training.check_adapter(merged_dir, "describe.v1", tokenizer.chat_template)
    assert meta["prompt_versions"] == ["describe.v1"]
    with pytest.raises(training.AdapterMismatch):
        training.check_adapter(merged_dir, "describe.v2")


def test_export_refuses_a_folder_without_an_adapter(base_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        export.export_merged(str(base_dir), base_dir, tmp_path / "m")


def test_gguf_is_skipped_with_a_reason_without_the_converter(merged_dir, tmp_path, monkeypatch,
                                                             caplog):
    monkeypatch.delenv(export.GGUF_CONVERTER_ENV, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("SMALLRETAIL_HOME", str(tmp_path / "home"))  # no `make llama` copy there
    with caplog.at_level(logging.WARNING, logger="smallretail_llm.models.export"):
        assert export.export_gguf(merged_dir) is None
    assert "GGUF 변환을 건너뜁니다" in caplog.text and export.GGUF_CONVERTER_ENV in caplog.text


def test_gguf_runs_the_configured_converter(merged_dir, tmp_path, monkeypatch):
    fake = tmp_path / "convert_hf_to_gguf.py"
    fake.write_text(
        "import sys\nargs = sys.argv[1:]\n"
        "open(args[args.index('--outfile') + 1], 'w').write(args[0] + ' ' + args[-1])\n"
    )
    monkeypatch.setenv(export.GGUF_CONVERTER_ENV, str(fake))
    out = export.export_gguf(merged_dir, tmp_path / "m.gguf", outtype="q8_0")
    assert out == tmp_path / "m.gguf" and out.read_text() == f"{merged_dir} q8_0"
    fake.write_text("import sys\nsys.exit('boom')\n")
    with pytest.raises(RuntimeError, match="boom"):
        export.export_gguf(merged_dir, tmp_path / "x.gguf")


def test_cli_export_refuses_an_unknown_gguf_type_before_merging(tmp_path):
    from typer.testing import CliRunner

    from smallretail_llm.cli import app

    result = CliRunner().invoke(app, ["export", "--base", "nano", "--adapter", str(tmp_path),
                                      "--out", str(tmp_path / "out"), "--gguf", "--gguf-type", "q3"])
    assert result.exit_code == 2 and "알 수 없는 GGUF 형식입니다: 'q3'" in result.output
    assert not (tmp_path / "out").exists()

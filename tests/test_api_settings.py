"""Settings from SMALLRETAIL_* variables, and the serving files that mirror them."""

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from smallretail_llm.serving.settings import Settings, is_loopback

SERVING = Path(__file__).resolve().parents[1] / "serving"
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "SMALLRETAIL_MODELS_DIR", "SMALLRETAIL_PUBLISH_PORT"}


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (SERVING / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def test_env_example_names_only_real_settings_and_loads(monkeypatch):
    example = env_example()
    fields = {f"SMALLRETAIL_{name.upper()}" for name in Settings.model_fields}
    assert set(example) - COMPOSE_ONLY <= fields
    for name, value in example.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.host, settings.port, settings.demo, settings.model) == (
        "0.0.0.0", 8000, False, "/models/base")
    assert (settings.adapter, settings.num_threads, settings.max_regenerations) == ({}, None, 2)


def test_adapters_and_owners_from_env(monkeypatch):
    monkeypatch.setenv("SMALLRETAIL_ADAPTER", "tone=/a/tone, s1-copy=/a/s1")
    monkeypatch.setenv("SMALLRETAIL_ADAPTER_SHOPS", "s1-copy=s1")
    settings = Settings()
    assert settings.adapter == {"tone": "/a/tone", "s1-copy": "/a/s1"}
    names = ["base", "tone", "s1-copy"]
    assert settings.models_for("s1", "base", names) == ["base", "tone", "s1-copy"]
    assert settings.models_for("s2", "base", names) == ["base", "tone"]
    assert (settings.default_adapter("s1", names), settings.default_adapter("s2", names)) == (
        "s1-copy", "tone")
    monkeypatch.setenv("SMALLRETAIL_ADAPTER", "/adapters/shop_a")
    monkeypatch.delenv("SMALLRETAIL_ADAPTER_SHOPS")
    assert Settings().adapter == {"shop_a": "/adapters/shop_a"}
    monkeypatch.setenv("SMALLRETAIL_ADAPTER_SHOPS", "ghost=s1")
    with pytest.raises(ValidationError, match="없는 어댑터"):
        Settings()


def test_keyless_mode_is_refused_off_loopback():
    assert [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.0.2", "0.0.0.0",
                                     "192.168.0.10", "example.com")] == [
        True, True, True, True, False, False, False]
    assert Settings(demo=True, host="127.0.0.1").demo is True
    with pytest.raises(ValidationError, match="127.0.0.1 에서만"):
        Settings(demo=True, host="0.0.0.0")


def test_images_run_non_root_with_a_readiness_healthcheck():
    for name in ("Dockerfile", "Dockerfile.gpu"):
        text = (SERVING / name).read_text(encoding="utf-8")
        assert "torch==2.13.0" in text and "USER app" in text
        assert "HEALTHCHECK" in text and "/readyz" in text
        assert 'CMD ["python", "-m", "smallretail_llm.serving.api.server"]' in text
    compose = yaml.safe_load((SERVING / "docker-compose.yml").read_text(encoding="utf-8"))
    assert set(compose["services"]) == {"db", "api", "api-gpu"}
    assert compose["services"]["db"]["image"].startswith("postgres:")
    assert compose["services"]["api"]["environment"]["SMALLRETAIL_DB"].startswith(
        "postgresql+psycopg://")


def test_engine_settings_are_checked_with_korean_messages(monkeypatch):
    assert Settings().engine == "transformers"
    with pytest.raises(ValidationError, match="SMALLRETAIL_REMOTE_URL"):
        Settings(engine="remote")
    with pytest.raises(ValidationError, match="http:// 또는 https://"):
        Settings(engine="remote", remote_url="vllm:8000")
    with pytest.raises(ValidationError, match="SMALLRETAIL_GGUF"):
        Settings(engine="llama_cpp")
    with pytest.raises(ValidationError, match="SMALLRETAIL_REMOTE_MODELS 에 '어댑터=서버 모델 이름'"):
        Settings(engine="remote", remote_url="http://vllm:8000/v1", adapter="/a/tone")
    with pytest.raises(ValidationError, match="QUANTIZE 는 engine=transformers 에서만"):
        Settings(engine="llama_cpp", gguf="/m/model.gguf", quantize="int8")
    with pytest.raises(ValidationError, match="SMALLRETAIL_ENGINE=remote 에서만"):
        Settings(remote_models="a=b")
    with pytest.raises(ValidationError, match="quantize"):
        Settings(quantize="int4")

    monkeypatch.setenv("SMALLRETAIL_ENGINE", "remote")
    monkeypatch.setenv("SMALLRETAIL_REMOTE_URL", "http://vllm:8000/v1")
    monkeypatch.setenv("SMALLRETAIL_REMOTE_API_KEY", "sk-secret")
    monkeypatch.setenv("SMALLRETAIL_REMOTE_MODELS", "nano-lora=shop-lora-1, tone=tone-lora")
    monkeypatch.setenv("SMALLRETAIL_ADAPTER_SHOPS", "nano-lora=s1")
    settings = Settings()
    assert settings.remote_models == {"nano-lora": "shop-lora-1", "tone": "tone-lora"}
    assert settings.served_adapters() == ["nano-lora", "tone"]
    assert "sk-secret" not in repr(settings)
    assert settings.remote_api_key is not None
    assert settings.remote_api_key.get_secret_value() == "sk-secret"
    monkeypatch.setenv("SMALLRETAIL_ADAPTER_SHOPS", "ghost=s1")
    with pytest.raises(ValidationError, match="없는 어댑터"):
        Settings()


def test_build_engine_builds_the_chosen_engine(tmp_path, monkeypatch):
    import sys

    from smallretail_llm.serving.engines import llama_engine
    from smallretail_llm.serving.engines.factory import build_engine
    from smallretail_llm.serving.engines.remote_engine import RemoteEngine

    remote = build_engine(Settings(engine="remote", remote_url="http://vllm:8000/v1",
                                   model="Qwen/Qwen3-0.6B", remote_models="nano-lora=shop-1",
                                   remote_retries=1, breaker_failures=3, breaker_reset_s=7))
    assert isinstance(remote, RemoteEngine)
    assert remote.model_names() == ["Qwen/Qwen3-0.6B", "nano-lora"]
    assert (remote.models, remote.retries) == ({"nano-lora": "shop-1"}, 1)
    assert (remote.breaker.failures, remote.breaker.reset_s) == (3, 7)

    made = {}

    class Recorder:
        def __init__(self, gguf, **kwargs):
            made.update(kwargs, gguf=gguf)

    monkeypatch.setattr(llama_engine, "LlamaCppEngine", Recorder)
    build_engine(Settings(engine="llama_cpp", gguf="/m/model-q8_0.gguf", model=str(tmp_path),
                          max_new_tokens=64))
    assert (made["gguf"], made["tokenizer"], made["max_new_tokens"]) == (
        "/m/model-q8_0.gguf", str(tmp_path), 64)

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_models import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    engine = build_engine(Settings(model=str(model), quantize="int8", prefix_cache_mb=0,
                                   num_threads=1, device="cpu"))
    assert (engine.quantize, engine.prefix_cache) == ("int8", None)  # type: ignore[attr-defined]

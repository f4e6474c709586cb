"""Building the engine a configuration names: the transformers engine (a hub id, a local folder
or the nano, with its LoRA adapters), the llama.cpp engine over a GGUF file, or a remote
OpenAI-compatible server. Local paths are checked for read permission and adapters for prompt
versions before anything loads. Engine classes are imported inside the functions: the llama.cpp
image has no torch."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smallretail_llm.serving.engines.engine import Engine
from smallretail_llm.serving.settings import Settings

if TYPE_CHECKING:
    from smallretail_llm.serving.engines.batcher import BatchingConfig
    from smallretail_llm.serving.engines.local_engine import BatchedEngine


def build_engine(settings: Settings) -> Engine:
    """The engine ``settings.engine`` names: transformers (``settings.model``: hub id, local
    dir or "nano", with its adapters), llama_cpp (``settings.gguf``, tokenizer from the model
    folder) or remote (an OpenAI-compatible server). Loading takes a while; it happens here."""
    from smallretail_llm.serving.engines.batching import BatchingConfig

    if settings.engine == "remote":
        return build_remote_engine(settings)
    from smallretail_llm.models.nano import resolve_model

    check_readable([resolve_model(settings.model), settings.gguf, *settings.adapter.values()])
    batching = BatchingConfig(max_batch_size=settings.batch_size, max_wait_ms=settings.batch_wait_ms,
                              max_queue=settings.queue_size, retry_after_s=settings.retry_after_s)
    if settings.engine == "llama_cpp":
        assert settings.gguf is not None  # the settings check it
        return local_engine(resolve_model(settings.model), gguf=settings.gguf, batching=batching,
                            num_threads=settings.num_threads,
                            max_new_tokens=settings.max_new_tokens)
    check_adapters(settings.adapter)
    return local_engine(resolve_model(settings.model), batching=batching,
                        adapters=settings.adapter or None, device=settings.device,
                        num_threads=settings.num_threads, max_new_tokens=settings.max_new_tokens,
                        quantize=None if settings.quantize == "none" else settings.quantize,
                        prefix_cache_mb=settings.prefix_cache_mb)


def local_engine(model: str | Path, *, gguf: str | Path | None = None,
                 batching: BatchingConfig | None = None, **options: Any) -> BatchedEngine:
    """The one place a local engine is made, for the server, eval and the bench alike: llama.cpp
    over ``gguf`` when one is given (its tokenizer from ``model``), else transformers over
    ``model``. ``options`` go to the engine as they are (adapters, device, num_threads,
    max_new_tokens, quantize, prefix_cache_mb, tokenizer)."""
    if gguf is not None:
        from smallretail_llm.serving.engines.llama_engine import LlamaCppEngine

        return LlamaCppEngine(gguf, tokenizer=model, batching=batching, **options)
    from smallretail_llm.serving.engines.hf_engine import TransformersEngine

    return TransformersEngine(model, batching=batching, **options)


def build_remote_engine(settings: Settings) -> Engine:
    """A ``RemoteEngine`` for ``settings.remote_url``. The served adapters' prompt versions
    cannot be checked from here: the server's operator keeps them matching (STYLE §7)."""
    from smallretail_llm.serving.engines.circuit import CircuitBreaker
    from smallretail_llm.serving.engines.remote_engine import RemoteEngine

    assert settings.remote_url is not None  # the settings check it
    key = settings.remote_api_key.get_secret_value() if settings.remote_api_key else None
    return RemoteEngine(
        settings.remote_url, name=settings.model, models=settings.remote_models, api_key=key,
        timeout_s=settings.remote_timeout_s, connect_timeout_s=settings.remote_connect_timeout_s,
        retries=settings.remote_retries,
        breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s),
        max_new_tokens=settings.max_new_tokens, max_in_flight=settings.queue_size,
        retry_after_s=settings.retry_after_s)


class ModelUnreadable(PermissionError):
    """A mounted model file or folder the server's user may not read (one-line message)."""


def check_readable(paths: Iterable[str | Path | None]) -> None:
    """Refuse, before loading, a local model path this process may not read, naming the path
    and its permission: a 0600 file mounted into the container otherwise surfaces as a
    misleading "No such file or directory" from deep inside the loader. Hub ids pass."""
    for root in (Path(p) for p in paths if p):
        if not root.exists():
            continue
        for path in [root, *sorted(root.rglob("*"))] if _can(root, is_dir=True) else [root]:
            if not _can(path, is_dir=path.is_dir()):
                st = path.stat()
                kind = "폴더를" if path.is_dir() else "파일을"
                raise ModelUnreadable(
                    f"모델 {kind} 읽을 수 없습니다: {path} (권한 {stat.filemode(st.st_mode)}, "
                    f"소유자 uid {st.st_uid}, 서버 uid {os.getuid()}); "
                    f"호스트에서 `chmod -R a+rX {root}` 로 읽기 권한을 주세요")


def _can(path: Path, *, is_dir: bool) -> bool:
    if is_dir:
        return path.is_dir() and os.access(path, os.R_OK | os.X_OK)
    return os.access(path, os.R_OK)


def check_adapters(adapters: dict[str, str]) -> None:
    """Refuse, at start-up, any adapter trained on other prompt versions than the ones this
    server renders (STYLE §7): a mismatch gives endless or off-format text, not an error."""
    from smallretail_llm.data.prompts import expected_prompt_versions
    from smallretail_llm.models.adapter import check_adapter

    for directory in adapters.values():
        check_adapter(directory, expected_prompt_versions())

"""Running the API: ``serve(settings)`` is what `smallretail serve` calls (and the Docker image
runs ``python -m smallretail_llm.api.server``). It configures logging, loads the model, warms
the grounding checker and hands the app to uvicorn."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from smallretail_llm.engine import Engine
from smallretail_llm.settings import Settings

log = logging.getLogger(__name__)


def build_engine(settings: Settings) -> Engine:
    """The engine ``settings.engine`` names: transformers (``settings.model``: hub id, local
    dir or "nano", with its adapters), llama_cpp (``settings.gguf``, tokenizer from the model
    folder) or remote (an OpenAI-compatible server). Loading takes a while; it happens here."""
    from smallretail_llm.batcher import BatchingConfig

    if settings.engine == "remote":
        return build_remote_engine(settings)
    from smallretail_llm.nano import resolve_model

    check_readable([resolve_model(settings.model), settings.gguf, *settings.adapter.values()])
    batching = BatchingConfig(max_batch_size=settings.batch_size, max_wait_ms=settings.batch_wait_ms,
                              max_queue=settings.queue_size, retry_after_s=settings.retry_after_s)
    if settings.engine == "llama_cpp":
        from smallretail_llm.llama_engine import LlamaCppEngine

        assert settings.gguf is not None  # the settings check it
        return LlamaCppEngine(settings.gguf, tokenizer=resolve_model(settings.model),
                              num_threads=settings.num_threads,
                              max_new_tokens=settings.max_new_tokens, batching=batching)
    from smallretail_llm.hf_engine import TransformersEngine

    check_adapters(settings.adapter)
    return TransformersEngine(resolve_model(settings.model), adapters=settings.adapter or None,
                              device=settings.device, num_threads=settings.num_threads,
                              max_new_tokens=settings.max_new_tokens, batching=batching,
                              quantize=None if settings.quantize == "none" else settings.quantize,
                              prefix_cache_mb=settings.prefix_cache_mb)


def serving_engine(settings: Settings) -> Engine:
    """The engine `smallretail serve` runs: a local engine in a process of its own when
    ``settings.engine_process`` (``engine_process.py``), else ``build_engine``'s."""
    if settings.engine_process and settings.engine != "remote":
        from smallretail_llm.engine_process import ProcessEngine

        return ProcessEngine(settings)
    return build_engine(settings)


def build_remote_engine(settings: Settings) -> Engine:
    """A ``RemoteEngine`` for ``settings.remote_url``. The served adapters' prompt versions
    cannot be checked from here: the server's operator keeps them matching (STYLE §7)."""
    from smallretail_llm.circuit import CircuitBreaker
    from smallretail_llm.remote_engine import RemoteEngine

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
    from smallretail_llm.adapter import check_adapter
    from smallretail_llm.prompts import PROMPT_VERSIONS

    expected = [f"{task}.{version}" for task, version in PROMPT_VERSIONS.items()]
    for directory in adapters.values():
        check_adapter(directory, expected)


def warm_up() -> None:
    """Load the Korean morpheme analyzer behind the grounding check now, not on the first
    request (it takes about a second)."""
    from smallretail_llm.grounding import check_description
    from smallretail_llm.record import ProductRecord

    record = ProductRecord(shop_id="warmup", sku="warmup", name="두부", category="processed_food")
    check_description("국산콩 두부입니다.", record)


def serve(settings: Settings, engine: Engine | None = None) -> None:
    """Run the API with uvicorn until interrupted (blocking)."""
    import uvicorn

    from smallretail_llm.api.app import create_app
    from smallretail_llm.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    log.info("loading model", extra={"model": settings.model, "engine": settings.engine,
                                     "adapters": settings.served_adapters()})
    engine = engine or serving_engine(settings)
    warm_up()
    uvicorn.Server(uvicorn_config(create_app(settings, engine), settings)).run()


def uvicorn_config(app, settings: Settings):
    """uvicorn's config for ``app``: read deadlines (slow clients), idle keep-alive timeout and
    the connection cap from ``settings``."""
    import uvicorn

    from smallretail_llm.api.timeouts import protocol

    return uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, access_log=False,
        proxy_headers=True, timeout_graceful_shutdown=10,
        http=protocol(settings.read_timeout_s, settings.body_timeout_s),
        # uvicorn annotates an int, but only hands it to loop.call_later: a float works
        timeout_keep_alive=settings.idle_timeout_s,  # type: ignore[arg-type]
        limit_concurrency=settings.max_connections)


def main() -> None:  # pragma: no cover - exercised by the Docker image and the server test
    try:
        serve(Settings())
    except ModelUnreadable as exc:
        sys.exit(f"오류: {exc}")  # one line, no traceback: the operator fixes a mount


if __name__ == "__main__":  # pragma: no cover
    main()

"""Running the API: ``serve(settings)`` is what `smallretail serve` calls (and the Docker image
runs ``python -m smallretail_llm.serving.api.server``). It configures logging, loads the model, warms
the grounding checker and hands the app to uvicorn."""

from __future__ import annotations

import logging
import sys

from smallretail_llm.serving.engines.engine import Engine
from smallretail_llm.serving.engines.factory import ModelUnreadable, build_engine
from smallretail_llm.serving.settings import Settings

log = logging.getLogger(__name__)


def serving_engine(settings: Settings) -> Engine:
    """The engine `smallretail serve` runs: a local engine in a process of its own when
    ``settings.engine_process`` (``engine_process.py``), else ``build_engine``'s."""
    if settings.engine_process and settings.engine != "remote":
        from smallretail_llm.serving.engines.engine_process import ProcessEngine

        return ProcessEngine(settings)
    return build_engine(settings)


def warm_up() -> None:
    """Load the Korean morpheme analyzer behind the grounding check now, not on the first
    request (it takes about a second)."""
    from smallretail_llm.core.record import ProductRecord
    from smallretail_llm.grounding.check import check_description

    record = ProductRecord(shop_id="warmup", sku="warmup", name="두부", category="processed_food")
    check_description("국산콩 두부입니다.", record)


def serve(settings: Settings, engine: Engine | None = None) -> None:
    """Run the API with uvicorn until interrupted (blocking)."""
    import uvicorn

    from smallretail_llm.serving.api.app import create_app
    from smallretail_llm.serving.logs import configure_logging

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

    from smallretail_llm.serving.api.timeouts import protocol

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

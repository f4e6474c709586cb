"""The HTTP API: ``create_app(settings, engine)`` builds it, ``serve(settings)`` runs it."""

from smallretail_llm.serving.api.app import Services, create_app

__all__ = ["Services", "create_app"]

"""``/docs`` (swagger-ui) and ``/redoc`` with their scripts and styles served from the
``fastapi-offline`` package (pinned in constraints.txt), not from a CDN: the pages work offline
and load no third-party code that could change under them."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from smallretail_llm.serving.api.errors import ApiError

ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
          "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}
PREFIX = "/docs/assets"


def assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).with_name("static")


def install_docs(app: FastAPI, title: str) -> None:
    """Call with an app made with ``docs_url=None, redoc_url=None``."""
    folder = assets_dir()
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=title, oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css", swagger_favicon_url=f"{PREFIX}/favicon.png")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=title,
                              redoc_js_url=f"{PREFIX}/redoc.standalone.js",
                              redoc_favicon_url=f"{PREFIX}/favicon.png", with_google_fonts=False)

    @app.get(PREFIX + "/{asset}", include_in_schema=False)
    def asset(asset: str) -> FileResponse:
        if asset not in ASSETS:
            raise ApiError(404, "not_found", f"문서 파일이 없습니다: {asset}")
        return FileResponse(folder / asset, media_type=ASSETS[asset],
                            headers={"Cache-Control": "public, max-age=86400"})

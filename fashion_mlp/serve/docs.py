"""The API docs (/docs: Swagger UI) from files served here, not from a CDN, so they work
offline. The files come with the `fastapi-offline` package of the `serve` extra. No ReDoc: it
fetches its logo from its maker's CDN."""

from __future__ import annotations

from importlib import resources

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"  # Swagger UI's script, style and icon


def install_docs(app: FastAPI) -> None:
    """Add /docs to `app` (built with docs_url=None, redoc_url=None), its files served here."""
    folder = resources.files(fastapi_offline) / "static"
    app.mount(ASSETS, StaticFiles(directory=str(folder)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )

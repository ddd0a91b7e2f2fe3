"""/docs served from files in the virtualenv: Swagger UI must work without reaching a CDN."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_PREFIX = "/docs-static"


def swagger_ui_directory() -> Path:
    """The Swagger UI files shipped by the `swagger-ui-bundle-v2` package."""
    vendor = Path(str(files("swagger_ui_bundle"))) / "vendor"
    return next(vendor.glob("swagger-ui-*"))


def install_docs(app: FastAPI) -> None:
    """Mount the Swagger UI files and serve /docs with them (create the app with docs_url=None)."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=swagger_ui_directory()), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_PREFIX}/favicon-32x32.png",
        )

"""The workbench: server-rendered pages for every role, on the same services as the JSON API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from pages import (
    assessment,
    audit,
    documents,
    importing,
    item,
    ledger,
    policies,
    signin,
    stats,
    timeline,
    workbench,
)
from pages.errors import install_page_errors
from pages.web import HERE, SESSION_COOKIE, session_secret
from settings import Settings


def install_pages(app: FastAPI, settings: Settings) -> None:
    """Mount the static assets, the pages' routers, their session cookie and their error pages."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_ttl_seconds,
        same_site="lax",
        https_only=settings.environment == "production",
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # importing before item: /items/import is not an item id.
    for module in (signin, workbench, ledger, importing, item, audit, policies, assessment, stats, documents):
        app.include_router(module.router)
    install_page_errors(app)
    timeline.install()

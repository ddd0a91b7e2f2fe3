"""The HTTP API's assembly: routers, middleware, error mapping and docs on one FastAPI app.

What the handlers use (engine, Temporal client, stores) is built by the composition root in the
app's lifespan: `bootstrap.create_app` is the factory; this module knows nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from api import (
    assessment,
    audit,
    documents,
    exports,
    health,
    importing,
    item_actions,
    items,
    notifications,
    people,
    policies,
    stats,
)
from api.auth import authenticate_first
from api.body_limit import BodyLimitMiddleware
from api.docs import install_docs
from api.errors import install_error_handlers
from api.request_log import RequestLogMiddleware
from telemetry.api_metrics import install_metrics

DESCRIPTION = """督办 — supervision closed loops as durable workflows.

Sign in with a bearer token: `duban token USER_ID` prints one (`duban users` lists the users).
"""


def build_api(lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]) -> FastAPI:
    """The API's routes and middleware; `lifespan` must set `app.state.services` (api.services)."""
    app = FastAPI(
        title="duban 督办",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app, authenticate_first=authenticate_first)
    app.add_middleware(BodyLimitMiddleware)
    install_metrics(app)  # outside the body limit: its 413s are counted too
    # Added last, so outermost: its line records every answer, those of the error middleware too.
    app.add_middleware(RequestLogMiddleware)
    install_docs(app)
    # Before items: /api/items/export.xlsx and /api/items/import/… are not item ids.
    app.include_router(exports.router)
    app.include_router(importing.router)
    app.include_router(documents.router)
    for module in (items, item_actions, audit, people, notifications, policies, stats, assessment, health):
        app.include_router(module.router)
    return app

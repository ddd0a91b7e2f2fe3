"""The app factory: one engine and one Temporal client per app, built in its lifespan (by `bootstrap`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from api import audit, exports, health, item_actions, items, notifications, people, policies, stats
from api.auth import authenticate_first
from api.body_limit import BodyLimitMiddleware
from api.docs import install_docs
from api.errors import install_error_handlers
from api.request_log import RequestLogMiddleware
from bootstrap import api_services, connect_temporal
from settings import Settings
from store.db import make_engine
from telemetry.api_metrics import install_metrics
from telemetry.tracing import (
    API_SERVICE,
    otlp_tracer_provider,
    trace_app,
    trace_engine,
)

DESCRIPTION = """督办 — supervision closed loops as durable workflows.

Sign in with a bearer token: `duban token USER_ID` prints one (`duban users` lists the users).
"""


def create_app(
    settings: Settings,
    *,
    temporal_client: Client | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The HTTP API; pass `temporal_client` to reuse a connected client (tests).

    Traced when `tracer_provider` is given (tests) or OTEL_EXPORTER_OTLP_ENDPOINT is set; a
    given client must then carry the tracing interceptor itself.
    """
    tracer_provider = tracer_provider or otlp_tracer_provider(settings, API_SERVICE)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        trace_engine(engine, tracer_provider)
        try:
            # Lazy: the API starts even while Temporal is down (/readyz says so).
            client = temporal_client or await connect_temporal(
                settings, lazy=True, tracer_provider=tracer_provider
            )
            app.state.services = api_services(settings, engine, client)
            yield
        finally:
            await engine.dispose()

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
    # Before items: /api/items/export.xlsx is not an item id.
    app.include_router(exports.router)
    for module in (items, item_actions, audit, people, notifications, policies, stats, health):
        app.include_router(module.router)
    # Imported here: the pages import the API's handlers, so `pages` may be the first one imported.
    from pages import install_pages  # noqa: PLC0415

    install_pages(app, settings)
    trace_app(app, tracer_provider)  # wraps the whole stack: the request line runs inside its span
    return app

"""OpenTelemetry traces: HTTP request → Temporal update → workflow → activities → SQL statements.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (or a test hands in its own provider). The
parts are the ecosystem's: FastAPI's and SQLAlchemy's instrumentations, and the Temporal SDK's
`TracingInterceptor`, which carries the context in Temporal headers and creates the workflow's
spans through the sandbox's extern functions, only when not replaying, so the workflow stays
deterministic. The provider is passed explicitly, never set globally: a process (or a test
session) may run traced and untraced apps side by side.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.contrib.opentelemetry import TracingInterceptor

from settings import Settings

API_SERVICE = "duban-api"
WORKER_SERVICE = "duban-worker"
# Probes and scrapes every few seconds would drown the traces people look for.
UNTRACED_PATHS = "healthz,readyz,metrics"


def otlp_tracer_provider(settings: Settings, service: str) -> TracerProvider | None:
    """A provider exporting over OTLP/HTTP in batches when the endpoint is set; None: tracing is off."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    # The endpoint is the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT means it.
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def temporal_interceptors(provider: TracerProvider | None) -> list[TracingInterceptor]:
    """The client interceptors of a traced process (a worker built on that client gets them too)."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("temporalio.contrib.opentelemetry"))]


def trace_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """One server span per request, named by its route template (never by an item id)."""
    if provider is not None:
        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED_PATHS)


def trace_engine(engine: AsyncEngine, provider: TracerProvider | None) -> None:
    """A span per SQL statement on `engine`.

    The instrumentor's `instrument(engine=…)` is a process-wide switch that takes one engine
    once; the API and each worker (and each test) make their own engines, so each is traced
    with the instrumentation's own per-engine tracer. Connection-pool metrics are not wanted
    here (the OpenTelemetry meter is not exported), hence the no-op meter.
    """
    if provider is None:
        return
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = NoOpMeter("duban").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]  # the library is untyped

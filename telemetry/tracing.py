"""OpenTelemetry traces: HTTP request → Temporal update → workflow → activities → SQL statements.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (or a test hands in its own provider). The
parts are the ecosystem's: FastAPI's and SQLAlchemy's instrumentations, and the Temporal SDK's
`TracingInterceptor`, which carries the context in Temporal headers and creates the workflow's
spans through the sandbox's extern functions, only when not replaying, so the workflow stays
deterministic. Its one customisation (by subclassing, the way its docs prescribe) makes an
update's work part of the caller's trace instead of a link from the workflow's own trace.
The provider is passed explicitly, never set globally: a process (or a test session) may run
traced and untraced apps side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import opentelemetry.context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.common.v1 import Payload
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import HandleUpdateInput, WorkflowInterceptorClassInput

from settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

API_SERVICE = "duban-api"
WORKER_SERVICE = "duban-worker"
# Probes and scrapes every few seconds would drown the traces people look for.
UNTRACED_PATHS = "healthz,readyz,metrics"


def otlp_tracer_provider(settings: Settings, service: str) -> TracerProvider | None:
    """A provider exporting over OTLP/HTTP in batches when the endpoint is set; None: tracing is off."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return None
    # The exporter and the instrumentations are imported only by a traced process: an untraced
    # worker would otherwise carry FastAPI and the exporters in its memory (bench/RESULTS.md, figure 6).
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    # The endpoint is the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT means it.
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@dataclass
class _SpanCarrier:
    """Receives the context of a span the stock interceptor makes (it writes it into `headers`)."""

    headers: Mapping[str, Payload] = field(default_factory=dict)


class _UpdateTracingWorkflowInterceptor(TracingWorkflowInboundInterceptor):
    """Runs each update's validator and handler under the update's own trace context.

    The stock interceptor runs every handler under the context of the request that *started*
    the workflow and only links the update's span to its caller: an action months after the
    opening would land in the opening's trace. An item's actions are updates, so here the
    handler's span is a child of the caller's, and what the handler schedules (activities, and
    their SQL) are children of the handler's span. Spans are still made through the stock
    extern function, never while replaying.
    """

    def _under_update(self, input: HandleUpdateInput, span_name: str) -> opentelemetry.context.Context | None:
        """The update's span made as a child of its caller's; the context to run the handler in."""
        header = input.headers.get(self.header_key)
        if header is None:
            return None
        caller = self.text_map_propagator.extract(self.payload_converter.from_payloads([header])[0])
        made = _SpanCarrier()
        token = opentelemetry.context.attach(caller)
        try:
            self._completed_span(span_name, kind=SpanKind.SERVER, add_to_outbound=made)
        finally:
            opentelemetry.context.detach(token)
        span_header = made.headers.get(self.header_key)
        if span_header is None:  # replaying: no span was made
            return caller
        return self.text_map_propagator.extract(self.payload_converter.from_payloads([span_header])[0])

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        context = self._under_update(input, f"ValidateUpdate:{input.update}")
        if context is None:
            return super().handle_update_validator(input)
        token = opentelemetry.context.attach(context)
        try:
            # The stock validator would re-attach the workflow's context: go past it to the next one.
            return self.next.handle_update_validator(input)
        finally:
            opentelemetry.context.detach(token)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        context = self._under_update(input, f"HandleUpdate:{input.update}")
        if context is None:
            return await super().handle_update_handler(input)
        token = opentelemetry.context.attach(context)
        try:
            return await self.next.handle_update_handler(input)
        finally:
            opentelemetry.context.detach(token)


class _UpdateTracingInterceptor(TracingInterceptor):
    """The SDK's tracing interceptor with update handlers traced as part of their caller's trace."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the extern function spans are made through
        return _UpdateTracingWorkflowInterceptor


def temporal_interceptors(provider: TracerProvider | None) -> list[TracingInterceptor]:
    """The client interceptors of a traced process (a worker built on that client gets them too)."""
    if provider is None:
        return []
    return [_UpdateTracingInterceptor(provider.get_tracer("temporalio.contrib.opentelemetry"))]


def trace_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """One server span per request, named by its route template (never by an item id)."""
    if provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: PLC0415 — traced only

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
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer  # noqa: PLC0415 — traced only
    from opentelemetry.metrics import NoOpMeter  # noqa: PLC0415

    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = NoOpMeter("duban").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]  # the library is untyped

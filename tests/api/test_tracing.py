"""One action is one trace: HTTP request → Temporal update → workflow → activity → SQL, in memory."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bootstrap import build_worker, create_app
from logs import add_trace_ids
from settings import TEST_ACTION_KEY
from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.org import OrgDirectory
from telemetry.tracing import temporal_interceptors, trace_engine
from tests.api.conftest import LEAD, Api, app_settings

QUIET_SECONDS = 0.5
QUIET_TIMEOUT_SECONDS = 20.0


@dataclass
class Traced:
    """A traced app, and how to run a traced worker for it."""

    api: Api
    client: Client

    def worker(self) -> Worker:
        """A fresh worker for the app's queue: it knows no item's chain head yet."""
        return build_worker(
            self.client, self.api.settings.task_queue, self.api.sessions, action_key=TEST_ACTION_KEY
        )


@asynccontextmanager
async def traced(database_url: str, plain: Client, provider: TracerProvider) -> AsyncIterator[Traced]:
    """The app and its database traced into `provider`, and a traced client, as the services wire them."""
    client = await Client.connect(
        plain.service_client.config.target_host,
        namespace=plain.namespace,
        data_converter=pydantic_data_converter,
        interceptors=temporal_interceptors(provider),
    )
    engine = make_engine(database_url)
    trace_engine(engine, provider)
    sessions = make_sessions(engine)
    queue = f"duban-test-{uuid.uuid4()}"
    try:
        await OrgDirectory(sessions).load(DEMO_ORG)
        settings = app_settings(database_url, queue)
        app = create_app(settings, temporal_client=client, tracer_provider=provider)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://duban.test") as http,
        ):
            yield Traced(Api(http, settings, sessions), client)
    finally:
        await engine.dispose()


async def _quiet(api: Api, item_id: str) -> None:
    """Wait until the item's opening has finished writing (its ladder's first notices go out after)."""
    count, quiet_since = -1, time.monotonic()
    deadline = time.monotonic() + QUIET_TIMEOUT_SECONDS
    while time.monotonic() - quiet_since < QUIET_SECONDS:
        assert time.monotonic() < deadline, f"item {item_id} kept writing events"
        if (now := await api.event_count(item_id)) != count:
            count, quiet_since = now, time.monotonic()
        await asyncio.sleep(0.05)


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """The names from `span` up to its trace's root."""
    names = [span.name]
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


def _is_sql(span: ReadableSpan) -> bool:
    attributes = span.attributes or {}
    return "db.system" in attributes or "db.system.name" in attributes


def _one_trace(spans: Sequence[ReadableSpan], root_name: str) -> tuple[ReadableSpan, list[ReadableSpan]]:
    (root,) = [span for span in spans if span.name == root_name]
    return root, [span for span in spans if span.context.trace_id == root.context.trace_id]


async def test_an_action_is_one_trace_from_the_request_to_its_sql_statements(
    database_url: str, temporal_client: Client
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with traced(database_url, temporal_client, provider) as running:
        async with running.worker():
            item = await running.api.open()
            await _quiet(running.api, item["id"])
        exporter.clear()
        # A worker that has not seen the item reads its chain head through SQLAlchemy (a warm one
        # appends through the bare driver, which no instrumentation sees), and replays its history
        # first: replayed work must make no spans.
        async with running.worker():
            with structlog.testing.capture_logs(processors=[add_trace_ids]) as lines:
                signed = await running.api.act(item["id"], "sign_for", LEAD)
        assert signed.status_code == 200, signed.text

    root, spans = _one_trace(exporter.get_finished_spans(), "POST /api/items/{item_id}/actions/sign_for")
    by_id = {span.context.span_id: span for span in spans}
    names = {span.name for span in spans}
    assert {"StartWorkflowUpdate:act", "ValidateUpdate:act", "HandleUpdate:act"} <= names, names
    assert "RunActivity:append_events" in names, names

    # SQL statements of the worker's activities hang under the request, through Temporal.
    chains = [_ancestors(span, by_id) for span in spans if _is_sql(span)]
    through_temporal = [chain for chain in chains if any(n.startswith("RunActivity:") for n in chain)]
    assert through_temporal, f"no SQL span under an activity: {chains}"
    chain = through_temporal[0]
    assert chain[-1] == root.name
    assert chain[1:] == [
        "RunActivity:append_events",
        "StartActivity:append_events",
        "HandleUpdate:act",
        "StartWorkflowUpdate:act",
        root.name,
    ], chain
    # The API's own statements (the item's visibility check) are in the trace too.
    assert any(chain[1:] == [root.name] for chain in chains)

    # The request's log line names the trace it belongs to.
    (line,) = [line for line in lines if line["event"] == "request"]
    assert line["trace_id"] == trace.format_trace_id(root.context.trace_id)


async def test_an_untraced_app_logs_no_trace_id(api: Api) -> None:
    with structlog.testing.capture_logs(processors=[add_trace_ids]) as lines:
        response = await api.http.get("/readyz")
    assert response.status_code == 200
    (line,) = [line for line in lines if line["event"] == "request"]
    assert "trace_id" not in line

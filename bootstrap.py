"""The composition root: every process's dependencies are built here, and only here.

- `connect_temporal`: the one Temporal client factory (namespace, TLS from settings, the
  pydantic data converter, tracing) used by the API, the worker, `duban doctor`, `duban up` and
  the audit commands.
- `create_app`: the HTTP API (`api.app.build_api`) and the pages, with their engine, client and
  stores (`api_services`) opened and closed in the app's lifespan.
- `notify_activities`, `build_worker`, `checkpoint_worker`: the activities get their stores
  handed in, and every worker is made by `_worker` with the same shutdown grace.
- `run_worker`: the worker process (`duban worker`), which owns and closes its engine and its
  HTTP client.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.runtime import Runtime
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.audit import AuditActivities
from activities.checkpoint import CheckpointActivities
from activities.dues import count_dues
from activities.key_sweep import KeySweepActivities
from activities.ladder import LadderActivities
from activities.notify import ChannelSettings, NotifyActivities
from activities.rhythms import RhythmActivities, RhythmSettings
from audit.keys import load_signer
from audit.schedule import checkpoint_queue, ensure_checkpoint_schedule
from ledger.checkpoint import Signer
from settings import Settings
from store.db import make_engine, make_sessions
from store.digest_queue import DigestQueue
from store.event_log import EventLog
from store.inbox import Inbox
from store.ledger import Ledger
from store.numbers import ItemNumbers
from store.org import OrgDirectory
from store.policies import PolicyStore
from telemetry.runtime import build_runtime
from telemetry.tracing import (
    API_SERVICE,
    WORKER_SERVICE,
    otlp_tracer_provider,
    temporal_interceptors,
    trace_engine,
)
from telemetry.worker_metrics import HISTOGRAMS, MetricsInterceptor, WorkerMetrics
from workflows.checkpoint import CheckpointWorkflow
from workflows.digest import DigestWorkflow
from workflows.digest_schedule import ensure_digest_schedule
from workflows.item import SupervisionItemWorkflow
from workflows.key_sweep import KeySweepWorkflow, ensure_key_sweep_schedule
from workflows.rhythm_schedule import ensure_rhythm_schedules
from workflows.rhythms import RhythmWorkflow
from workflows.signing import RequestSignatures

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.services import Services

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE = timedelta(seconds=10)
# The API's client gives up a TCP connect that hangs (a Temporal host gone from the network) after
# this, so the request answers 503 instead of waiting for the OS; workers keep the SDK's default.
API_TEMPORAL_CONNECT_TIMEOUT = timedelta(seconds=3)
# The workflow modules are imported once, not again for every workflow run the sandbox starts:
# each cached item paid ~30 KiB for its own copy of workflows/item.py (bench/RESULTS.md, figure 6).
# Safe because no module under workflows/ keeps state at module level; everything those
# modules import is passed through already.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
)

# -- Temporal ---------------------------------------------------------------------------------

# One JSON converter, and so one cache of TypeAdapters, for the whole process.
_PYDANTIC_JSON = PydanticJSONPlainPayloadConverter()


class SharedPydanticPayloadConverter(CompositePayloadConverter):
    """The SDK's `PydanticPayloadConverter`, whose pydantic JSON converter is one per process.

    The SDK makes a payload converter for every workflow run; the stock one brings its own
    TypeAdapter cache, so each cached run built and kept its own adapters (bench/RESULTS.md,
    figure 6). The other encodings are shared instances in the SDK already; the bytes are the same.
    """

    def __init__(self) -> None:
        super().__init__(
            *(
                _PYDANTIC_JSON if isinstance(converter, JSONPlainPayloadConverter) else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)


async def connect_temporal(
    settings: Settings,
    *,
    lazy: bool = False,
    runtime: Runtime | None = None,
    tracer_provider: TracerProvider | None = None,
    connect_timeout: timedelta | None = None,
) -> Client:
    """A Temporal client for `settings`: its namespace and TLS, the project's pydantic data converter.

    `lazy`: connect on first use (the API starts even while Temporal is down; /readyz says so).
    `connect_timeout`: how long a connect may take (the SDK's default when None).
    Traced when given a provider: the interceptor then applies to every worker built on the client.
    Raises RuntimeError when Temporal cannot be reached (not lazy).
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        tls=settings.temporal_tls(),
        lazy=lazy,
        runtime=runtime,
        interceptors=temporal_interceptors(tracer_provider),
        connect_timeout=connect_timeout,
    )


async def temporal_answers(settings: Settings) -> bool:
    """Whether Temporal accepts a connection with these settings now."""
    try:
        await connect_temporal(settings)
    except RuntimeError:
        return False
    return True


# -- the API ----------------------------------------------------------------------------------


def create_app(
    settings: Settings,
    *,
    temporal_client: Client | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The HTTP API and the pages; pass `temporal_client` to reuse a connected client (tests).

    One engine and one Temporal client per app, built in its lifespan and closed with it. Traced
    when `tracer_provider` is given (tests) or OTEL_EXPORTER_OTLP_ENDPOINT is set; a given client
    must then carry the tracing interceptor itself.
    """
    # The API's modules (FastAPI, the routers, the pages) are imported here, not at the top: the
    # worker shares this module and would otherwise carry them all (bench/RESULTS.md, figure 6).
    from api.app import build_api  # noqa: PLC0415
    from pages import install_pages  # noqa: PLC0415
    from telemetry.tracing import trace_app  # noqa: PLC0415

    tracer_provider = tracer_provider or otlp_tracer_provider(settings, API_SERVICE)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        trace_engine(engine, tracer_provider)
        try:
            # Lazy: the API starts even while Temporal is down (/readyz says so).
            client = temporal_client or await connect_temporal(
                settings,
                lazy=True,
                tracer_provider=tracer_provider,
                connect_timeout=API_TEMPORAL_CONNECT_TIMEOUT,
            )
            app.state.services = api_services(settings, engine, client)
            yield
        finally:
            await engine.dispose()

    app = build_api(lifespan)
    install_pages(app, settings)
    trace_app(app, tracer_provider)  # wraps the whole stack: the request line runs inside its span
    return app


def api_services(settings: Settings, engine: AsyncEngine, temporal: Client) -> Services:
    """The API's stores and gateway, wired onto one engine and one client."""
    from api.gateway import ItemGateway  # noqa: PLC0415 — the API's modules, as in create_app
    from api.services import Services  # noqa: PLC0415
    from store.idempotency import IdempotencyKeys  # noqa: PLC0415
    from store.items import ItemQueries  # noqa: PLC0415

    sessions = make_sessions(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        temporal=temporal,
        events=EventLog(sessions),
        items=ItemQueries(sessions),
        org=OrgDirectory(sessions),
        gateway=ItemGateway(
            temporal, settings.task_queue, settings.action_timeout_seconds, settings.resolved_action_key()
        ),
        idempotency=IdempotencyKeys(sessions, timedelta(hours=settings.idempotency_key_ttl_hours)),
    )


# -- workers ----------------------------------------------------------------------------------


def notify_activities(
    sessions: async_sessionmaker[AsyncSession],
    channels: ChannelSettings | None = None,
    http: httpx.AsyncClient | None = None,
) -> NotifyActivities:
    """The notify activities on their stores. Without `channels` and `http`: the inbox only."""
    return NotifyActivities(
        OrgDirectory(sessions), Inbox(sessions), DigestQueue(sessions), channels or ChannelSettings(), http
    )


def _worker(
    client: Client,
    task_queue: str,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        interceptors=interceptors,
        workflow_runner=WORKFLOW_RUNNER,
        graceful_shutdown_timeout=SHUTDOWN_GRACE,
    )


def build_worker(
    client: Client,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    audit: AuditActivities | None = None,
    notify: NotifyActivities | None = None,
    *,
    action_key: bytes,
    ladder: LadderActivities | None = None,
    rhythms: RhythmActivities | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    """A worker for the item, digest, rhythm and key-sweep workflows and their activities, on one database.

    Actions must carry the API's signature under `action_key`. Without `notify`, notices reach
    the inbox only: no SMTP server, no robots, no HTTP client. `interceptors` run outside the
    signature check (metrics).
    """
    activities = audit or AuditActivities(EventLog(sessions), ItemNumbers(sessions))
    notify = notify or notify_activities(sessions)
    ladder = ladder or LadderActivities(PolicyStore(sessions))
    rhythms = rhythms or RhythmActivities(sessions, RhythmSettings())
    sweep = KeySweepActivities(sessions)
    return _worker(
        client,
        task_queue,
        [SupervisionItemWorkflow, DigestWorkflow, RhythmWorkflow, KeySweepWorkflow],
        [
            activities.append_events,
            activities.allocate_number,
            count_dues,
            notify.plan_deliveries,
            notify.deliver_notification,
            notify.collect_digests,
            notify.send_digest,
            ladder.choose_policy,
            ladder.arm_ladders,
            rhythms.run_rhythm,
            sweep.sweep_idempotency_keys,
        ],
        [*interceptors, RequestSignatures(action_key)],
    )


def checkpoint_worker(
    client: Client, task_queue: str, sessions: async_sessionmaker[AsyncSession], signer: Signer
) -> Worker:
    """A worker for CheckpointWorkflow and its activity, on the checkpoint queue of `task_queue`."""
    activities = CheckpointActivities(Ledger(sessions), signer)
    return _worker(client, checkpoint_queue(task_queue), [CheckpointWorkflow], [activities.make_checkpoint])


async def run_worker(settings: Settings) -> None:
    """Run the worker until SIGINT or SIGTERM, then finish in-flight tasks and stop."""
    channels = ChannelSettings.from_settings(settings)  # a bad robot secrets file stops the start here
    # The SDK's metrics and duban's on one endpoint (WORKER_METRICS_ADDRESS), the core's logs forwarded.
    runtime = build_runtime(settings.worker_metrics_address, HISTOGRAMS)
    engine = make_engine(settings.resolved_database_url, pre_ping=False)  # activities retry
    metrics = WorkerMetrics(runtime.metric_meter)
    tracer_provider = otlp_tracer_provider(settings, WORKER_SERVICE)
    trace_engine(engine, tracer_provider)
    try:
        client = await connect_temporal(settings, runtime=runtime, tracer_provider=tracer_provider)
        sessions = make_sessions(engine)
        await ensure_digest_schedule(client, settings.task_queue, settings.digest_cron)
        await ensure_rhythm_schedules(client, settings.task_queue, settings.rhythm_cron)
        await ensure_key_sweep_schedule(client, settings.task_queue, settings.idempotency_key_ttl_hours)
        signer = load_signer(settings, create_if_missing=True)  # embedded: created in the data dir
        every = timedelta(minutes=settings.checkpoint_every_minutes)
        await ensure_checkpoint_schedule(client, settings.task_queue, every)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with (
            httpx.AsyncClient(timeout=channels.webhook_timeout_seconds) as http,
            build_worker(
                client,
                settings.task_queue,
                sessions,
                notify=notify_activities(sessions, channels, http),
                action_key=settings.resolved_action_key(),
                rhythms=RhythmActivities(
                    sessions,
                    RhythmSettings(
                        settings.rhythm_workday, settings.document_template, settings.assessment_template
                    ),
                ),
                interceptors=[MetricsInterceptor(metrics)],
            ),
            checkpoint_worker(client, settings.task_queue, sessions, signer),
        ):
            log.info(
                "worker started",
                task_queue=settings.task_queue,
                temporal=settings.temporal_address,
                metrics=settings.worker_metrics_address or None,
                tracing=tracer_provider is not None,
            )
            await stop.wait()
            log.info("worker stopping")
    finally:
        await engine.dispose()

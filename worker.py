"""Composition root of the worker: settings → logging → database → Temporal client → Worker."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from datetime import timedelta

import httpx
import structlog
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.worker import Interceptor, Worker

from activities.audit import AuditActivities
from activities.ladder import LadderActivities
from activities.notify import ChannelSettings, NotifyActivities
from activities.rhythms import RhythmActivities, RhythmSettings
from audit.keys import load_signer
from audit.schedule import checkpoint_worker, ensure_checkpoint_schedule
from settings import Settings
from store.db import make_engine, make_sessions
from store.event_log import EventLog
from store.numbers import ItemNumbers
from store.policies import PolicyStore
from telemetry.runtime import build_runtime
from telemetry.tracing import WORKER_SERVICE, otlp_tracer_provider, temporal_interceptors, trace_engine
from telemetry.worker_metrics import HISTOGRAMS, MetricsInterceptor, WorkerMetrics
from workflows.digest import DigestWorkflow
from workflows.digest_schedule import ensure_digest_schedule
from workflows.item import SupervisionItemWorkflow
from workflows.rhythm_schedule import ensure_rhythm_schedules
from workflows.rhythms import RhythmWorkflow
from workflows.signing import RequestSignatures

log = structlog.get_logger(__name__)


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
    """A worker for the item, digest and rhythm workflows and their activities, bound to one database.

    Actions must carry the API's signature under `action_key`. Without `notify`, notices reach
    the inbox only: no SMTP server, robots off, and no HTTP client is ever used. `interceptors`
    run outside the signature check (metrics).
    """
    activities = audit or AuditActivities(EventLog(sessions), ItemNumbers(sessions))
    notify = notify or NotifyActivities(sessions, ChannelSettings(), httpx.AsyncClient())
    ladder = ladder or LadderActivities(PolicyStore(sessions))
    rhythms = rhythms or RhythmActivities(sessions, RhythmSettings())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[SupervisionItemWorkflow, DigestWorkflow, RhythmWorkflow],
        activities=[
            activities.append_events,
            activities.allocate_number,
            notify.plan_deliveries,
            notify.deliver_notification,
            notify.collect_digests,
            notify.send_digest,
            ladder.choose_policy,
            ladder.arm_ladders,
            rhythms.run_rhythm,
        ],
        interceptors=[*interceptors, RequestSignatures(action_key)],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def connect(
    settings: Settings, *, runtime: Runtime | None = None, tracer_provider: TracerProvider | None = None
) -> Client:
    """A Temporal client speaking the project's pydantic data converter (traced when given a provider:
    the interceptor then applies to every worker built on this client)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=settings.temporal_tls(),
        runtime=runtime,
        interceptors=temporal_interceptors(tracer_provider),
    )


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
        client = await connect(settings, runtime=runtime, tracer_provider=tracer_provider)
        sessions = make_sessions(engine)
        await ensure_digest_schedule(client, settings.task_queue, settings.digest_cron)
        await ensure_rhythm_schedules(client, settings.task_queue, settings.rhythm_cron)
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
                notify=NotifyActivities(sessions, channels, http),
                action_key=settings.resolved_action_key(),
                rhythms=RhythmActivities(
                    sessions, RhythmSettings(settings.rhythm_workday, settings.document_template)
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

"""Composition root of the worker: settings → logging → database → Temporal client → Worker."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.audit import AuditActivities
from settings import Settings
from store.db import make_engine, make_sessions
from store.event_log import EventLog
from store.numbers import ItemNumbers
from workflows.item import SupervisionItemWorkflow

log = structlog.get_logger(__name__)


def build_worker(
    client: Client,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    audit: AuditActivities | None = None,
) -> Worker:
    """A worker for the item workflow and its activities, bound to one database."""
    activities = audit or AuditActivities(EventLog(sessions), ItemNumbers(sessions))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[SupervisionItemWorkflow],
        activities=[activities.append_events, activities.allocate_number],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def connect(settings: Settings) -> Client:
    """A Temporal client speaking the project's pydantic data converter."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


async def run_worker(settings: Settings) -> None:
    """Run the worker until SIGINT or SIGTERM, then finish in-flight tasks and stop."""
    engine = make_engine(settings.resolved_database_url)
    try:
        client = await connect(settings)
        worker = build_worker(client, settings.task_queue, make_sessions(engine))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with worker:
            log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
            await stop.wait()
            log.info("worker stopping")
    finally:
        await engine.dispose()

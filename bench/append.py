"""Figure 2 — audit append: EventLog.append vs a raw INSERT of a row of the same size.

The service's append reads the chain head, checks for a retry, hashes, inserts and updates the
read model, in one transaction. The baseline inserts the same row values into a copy of the
table (same columns, constraints and indexes; no read model) in its own transaction, with the
bare driver (asyncpg, aiosqlite). One event per append, as the workflow appends one action's
events; `writers` tasks append to their own items concurrently.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.exc import OperationalError

from bench.env import asyncpg_dsn, fresh_postgres, fresh_sqlite
from bench.runner import Figure, Row, Stopwatch
from bench.story import item_events, retarget
from domain.events import RecordedEvent
from store.db import make_engine, make_sessions
from store.event_log import EventLog

TARGET = 1.3
RAW_TABLE = "bench_raw_events"
_COLUMNS = (
    "event_id, item_id, seq, type, stage, actor_id, actor_role, actor_unit, actor_name, occurred_at, "
    "payload, prev_hash, hash"
)
# Constant SQL: a table name of ours and numbered placeholders.
_INSERT_PG = f"INSERT INTO {RAW_TABLE} ({_COLUMNS}) VALUES ({', '.join(f'${n}' for n in range(1, 14))})"  # noqa: S608
_INSERT_SQLITE = f"INSERT INTO {RAW_TABLE} ({_COLUMNS}) VALUES ({', '.join('?' * 13)})"  # noqa: S608
_HASH = "f" * 64


def workloads(writers: int, items_per_writer: int) -> list[list[RecordedEvent]]:
    """Each writer's events: its own items' closed loops, one after another."""
    template = item_events("template", "DB-2026-000001")
    return [
        [event for _ in range(items_per_writer) for event in retarget(template, str(uuid.uuid4()))]
        for _ in range(writers)
    ]


def raw_values(event: RecordedEvent, sqlite: bool) -> tuple[Any, ...]:
    """The row the service would write for `event`, as driver parameters."""
    occurred: Any = event.occurred_at
    if sqlite:
        occurred = (
            event.occurred_at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    payload = json.dumps(event.canonical()["payload"], ensure_ascii=False)
    actor = event.actor
    return (
        event.id,
        event.item_id,
        event.seq,
        event.type,
        event.stage.value,
        actor.id,
        actor.role.value,
        actor.unit,
        actor.name,
        occurred,
        payload,
        _HASH,
        _HASH,
    )


async def _concurrently(jobs: Sequence[Callable[[], Awaitable[None]]]) -> float:
    with Stopwatch() as watch:
        await asyncio.gather(*(job() for job in jobs))
    return watch.seconds


async def service_seconds(url: str, work: list[list[RecordedEvent]]) -> float:
    """Seconds for the writers to append their events one by one through EventLog.append."""
    engine = make_engine(url, pre_ping=False)  # as the worker makes it
    log = EventLog(make_sessions(engine))

    def writer(events: list[RecordedEvent]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            for event in events:
                await log.append([event])

        return run

    try:
        await log.append(workloads(1, 1)[0][:1])  # connect and warm the statement caches
        return await _concurrently([writer(events) for events in work])
    finally:
        await engine.dispose()


async def postgres_raw_seconds(url: str, work: list[list[RecordedEvent]]) -> float:
    """Seconds for the same writers to INSERT the same rows with asyncpg, one transaction each."""
    dsn = asyncpg_dsn(url)
    setup = await asyncpg.connect(dsn)
    try:
        await setup.execute(f"CREATE TABLE {RAW_TABLE} (LIKE audit_events INCLUDING ALL)")
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=len(work), max_size=len(work))

    def writer(events: list[RecordedEvent]) -> Callable[[], Awaitable[None]]:
        rows = [raw_values(event, sqlite=False) for event in events]

        async def run() -> None:
            async with pool.acquire() as connection:
                for row in rows:
                    async with connection.transaction():
                        await connection.execute(_INSERT_PG, *row)

        return run

    try:
        return await _concurrently([writer(events) for events in work])
    finally:
        await pool.close()


async def sqlite_raw_seconds(url: str, work: list[list[RecordedEvent]]) -> float:
    """Seconds for the same writers to INSERT the same rows with aiosqlite (WAL, BEGIN IMMEDIATE)."""
    path = Path(url.split("///", 1)[1])
    async with aiosqlite.connect(path) as setup:
        schema = await setup.execute_fetchall(
            "SELECT sql FROM sqlite_master "
            "WHERE tbl_name = 'audit_events' AND type IN ('table', 'index') AND sql IS NOT NULL"
        )
        for (sql,) in schema:
            await setup.execute(sql.replace("audit_events", RAW_TABLE))
        await setup.commit()

    def writer(events: list[RecordedEvent]) -> Callable[[], Awaitable[None]]:
        rows = [raw_values(event, sqlite=True) for event in events]

        async def run() -> None:
            async with aiosqlite.connect(path, isolation_level=None) as connection:
                for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
                    await connection.execute(f"PRAGMA {pragma}")
                for row in rows:
                    await connection.execute("BEGIN IMMEDIATE")
                    await connection.execute(_INSERT_SQLITE, row)
                    await connection.execute("COMMIT")

        return run

    return await _concurrently([writer(events) for events in work])


async def measure(items_per_writer: int) -> list[Figure]:
    """Per-event append time, service vs raw, with 1 and 8 writers on PostgreSQL and SQLite."""
    figures = []
    for backend, fresh, raw in (
        ("postgres", fresh_postgres, postgres_raw_seconds),
        ("sqlite", fresh_sqlite, sqlite_raw_seconds),
    ):
        for writers in (1, 8):
            per_writer = max(1, items_per_writer // writers)
            work = workloads(writers, per_writer)
            events = sum(len(events) for events in work)
            name = f"append_{backend}_w{writers}"
            async with fresh() as url:
                raw_ms = await raw(url, work) / events * 1000
                try:
                    service_ms = await service_seconds(url, work) / events * 1000
                except OperationalError as error:
                    # A failed append is a finding to print, not a reason to lose the other figures.
                    reason = str(error.orig).splitlines()[0]
                    figures.append(Figure(name=name, value=None, unit="ms/event", note=f"failed ({reason})"))
                    continue
            ratio = service_ms / raw_ms
            figures.append(
                Figure(
                    name=name,
                    value=service_ms,
                    unit="ms/event",
                    ratio=ratio,
                    baseline=f"raw_{'asyncpg' if backend == 'postgres' else 'aiosqlite'}_insert",
                    target=f"ratio <= {TARGET}",
                    met=ratio <= TARGET,
                    rows=(
                        Row(
                            f"{backend}, {writers} writer(s): EventLog.append",
                            service_ms,
                            "ms/event",
                            f"{events} events",
                        ),
                        Row(f"{backend}, {writers} writer(s): raw INSERT + COMMIT", raw_ms, "ms/event"),
                        Row(f"{backend}, {writers} writer(s): ratio", ratio, "x"),
                    ),
                )
            )
    return figures

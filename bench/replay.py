"""Figure 3 — replay and verify: the whole log's hash-chain verification and fold vs a raw SELECT.

Events are generated straight into audit_events (COPY), as the service would have chained them:
the real domain's closed loop, re-keyed per item, hashed over RFC 8785 JSON. The service's
work is EventLog.verify_all (stream, parse, re-hash, check links and seq) plus folding every
item's events into its state with the domain's fold; the baseline streams the same rows with a
bare asyncpg cursor. One Python process: events/s is per core.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import rfc8785

from bench.env import asyncpg_dsn, fresh_postgres
from bench.runner import Figure, Row, Stopwatch
from bench.story import item_events
from domain.fold import evolve
from domain.state import ItemState
from ledger.hashing import GENESIS_HASH
from store.db import make_engine, make_sessions
from store.event_log import EventLog, stored_event
from workflows.item import event_id

TARGET = 300_000
COLUMNS = (
    "event_id",
    "item_id",
    "seq",
    "type",
    "stage",
    "actor_id",
    "actor_role",
    "actor_unit",
    "actor_name",
    "occurred_at",
    "recorded_at",
    "payload",
    "prev_hash",
    "hash",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM audit_events ORDER BY item_id, seq"  # noqa: S608 — constant
_COPY_BATCH = 20_000


def _canonical(content: dict[str, Any]) -> bytes:
    # Equal to RFC 8785 for these events (no floats, BMP keys), checked against rfc8785 below.
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def generated_rows(events: int) -> Iterator[tuple[Any, ...]]:
    """COPY records for `events` events: whole closed loops of distinct items, correctly chained."""
    template = item_events("template", "DB-2026-000001")
    contents = [event.canonical() for event in template]
    if any(_canonical(content) != bytes(rfc8785.dumps(content)) for content in contents):
        raise RuntimeError("the fast canonical form differs from RFC 8785 for the template")
    recorded_at = datetime.now(UTC)
    produced = 0
    while produced < events:
        item_id = str(uuid.uuid4())
        prev = GENESIS_HASH
        for event, content in zip(template, contents, strict=True):
            if produced == events:
                return
            keyed = {**content, "id": event_id(item_id, event.seq), "item_id": item_id}
            hash_ = hashlib.sha256(prev.encode("ascii") + _canonical(keyed)).hexdigest()
            actor = event.actor
            yield (
                keyed["id"],
                item_id,
                event.seq,
                event.type,
                event.stage.value,
                actor.id,
                actor.role.value,
                actor.unit,
                actor.name,
                event.occurred_at,
                recorded_at,
                json.dumps(content["payload"], ensure_ascii=False),
                prev,
                hash_,
            )
            prev = hash_
            produced += 1


async def fill(dsn: str, events: int) -> None:
    """COPY `events` generated events into audit_events."""
    connection = await asyncpg.connect(dsn)
    try:
        batch: list[tuple[Any, ...]] = []
        for row in generated_rows(events):
            batch.append(row)
            if len(batch) == _COPY_BATCH:
                await connection.copy_records_to_table("audit_events", records=batch, columns=COLUMNS)
                batch = []
        if batch:
            await connection.copy_records_to_table("audit_events", records=batch, columns=COLUMNS)
        await connection.execute("ANALYZE audit_events")
    finally:
        await connection.close()


async def raw_select(dsn: str) -> int:
    """Stream every row in (item_id, seq) order with a bare cursor; returns the count."""
    connection = await asyncpg.connect(dsn)
    count = 0
    try:
        async with connection.transaction():
            async for _row in connection.cursor(_SELECT, prefetch=5000):
                count += 1
    finally:
        await connection.close()
    return count


async def fold_all(dsn: str) -> int:
    """Stream the rows, read each as the store does (`stored_event`) and fold every item's events;
    returns the count."""
    connection = await asyncpg.connect(dsn)
    # As SQLAlchemy's asyncpg dialect does on every connection: JSON columns arrive decoded.
    await connection.set_type_codec(
        "json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
    )
    count, item, state = 0, None, ItemState()
    try:
        async with connection.transaction():
            async for row in connection.cursor(_SELECT, prefetch=5000):
                event = stored_event(row)
                if event.item_id != item:
                    item, state = event.item_id, ItemState(id=event.item_id)
                state = evolve(state, event)
                count += 1
    finally:
        await connection.close()
    return count


async def measure(events: int) -> Figure:
    """Events/s of verify_all + fold over `events` generated events, vs a raw SELECT of them."""
    async with fresh_postgres() as url:
        dsn = asyncpg_dsn(url)
        with Stopwatch() as filling:
            await fill(dsn, events)
        with Stopwatch() as raw:
            selected = await raw_select(dsn)
        engine = make_engine(url)
        try:
            with Stopwatch() as verifying:
                report = await EventLog(make_sessions(engine)).verify_all()
        finally:
            await engine.dispose()
        with Stopwatch() as folding:
            folded = await fold_all(dsn)
    if not report.ok or report.events_checked != events or selected != events or folded != events:
        raise RuntimeError(
            f"replay did not check every event: {report}, selected {selected}, folded {folded}"
        )
    raw_rate = events / raw.seconds
    verify_rate = events / verifying.seconds
    fold_rate = events / folding.seconds
    rate = events / (verifying.seconds + folding.seconds)
    return Figure(
        name="replay_verify",
        value=rate,
        unit="events/s",
        ratio=rate / raw_rate,
        baseline="raw_select",
        target=f">= {TARGET:,} events/s per core (absolute)",
        met=rate >= TARGET,
        rows=(
            Row(
                "service: verify_all + fold (one core)",
                rate,
                "events/s",
                f"{events:,} events, {report.items_checked:,} items",
            ),
            Row("  of which EventLog.verify_all", verify_rate, "events/s"),
            Row("  of which fold (stored_event + evolve)", fold_rate, "events/s"),
            Row("baseline: raw asyncpg SELECT, streamed", raw_rate, "events/s"),
            Row("generation: hash + COPY (not judged)", events / filling.seconds, "events/s"),
        ),
    )

"""Write the export bundle from the database: the latest checkpoint and every event it covers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import RecordedEvent
from ledger.bundle import bundle_lines
from ledger.checkpoint import Checkpoint
from store.event_log import EVENT_COLUMNS, stored_event
from store.ledger import Ledger
from store.ledger_tables import ledger
from store.schema import audit_events


class NothingToExport(Exception):
    """There is no checkpoint yet, so nothing is signed."""


async def export_lines(sessions: async_sessionmaker[AsyncSession]) -> tuple[Checkpoint, list[str]]:
    """The bundle of the latest checkpoint: its lines, and the checkpoint they prove against."""
    sealed = Ledger(sessions)
    checkpoint = await sealed.latest_checkpoint()
    if checkpoint is None:
        raise NothingToExport("还没有检查点，请先运行 duban audit checkpoint / no checkpoint yet")
    entries = await sealed.entries(until=checkpoint.size)
    statement = (
        select(*EVENT_COLUMNS, ledger.c.position)
        .join(ledger, ledger.c.event_id == audit_events.c.event_id)
        .where(ledger.c.position <= checkpoint.size)
        .order_by(audit_events.c.item_id, audit_events.c.seq)
    )
    async with sessions() as session:
        rows = (await session.execute(statement)).all()
    positions = {row.event_id: row.position for row in rows}

    def events() -> Iterator[tuple[RecordedEvent, datetime, str, str]]:
        for row in rows:
            stored = stored_event(row)
            yield (
                RecordedEvent.model_validate(stored.canonical()),
                stored.recorded_at,
                stored.prev_hash,
                stored.hash,
            )

    lines = bundle_lines(
        datetime.now(UTC), checkpoint, events(), positions, [entry.leaf() for entry in entries]
    )
    return checkpoint, list(lines)

"""The events statistics need, streamed item by item in bounded memory (both back-ends)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.event_log import EVENT_COLUMNS, StoredEvent, stored_event
from store.schema import audit_events

# Rows fetched per round trip: enough to amortise the driver, few enough to keep memory flat.
_BATCH = 500


async def item_histories(
    sessions: async_sessionmaker[AsyncSession], *, until: datetime, batch: int = _BATCH
) -> AsyncGenerator[list[StoredEvent], None]:
    """Each item's events that occurred by `until`, in seq order, one item at a time.

    The log is read in (item_id, seq) order through a server-side cursor, so only one item's
    events (and one batch of rows) are held at once, however long the log.
    """
    statement = (
        select(*EVENT_COLUMNS)
        .where(audit_events.c.occurred_at <= until)
        .order_by(audit_events.c.item_id, audit_events.c.seq)
        .execution_options(yield_per=batch)
    )
    current: list[StoredEvent] = []
    async with sessions() as session, session.begin():
        result = await session.stream(statement)
        async for rows in result.partitions():
            for row in rows:
                event = stored_event(row)
                if current and current[0].item_id != event.item_id:
                    yield current
                    current = []
                current.append(event)
    if current:
        yield current

"""The auditor's cross-item queries over the audit log: what one person did, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.event_log import EVENT_COLUMNS, StoredEvent, stored_event
from store.schema import audit_events


class AuditTrail:
    """Read-only queries across every item's events."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def by_actor(
        self,
        actor_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[StoredEvent], int]:
        """One page of the actor's events in time order (start inclusive, end exclusive), and the total."""
        where = [audit_events.c.actor_id == actor_id]
        if start is not None:
            where.append(audit_events.c.occurred_at >= start)
        if end is not None:
            where.append(audit_events.c.occurred_at < end)
        page = (
            select(*EVENT_COLUMNS)
            .where(*where)
            .order_by(audit_events.c.occurred_at, audit_events.c.item_id, audit_events.c.seq)
            .limit(limit)
            .offset(offset)
        )
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(audit_events).where(*where))
            rows = (await session.execute(page)).all()
        return [stored_event(row) for row in rows], int(total or 0)

"""Each user's in-app inbox (站内消息): written by the notify activity, read through /api/me/notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.notify_tables import notify_inbox
from store.upsert import insert_ignoring_duplicates


class InboxNotice(BaseModel):
    """What one inbox row says: a reminder, escalation or 催办 about one item."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    event_seq: int
    number: str
    title: str
    kind: str
    message: str
    rule: str = ""
    due: datetime | None = None


class InboxEntry(InboxNotice):
    """A stored inbox row, with its id and when it arrived and was read."""

    id: int
    user_id: str
    created_at: datetime
    read_at: datetime | None = None


class InboxPage(BaseModel):
    """One page of a user's inbox, newest first, with the counts a badge needs."""

    model_config = ConfigDict(frozen=True)

    entries: list[InboxEntry]
    total: int
    unread: int


def _entry(row: Any) -> InboxEntry:
    return InboxEntry.model_validate(dict(row._mapping))


class Inbox:
    """Reads and writes the inbox; a notice reaches a user's inbox at most once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, user_id: str, notice: InboxNotice, now: datetime) -> bool:
        """Put `notice` in the user's inbox; False when it was already there (a retried delivery)."""
        row = {**notice.model_dump(), "user_id": user_id, "created_at": now}
        async with self._sessions() as session, session.begin():
            result = await session.execute(insert_ignoring_duplicates(session, notify_inbox).values(**row))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def page(self, user_id: str, *, unread_only: bool, limit: int, offset: int) -> InboxPage:
        """The user's notices, newest first; only unread ones when asked."""
        mine = notify_inbox.c.user_id == user_id
        unread = notify_inbox.c.read_at.is_(None)
        shown = (mine & unread) if unread_only else mine
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(notify_inbox)
                    .where(shown)
                    .order_by(notify_inbox.c.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
            total = await session.scalar(select(func.count()).select_from(notify_inbox).where(shown))
            unread_count = await session.scalar(
                select(func.count()).select_from(notify_inbox).where(mine & unread)
            )
        return InboxPage(entries=[_entry(row) for row in rows], total=total or 0, unread=unread_count or 0)

    async def unread(self, user_id: str) -> int:
        """How many of the user's notices are unread (one indexed count: every page's header badge)."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(notify_inbox)
                .where((notify_inbox.c.user_id == user_id) & notify_inbox.c.read_at.is_(None))
            )
        return int(found or 0)

    async def mark_read(self, user_id: str, entry_id: int, now: datetime) -> InboxEntry | None:
        """Mark one of the user's notices read (kept as first read); None if the user has no such notice."""
        mine = (notify_inbox.c.id == entry_id) & (notify_inbox.c.user_id == user_id)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(notify_inbox).where(mine & notify_inbox.c.read_at.is_(None)).values(read_at=now)
            )
            row = (await session.execute(select(notify_inbox).where(mine))).first()
        return None if row is None else _entry(row)

    async def mark_all_read(self, user_id: str, now: datetime) -> int:
        """Mark every unread notice of the user read; how many were unread."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(notify_inbox)
                .where((notify_inbox.c.user_id == user_id) & notify_inbox.c.read_at.is_(None))
                .values(read_at=now)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

"""The queue behind the daily reminder digest: at most one digest per recipient, channel and day.

Routine reminders on email and robot channels wait here. A day's digest claims every waiting
entry of a recipient and channel (unless that digest already went out, in which case they wait
for the next day), and is marked sent once delivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import begin_write
from store.notify_tables import notify_digest_entries, notify_digests
from store.upsert import insert_ignoring_duplicates


class DigestEntry(BaseModel):
    """One routine notice waiting for a recipient's digest on one channel."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    event_seq: int
    recipient: str
    channel: str
    notice: dict[str, Any]


class DigestKey(BaseModel):
    """Which digest: a recipient, a channel and a Beijing calendar day (YYYY-MM-DD)."""

    model_config = ConfigDict(frozen=True)

    recipient: str
    channel: str
    day: str


class DigestQueue:
    """Queues routine notices and hands each day's digests out once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def queue(self, entry: DigestEntry, now: datetime) -> bool:
        """Queue `entry`; False when it was queued before (a retried delivery)."""
        row = {**entry.model_dump(), "queued_at": now}
        async with self._sessions() as session, session.begin():
            statement = insert_ignoring_duplicates(session, notify_digest_entries).values(**row)
            result = await session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def claim(self, day: str, now: datetime) -> list[DigestKey]:
        """Claim the waiting entries for `day`'s digests; every digest of `day` not yet sent, in order."""
        entries = notify_digest_entries.c
        async with self._sessions() as session, session.begin():
            await begin_write(session)
            waiting = (
                await session.execute(
                    select(entries.recipient, entries.channel).where(entries.digest_day.is_(None)).distinct()
                )
            ).all()
            for recipient, channel in waiting:
                digest = (
                    await session.execute(
                        select(notify_digests.c.sent_at).where(
                            _digest_is(DigestKey(recipient=recipient, channel=channel, day=day))
                        )
                    )
                ).first()
                if digest is not None and digest.sent_at is not None:
                    continue
                if digest is None:
                    await session.execute(
                        notify_digests.insert().values(
                            recipient=recipient, channel=channel, day=day, claimed_at=now
                        )
                    )
                await session.execute(
                    update(notify_digest_entries)
                    .where(
                        (entries.recipient == recipient)
                        & (entries.channel == channel)
                        & entries.digest_day.is_(None)
                    )
                    .values(digest_day=day)
                )
            pending = (
                await session.execute(
                    select(notify_digests.c.recipient, notify_digests.c.channel)
                    .where((notify_digests.c.day == day) & notify_digests.c.sent_at.is_(None))
                    .order_by(notify_digests.c.recipient, notify_digests.c.channel)
                )
            ).all()
        return [DigestKey(recipient=r, channel=c, day=day) for r, c in pending]

    async def entries(self, key: DigestKey) -> list[DigestEntry]:
        """The entries a digest carries, in the order they were queued."""
        entries = notify_digest_entries.c
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(
                        entries.item_id, entries.event_seq, entries.recipient, entries.channel, entries.notice
                    )
                    .where(
                        (entries.recipient == key.recipient)
                        & (entries.channel == key.channel)
                        & (entries.digest_day == key.day)
                    )
                    .order_by(entries.id)
                )
            ).all()
        return [DigestEntry.model_validate(dict(row._mapping)) for row in rows]

    async def is_sent(self, key: DigestKey) -> bool:
        """True once the digest went out."""
        async with self._sessions() as session:
            sent_at = await session.scalar(select(notify_digests.c.sent_at).where(_digest_is(key)))
        return sent_at is not None

    async def mark_sent(self, key: DigestKey, now: datetime) -> None:
        """Record that the digest went out, so no later run sends it again."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(notify_digests)
                .where(_digest_is(key) & notify_digests.c.sent_at.is_(None))
                .values(sent_at=now)
            )


def _digest_is(key: DigestKey) -> Any:
    return and_(
        notify_digests.c.recipient == key.recipient,
        notify_digests.c.channel == key.channel,
        notify_digests.c.day == key.day,
    )

"""The read-only figures an operator's dashboard polls: open items by stage and light, the last checkpoint.

Each is one small query on an index (items by stage and light, checkpoints by id), cheap enough for a
scrape every few seconds; none reads an item's state or an event.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.stages import Light, Stage
from store.ledger_tables import checkpoints
from store.schema import items

OPEN_STAGES = tuple(stage for stage in Stage if stage.is_open)


class LastCheckpoint(NamedTuple):
    """How many ledger entries the newest checkpoint covers, and when it was signed."""

    size: int
    created_at: datetime


async def open_item_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[Stage, Light], int]:
    """How many open items are in each stage with each light; pairs with none are left out."""
    query = (
        select(items.c.stage, items.c.light, func.count())
        .where(items.c.stage.in_([stage.value for stage in OPEN_STAGES]))
        .group_by(items.c.stage, items.c.light)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return {(Stage(stage), Light(light)): int(count) for stage, light, count in rows}


async def last_checkpoint(sessions: async_sessionmaker[AsyncSession]) -> LastCheckpoint | None:
    """The newest checkpoint's size and time, or None before the first."""
    query = select(checkpoints.c.size, checkpoints.c.created_at).order_by(checkpoints.c.id.desc()).limit(1)
    async with sessions() as session:
        row = (await session.execute(query)).first()
    return None if row is None else LastCheckpoint(size=int(row.size), created_at=row.created_at)

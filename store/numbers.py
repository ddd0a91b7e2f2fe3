"""Human item numbers: DB-2026-000123, gapless per year, one per item however often asked."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import begin_write
from store.errors import StoreError
from store.schema import item_numbers

_ATTEMPTS = 30
# Any fixed key works; it only has to be the same for every allocator of a year.
_PG_LOCK_NAMESPACE = 0x6475_6261  # "duba"


def format_number(year: int, serial: int) -> str:
    """The printed form of an item number."""
    return f"DB-{year:04d}-{serial:06d}"


class ItemNumbers:
    """Allocates item numbers; the table's unique keys, not application locks, keep them gapless."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def allocate(self, item_id: str, year: int) -> str:
        """The item's number: allocated on first call as the year's next serial, the same ever after."""
        if not 1 <= year <= 9999:
            raise StoreError(f"年份无效：{year} / invalid year {year}")
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return await self._allocate_once(item_id, year)
            except IntegrityError:
                # Another caller took this serial (or this item) first; look again.
                await asyncio.sleep(random.uniform(0.001, 0.01) * attempt)  # noqa: S311 — jitter only
        raise StoreError(f"无法分配编号 / could not allocate a number for {item_id} after {_ATTEMPTS} tries")

    async def _allocate_once(self, item_id: str, year: int) -> str:
        async with self._sessions() as session, session.begin():
            await begin_write(session)
            if session.get_bind().dialect.name == "postgresql":
                # Queue same-year allocators instead of letting them collide and retry.
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:namespace, :year)"),
                    {"namespace": _PG_LOCK_NAMESPACE, "year": year},
                )
            existing = await session.scalar(
                select(item_numbers.c.number).where(item_numbers.c.item_id == item_id)
            )
            if existing is not None:
                return str(existing)
            last = await session.scalar(
                select(func.max(item_numbers.c.serial)).where(item_numbers.c.year == year)
            )
            serial = int(last or 0) + 1
            number = format_number(year, serial)
            await session.execute(
                insert(item_numbers).values(item_id=item_id, year=year, serial=serial, number=number)
            )
        return number

"""The store's INSERT … ON CONFLICT helpers on both back-ends: DO UPDATE overwrites, DO NOTHING keeps
the first row and says so."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.rhythm_tables import rhythm_runs
from store.upsert import insert_ignoring_duplicates, upsert

RAN_AT = datetime(2027, 1, 8, 1, 0, tzinfo=UTC)


def run(digest: str) -> dict[str, Any]:
    return {"rhythm": "annual", "period": "2026", "ran_at": RAN_AT, "figures_hash": digest, "record": {}}


async def stored(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(rhythm_runs.c.figures_hash))).all())


async def test_a_duplicate_is_ignored_and_the_result_says_it_went_nowhere(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counts = []
    for digest in ("first", "second"):
        async with sessions() as session, session.begin():
            result = await session.execute(
                insert_ignoring_duplicates(session, rhythm_runs).values(**run(digest))
            )
            counts.append(result.rowcount)  # type: ignore[attr-defined]
    assert counts == [1, 0]
    assert await stored(sessions) == ["first"]


async def test_an_upsert_overwrites_the_row_with_the_same_key(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for digest in ("first", "second"):
        async with sessions() as session, session.begin():
            await upsert(session, rhythm_runs, [run(digest)], key=("rhythm", "period"))
    assert await stored(sessions) == ["second"]

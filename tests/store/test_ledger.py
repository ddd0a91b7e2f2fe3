"""The sealer puts every committed event in the ledger once, gapless, even under concurrent writers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.commands import SignFor
from ledger.checkpoint import Signer, signature_valid
from ledger.hashing import GENESIS_HASH, chain_hash
from ledger.merkle import root
from store.event_log import EventLog
from store.ledger import Ledger
from store.ledger_tables import ledger
from store.log_writer import event_row
from store.schema import audit_events
from tests.store.stories import ItemStory, unit_user

WRITERS = 6
ITEMS_PER_WRITER = 8


async def _ledger_rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with sessions() as session:
        rows = await session.execute(select(ledger.c.position, ledger.c.event_id).order_by(ledger.c.position))
        return [(row.position, row.event_id) for row in rows]


async def _event_ids(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(audit_events.c.event_id)))


async def test_sealing_twice_seals_each_event_once_at_gapless_positions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    log, sealer = EventLog(sessions), Ledger(sessions)
    story = ItemStory("item-a")
    story.open()
    await log.append(story.events)

    first = await sealer.seal()
    again = await sealer.seal()
    await log.append(story.sign_all())
    third = await sealer.seal()

    assert (first.sealed, first.size) == (1, 1)
    assert (again.sealed, again.size) == (0, 1)
    assert (third.sealed, third.size) == (2, 3)
    assert await _ledger_rows(sessions) == [(i, f"item-a-{i}") for i in (1, 2, 3)]


async def test_a_checkpoint_signs_the_merkle_root_of_the_whole_ledger(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    log, sealer, signer = EventLog(sessions), Ledger(sessions), Signer.generate()
    for item_id in ("item-a", "item-b"):
        story = ItemStory(item_id)
        story.open()
        story.sign_all()
        await log.append(story.events)

    checkpoint = await sealer.checkpoint(signer)

    entries = await sealer.entries(until=checkpoint.size)
    assert checkpoint.size == 6
    assert checkpoint.root == root([entry.leaf() for entry in entries]).hex()
    assert signature_valid(checkpoint, signer.public)
    assert not signature_valid(checkpoint, Signer.generate().public)
    assert await sealer.checkpoints() == [checkpoint]
    assert (await sealer.verify(signer.public)).ok


async def test_concurrent_writers_and_a_running_sealer_leave_every_event_in_the_ledger_exactly_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    log, sealer = EventLog(sessions), Ledger(sessions)
    writing = True

    async def writer(number: int) -> None:
        for index in range(ITEMS_PER_WRITER):
            story = ItemStory(f"w{number}-item{index}")
            # Each step is its own append (own transaction), interleaved with the other writers.
            await log.append(story.open())
            for unit in story.state.units():
                await log.append(story.act(unit_user(unit), SignFor()))

    async def keep_sealing() -> int:
        runs = 0
        while writing:
            await sealer.seal()
            runs += 1
            await asyncio.sleep(0)
        return runs

    sealing = asyncio.create_task(keep_sealing())
    await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    writing = False
    runs = await sealing
    await sealer.seal()

    rows = await _ledger_rows(sessions)
    logged = await _event_ids(sessions)
    assert runs > 0
    assert [position for position, _ in rows] == list(range(1, len(rows) + 1))
    assert sorted(event_id for _, event_id in rows) == sorted(logged)
    assert len(logged) == WRITERS * ITEMS_PER_WRITER * 3
    assert (await sealer.verify()).ok


async def _refused_on_the_ledger(
    sessions: async_sessionmaker[AsyncSession], table: str, statement: str
) -> None:
    log, sealer = EventLog(sessions), Ledger(sessions)
    story = ItemStory("item-a")
    story.open()
    await log.append(story.events)
    await sealer.checkpoint(Signer.generate())
    if table == "checkpoints":
        statement = statement.replace("item_id", "root")

    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.execute(text(statement.format(table=table)))

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ledger)) == 1


@pytest.mark.parametrize("statement", ["UPDATE {table} SET item_id = 'x'", "DELETE FROM {table}"])
@pytest.mark.parametrize("table", ["ledger", "checkpoints"])
async def test_the_ledger_and_its_checkpoints_are_append_only(
    sessions: async_sessionmaker[AsyncSession], table: str, statement: str
) -> None:
    await _refused_on_the_ledger(sessions, table, statement)


# SQLite has no TRUNCATE (its DELETE is refused above): this one runs on PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("table", ["ledger", "checkpoints"])
async def test_the_ledger_and_its_checkpoints_cannot_be_truncated(
    sessions: async_sessionmaker[AsyncSession], table: str
) -> None:
    await _refused_on_the_ledger(sessions, table, "TRUNCATE {table}")


# SQLite has one writer at a time, so ids always commit in order there: PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_event_committed_after_a_later_id_is_still_sealed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    log, sealer = EventLog(sessions), Ledger(sessions)
    slow, fast = ItemStory("item-slow"), ItemStory("item-fast")
    slow.open()
    fast.open()

    async with sessions() as held, held.begin():
        # The slow item's row, in a transaction held open: it takes the lower id and commits last.
        (opened,) = slow.events
        await held.execute(
            insert(audit_events), [event_row(opened, GENESIS_HASH, chain_hash(GENESIS_HASH, opened))]
        )
        await log.append(fast.events)
        first = await sealer.seal()
    second = await sealer.seal()

    assert (first.sealed, second.sealed) == (1, 1)
    assert [event_id for _, event_id in await _ledger_rows(sessions)] == ["item-fast-1", "item-slow-1"]

"""The database itself refuses to change the audit log; verification finds what a bypass changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import Executable, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.chain import FailureKind
from store.event_log import EventLog
from store.schema import audit_events
from tests.store.stories import ItemStory

Tamper = Callable[[Executable], Awaitable[None]]


@pytest.fixture
async def logged(sessions: async_sessionmaker[AsyncSession]) -> EventLog:
    """Two items with a few events each in the log."""
    log = EventLog(sessions)
    for item_id in ("item-x", "item-y"):
        story = ItemStory(item_id)
        story.open(lead_unit="zjj", co_units=("czj",))
        story.sign_all()
        await log.append(story.events)
    return log


@pytest.fixture
def tamper(sessions: async_sessionmaker[AsyncSession]) -> Tamper:
    """Run a statement with the append-only triggers bypassed, as an intruder with DBA rights could."""

    async def run(statement: Executable) -> None:
        async with sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(text("SET LOCAL session_replication_role = replica"))
                await session.execute(statement)
                return
            triggers = (
                await session.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master"
                        " WHERE type = 'trigger' AND tbl_name = 'audit_events'"
                    )
                )
            ).all()
            for name, _ in triggers:
                await session.execute(text(f'DROP TRIGGER "{name}"'))
            await session.execute(statement)
            for _, sql in triggers:
                await session.execute(text(sql))

    return run


async def _refused(sessions: async_sessionmaker[AsyncSession], statement: Executable | str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.execute(text(statement) if isinstance(statement, str) else statement)


async def test_update_of_an_audit_row_is_refused(
    sessions: async_sessionmaker[AsyncSession], logged: EventLog
) -> None:
    await _refused(sessions, update(audit_events).where(audit_events.c.seq == 1).values(actor_name="某人"))
    assert (await logged.read("item-x"))[0].actor.name == "张明"


async def test_delete_of_an_audit_row_is_refused(
    sessions: async_sessionmaker[AsyncSession], logged: EventLog
) -> None:
    await _refused(sessions, delete(audit_events).where(audit_events.c.item_id == "item-x"))
    assert len(await logged.read("item-x")) == 3


async def test_emptying_the_audit_log_is_refused(
    sessions: async_sessionmaker[AsyncSession], logged: EventLog
) -> None:
    async with sessions() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
    # SQLite has no TRUNCATE; its equivalent, an unqualified DELETE, must hit the trigger too.
    await _refused(sessions, "TRUNCATE audit_events" if postgres else "DELETE FROM audit_events")
    assert (await logged.verify_all()).events_checked == 6


async def test_verify_names_the_item_and_seq_of_a_flipped_payload_byte(
    sessions: async_sessionmaker[AsyncSession], logged: EventLog, tamper: Tamper
) -> None:
    original = (await logged.read("item-y"))[1]
    assert original.payload == {"unit": "zjj"}
    await tamper(
        update(audit_events)
        .where(audit_events.c.item_id == "item-y", audit_events.c.seq == 2)
        .values(payload={"unit": "zjk"})
    )

    item = await logged.verify_item("item-y")
    everything = await logged.verify_all()

    assert (item.ok, item.item_id, item.seq) == (False, "item-y", 2)
    assert item.problem is not None
    assert "hash mismatch" in item.problem
    assert (everything.ok, everything.item_id, everything.seq) == (False, "item-y", 2)
    assert everything.items_checked == 2
    assert (await logged.verify_item("item-x")).ok
    await _refused(sessions, update(audit_events).values(actor_name="x"))


async def test_verify_names_the_gap_a_deleted_row_leaves(
    sessions: async_sessionmaker[AsyncSession], logged: EventLog, tamper: Tamper
) -> None:
    await tamper(delete(audit_events).where(audit_events.c.item_id == "item-x", audit_events.c.seq == 2))

    report = await logged.verify_all()

    assert (report.ok, report.item_id, report.seq) == (False, "item-x", 3)
    assert report.problem is not None
    assert "sequence gap" in report.problem


async def test_verify_names_a_rewritten_link(
    sessions: async_sessionmaker[AsyncSession], logged: EventLog, tamper: Tamper
) -> None:
    async with sessions() as session:
        forged_prev = await session.scalar(
            select(audit_events.c.hash).where(audit_events.c.item_id == "item-y", audit_events.c.seq == 1)
        )
    assert forged_prev is not None
    await tamper(
        update(audit_events)
        .where(audit_events.c.item_id == "item-x", audit_events.c.seq == 3)
        .values(prev_hash=forged_prev)
    )

    report = await logged.verify_item("item-x")

    assert (report.ok, report.item_id, report.seq) == (False, "item-x", 3)
    assert report.problem is not None
    assert "prev_hash" in report.problem


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor_role", "intruder"), ("stage", "limbo"), ("payload", ["unit", "zjj"])],
)
async def test_verify_names_a_row_that_no_longer_reads_as_an_event(
    logged: EventLog, tamper: Tamper, column: str, value: object
) -> None:
    await tamper(
        update(audit_events)
        .where(audit_events.c.item_id == "item-y", audit_events.c.seq == 3)
        .values({column: value})
    )

    item = await logged.verify_item("item-y")
    everything = await logged.verify_all()

    for report in (item, everything):
        assert (report.ok, report.item_id, report.kind, report.seq) == (
            False,
            "item-y",
            FailureKind.UNREADABLE,
            3,
        )
    assert (await logged.verify_item("item-x")).ok

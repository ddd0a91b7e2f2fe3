"""The audit log's contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import commands as cmd
from domain.events import RecordedEvent
from domain.fold import fold
from ledger.hashing import GENESIS_HASH, canonical_bytes, chain_hash
from store.event_log import (
    EVENT_COLUMNS,
    EventLog,
    SeqConflict,
    _fast_content,
    stored_event,
)
from store.log_writer import event_row
from store.schema import audit_events
from tests.store.stories import SUPERVISOR, ItemStory


async def _row_count(sessions: async_sessionmaker[AsyncSession], item_id: str) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(audit_events).where(audit_events.c.item_id == item_id)
        )
    return int(count or 0)


async def test_appended_events_read_back_identical_and_chained(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-a")
    story.open()
    story.into_implementation()
    log = EventLog(sessions)

    receipt = await log.append(story.events)
    stored = await log.read("item-a")

    assert receipt.appended == len(story.events)
    assert receipt.already_present == 0
    assert receipt.last_seq == len(story.events)
    assert [
        RecordedEvent.model_validate(s.model_dump(exclude={"recorded_at", "prev_hash", "hash"}))
        for s in stored
    ] == story.events
    assert stored[0].prev_hash == GENESIS_HASH
    for previous, current in pairwise(stored):
        assert current.prev_hash == previous.hash
    for event in stored:
        assert chain_hash(event.prev_hash, event) == event.hash
        assert event.occurred_at.tzinfo is not None
        assert event.recorded_at.utcoffset() == timedelta(0)
    assert stored[-1].hash == receipt.last_hash
    assert stored[0].occurred_at.microsecond == story.events[0].occurred_at.microsecond


async def test_append_in_several_calls_continues_the_chain(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-b")
    log = EventLog(sessions)
    first = await log.append(story.open())
    second = await log.append(story.sign_all())

    stored = await log.read("item-b")
    assert first.last_seq == 1
    assert second.last_seq == len(story.events)
    assert stored[1].prev_hash == first.last_hash


async def test_read_until_stops_at_that_instant(sessions: async_sessionmaker[AsyncSession]) -> None:
    story = ItemStory("item-c")
    story.open()
    story.sign_all()
    log = EventLog(sessions)
    await log.append(story.events)

    cut = story.events[1].occurred_at
    assert [e.seq for e in await log.read("item-c", until=cut)] == [1, 2]
    assert [e.seq for e in await log.read("item-c", until=cut - timedelta(microseconds=1))] == [1]
    assert await log.read("item-c", until=datetime(2000, 1, 1, tzinfo=UTC)) == []


async def test_retried_append_leaves_one_row_per_event(sessions: async_sessionmaker[AsyncSession]) -> None:
    story = ItemStory("item-d")
    story.open()
    story.sign_all()
    log = EventLog(sessions)
    await log.append(story.events)

    again = await log.append(story.events)

    assert again.appended == 0
    assert again.already_present == len(story.events)
    assert again.last_seq == len(story.events)
    assert await _row_count(sessions, "item-d") == len(story.events)


async def test_retry_overlapping_new_events_appends_only_the_new(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-e")
    opened = story.open()
    log = EventLog(sessions)
    await log.append(opened)

    signed = story.sign_all()
    receipt = await log.append([*opened, *signed])

    assert (receipt.appended, receipt.already_present) == (len(signed), 1)
    assert await _row_count(sessions, "item-e") == len(story.events)


async def test_concurrent_identical_appends_leave_one_row_per_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-f")
    story.open()
    story.into_implementation()
    log = EventLog(sessions)

    receipts = await asyncio.gather(*(log.append(story.events) for _ in range(5)))

    assert sum(r.appended for r in receipts) == len(story.events)
    assert {r.last_hash for r in receipts} == {receipts[0].last_hash}
    assert await _row_count(sessions, "item-f") == len(story.events)
    assert (await log.verify_item("item-f")).ok


async def test_seq_gap_is_refused_and_writes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    story = ItemStory("item-g")
    story.open()
    story.sign_all()
    log = EventLog(sessions)

    with pytest.raises(SeqConflict, match="expects seq 1"):
        await log.append(story.events[1:])

    assert await _row_count(sessions, "item-g") == 0
    assert await log.read("item-g") == []


async def test_gap_later_in_a_batch_rolls_back_the_whole_batch(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-h")
    story.open()
    story.sign_all()
    log = EventLog(sessions)

    with pytest.raises(SeqConflict):
        await log.append([story.events[0], story.events[2]])

    assert await _row_count(sessions, "item-h") == 0


async def test_same_event_id_with_changed_content_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-i")
    log = EventLog(sessions)
    await log.append(story.open())
    comment = story.act(SUPERVISOR, cmd.AddComment(text="请抓紧推进"))
    await log.append(comment)

    forged = comment[0].model_copy(update={"payload": {"text": "无需推进"}})
    next_event = story.act(SUPERVISOR, cmd.AddComment(text="第二条"))
    with pytest.raises(SeqConflict, match="different content"):
        await log.append([forged, *next_event])

    assert await _row_count(sessions, "item-i") == 2
    assert (await log.read("item-i"))[1].payload == {"text": "请抓紧推进"}


async def test_chain_of_a_whole_life_verifies(sessions: async_sessionmaker[AsyncSession]) -> None:
    log = EventLog(sessions)
    for name in ("item-j1", "item-j2", "item-j3"):
        story = ItemStory(name)
        story.open()
        story.into_implementation()
        await log.append(story.events)
        assert fold(await log.read(name)) == story.state

    item = await log.verify_item("item-j2")
    everything = await log.verify_all()

    assert item.ok
    assert item.problem is None
    assert everything.ok
    assert everything.items_checked == 3
    assert everything.events_checked == 3 * len(story.events)


async def test_verifying_an_unknown_item_checks_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    report = await EventLog(sessions).verify_item("nobody")
    assert report.ok
    assert report.events_checked == 0


async def test_rows_read_back_give_the_same_canonical_bytes_straight_from_their_columns(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-k")
    story.open()
    story.into_implementation()
    await EventLog(sessions).append(story.events)
    async with sessions() as session:
        rows = (await session.execute(select(*EVENT_COLUMNS).order_by(audit_events.c.seq))).all()

    assert len(rows) == len(story.events)
    for row in rows:
        # Every row the service writes takes verification's shortcut, and it writes the same bytes.
        assert _fast_content(row) == canonical_bytes(stored_event(row))


@pytest.mark.parametrize(
    "payload",
    [{"ratio": 0.5}, {"\U0001f600": "astral key"}, {"deep": [{"f": 1e300}]}, {"键": "值"}],
    ids=["float", "astral-key", "nested-float", "chinese-key"],
)
async def test_payloads_the_shortcut_declines_still_verify_the_long_way(
    sessions: async_sessionmaker[AsyncSession], payload: dict[str, object]
) -> None:
    story = ItemStory("item-l")
    opened = story.open()
    log = EventLog(sessions)
    receipt = await log.append(opened)
    # Written as the service would chain it, straight into the table (the read model cannot fold it).
    odd = opened[0].model_copy(update={"id": "item-l-odd", "seq": len(opened) + 1, "payload": payload})
    async with sessions() as session, session.begin():
        hash_ = chain_hash(receipt.last_hash, odd)
        await session.execute(insert(audit_events).values(event_row(odd, receipt.last_hash, hash_)))
    async with sessions() as session:
        row = (
            await session.execute(select(*EVENT_COLUMNS).where(audit_events.c.event_id == "item-l-odd"))
        ).one()

    assert _fast_content(row) is None
    assert (await log.verify_item("item-l")).ok
    assert (await log.verify_all()).ok

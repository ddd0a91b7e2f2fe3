"""The one append, whichever way it finds its head, gives the log and read model the fold gives.

The append writes through one writer (store/log_writer.py) after a head: the one this process
wrote last (no read), or the one read from the log when it has none or the guard refuses. Each
test appends event by event, as the workflow does, and checks the log and the read model
against the fold of the events and a verified chain. Which way the head was found shows in the
SQL that went through SQLAlchemy's execution: reading the head goes there; the writer sends its
statements through the bare driver (store/driver_sql.py), so none. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import commands as cmd
from domain.events import RecordedEvent
from domain.fold import fold
from store.event_log import EventLog, SeqConflict
from store.items import ItemQueries
from store.projection import forget_read_model
from store.schema import item_units, items
from tests.fixtures.sql import engine_of, statements
from tests.store.stories import SUPERVISOR, ItemStory, unit_user

# Reading the head from the log sends this; an append on the cached head sends nothing.
_HEAD_READ = "FROM audit_events \nWHERE audit_events.event_id IN"


async def _assert_log_and_read_model_agree(
    sessions: async_sessionmaker[AsyncSession], story: ItemStory
) -> None:
    log = EventLog(sessions)
    report = await log.verify_item(story.item_id)
    assert report.ok, report
    assert report.events_checked == len(story.events)
    assert await ItemQueries(sessions).get(story.item_id) == fold(story.events)
    async with sessions() as session:
        units = {
            (row.unit_id, row.part, row.status)
            for row in await session.execute(
                select(item_units.c.unit_id, item_units.c.part, item_units.c.status).where(
                    item_units.c.item_id == story.item_id
                )
            )
        }
    expected = {(unit, a.part.value, a.status.value) for unit, a in story.state.assignments.items()}
    assert units == expected


def _whole_life(story: ItemStory) -> list[list[RecordedEvent]]:
    """An item from 立项 to 狠抓落实 and a comment, as the appends the workflow makes (one per action)."""
    appends = [story.open(co_units=("czj", "fgw"))]
    appends += [story.act(unit_user(unit), cmd.SignFor()) for unit in ("zjj", "czj", "fgw")]
    appends.append(story.act(SUPERVISOR, cmd.AddComment(text="请抓紧推进")))
    return appends


async def test_action_by_action_appends_skip_the_head_read_and_match_the_fold(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-fast")
    log = EventLog(sessions)
    appends = _whole_life(story)

    await log.append(appends[0])
    with statements(engine_of(sessions)) as sent:
        for events in appends[1:]:
            receipt = await log.append(events)
            assert receipt.appended == len(events)
            assert receipt.last_seq == events[-1].seq

    assert sent == []  # every append after the first wrote on the cached head, reading nothing
    await _assert_log_and_read_model_agree(sessions, story)


async def test_an_item_s_first_events_need_no_head_read(sessions: async_sessionmaker[AsyncSession]) -> None:
    story = ItemStory("item-new")
    with statements(engine_of(sessions)) as sent:
        await EventLog(sessions).append(story.open())
    assert sent == []
    await _assert_log_and_read_model_agree(sessions, story)


async def test_first_events_appended_again_by_a_fresh_process_are_found_present(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-reopened")
    opened = story.open()
    await EventLog(sessions).append(opened)

    with statements(engine_of(sessions)) as sent:
        again = await EventLog(sessions).append(opened)  # a worker restarted before it saw the result

    assert (again.appended, again.already_present) == (0, len(opened))
    assert [s for s in sent if _HEAD_READ in s]
    await _assert_log_and_read_model_agree(sessions, story)


async def test_a_lost_read_model_row_is_refolded_from_the_log(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-row-lost")
    appends = _whole_life(story)
    await EventLog(sessions).append(appends[0])
    async with sessions() as session, session.begin():
        await forget_read_model(session, story.item_id)

    log = EventLog(sessions)  # knows no head: the log has events but the read model has no row
    for events in appends[1:]:
        await log.append(events)

    await _assert_log_and_read_model_agree(sessions, story)


async def test_a_head_moved_by_another_writer_falls_back_to_the_full_path(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-two-writers")
    first, second = EventLog(sessions), EventLog(sessions)
    appends = _whole_life(story)
    await first.append(appends[0])
    await first.append(appends[1])
    await second.append(appends[2])  # `first` still believes the head is appends[1]

    with statements(engine_of(sessions)) as sent:
        receipt = await first.append(appends[3])

    assert receipt.appended == len(appends[3])
    assert [s for s in sent if _HEAD_READ in s]
    await first.append(appends[4])
    await _assert_log_and_read_model_agree(sessions, story)


async def test_a_different_event_at_the_next_seq_is_still_a_conflict(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-conflict")
    first, second = EventLog(sessions), EventLog(sessions)
    appends = _whole_life(story)
    await first.append(appends[0])
    await first.append(appends[1])
    await second.append(appends[2])
    other = appends[2][0].model_copy(update={"id": "someone-else"})

    with pytest.raises(SeqConflict):
        await first.append([other])

    await second.append(appends[3])
    await second.append(appends[4])
    await _assert_log_and_read_model_agree(sessions, story)


async def test_a_lagging_read_model_is_refolded_not_overwritten(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-lagging")
    log = EventLog(sessions)
    appends = _whole_life(story)
    for events in appends[:3]:
        await log.append(events)
    async with sessions() as session, session.begin():
        # As if an earlier state had been restored into the read model.
        await session.execute(
            update(items).where(items.c.id == story.item_id).values(last_seq=appends[1][-1].seq)
        )

    for events in appends[3:]:
        await log.append(events)

    await _assert_log_and_read_model_agree(sessions, story)


async def test_a_retried_append_after_the_fast_path_writes_nothing_twice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-retried")
    log = EventLog(sessions)
    appends = _whole_life(story)
    for events in appends:
        await log.append(events)

    again = await log.append(appends[-1])

    assert (again.appended, again.already_present) == (0, len(appends[-1]))
    await _assert_log_and_read_model_agree(sessions, story)


async def test_first_events_already_logged_without_a_read_model_row_write_nothing_half(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-half")
    appends = _whole_life(story)
    await EventLog(sessions).append(appends[0])
    async with sessions() as session, session.begin():
        await forget_read_model(session, story.item_id)

    log = EventLog(sessions)  # tries the first events as a new item: the events' seqs are taken
    again = await log.append(appends[0])

    assert (again.appended, again.already_present) == (0, len(appends[0]))
    assert await ItemQueries(sessions).get(story.item_id) is None  # the failed try left no row
    for events in appends[1:]:
        await log.append(events)
    await _assert_log_and_read_model_agree(sessions, story)

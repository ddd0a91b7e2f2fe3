"""The items read model: written with every append, rebuildable from events, and queryable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import commands as cmd
from domain.fold import fold
from domain.stages import Light, Stage
from domain.state import ItemState
from domain.vocabulary import Category
from store.event_log import EventLog
from store.items import ItemFilter, ItemQueries, ItemSort
from store.projection import (
    READ_MODEL_VERSION,
    UnknownReadModelVersion,
    next_due,
    read_state,
    state_document,
)
from store.schema import item_units, items
from tests.store.stories import START, SUPERVISOR, ItemStory, unit_user


async def _assignments(sessions: async_sessionmaker[AsyncSession], item_id: str) -> set[tuple[str, str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(item_units.c.unit_id, item_units.c.part, item_units.c.status).where(
                item_units.c.item_id == item_id
            )
        )
        return {(row.unit_id, row.part, row.status) for row in rows}


async def test_read_model_row_is_the_fold_of_the_events(sessions: async_sessionmaker[AsyncSession]) -> None:
    story = ItemStory("item-1")
    log = EventLog(sessions)
    await log.append(story.open(lead_unit="zjj", co_units=("czj",)))
    await log.append(story.act(unit_user("zjj"), cmd.SignFor()))

    state = await ItemQueries(sessions).get("item-1")

    assert state == fold(await log.read("item-1")) == story.state
    assert await _assignments(sessions, "item-1") == {("zjj", "lead", "signed"), ("czj", "co", "pending")}
    async with sessions() as session:
        row = (await session.execute(select(items).where(items.c.id == "item-1"))).one()
    assert (row.stage, row.lead_unit, row.last_seq, row.number) == ("deploy", "zjj", 2, story.number)
    assert row.next_due == next_due(story.state)
    assert row.deadline == story.state.deadline


async def test_unknown_item_has_no_state(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await ItemQueries(sessions).get("missing") is None


async def test_rebuild_rewrites_a_damaged_read_model_from_events(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-2")
    story.open()
    story.into_implementation()
    log = EventLog(sessions)
    await log.append(story.events)
    async with sessions() as session, session.begin():
        await session.execute(
            update(items)
            .where(items.c.id == "item-2")
            .values(stage="closed", state=ItemState(id="item-2").model_dump(mode="json"))
        )
        await session.execute(delete(item_units).where(item_units.c.item_id == "item-2"))

    rebuilt = await log.rebuild_read_model("item-2")

    assert rebuilt == story.state
    assert await ItemQueries(sessions).get("item-2") == story.state
    assert len(await _assignments(sessions, "item-2")) == 2
    page, _, _ = await ItemQueries(sessions).list(ItemFilter(stage=Stage.IMPLEMENT), now=story.now)
    assert [s.id for s in page] == ["item-2"]


async def test_append_refolds_when_the_read_model_row_is_missing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-3")
    log = EventLog(sessions)
    await log.append(story.open())
    async with sessions() as session, session.begin():
        await session.execute(delete(items).where(items.c.id == "item-3"))

    await log.append(story.act(SUPERVISOR, cmd.AddComment(text="请尽快签收")))

    assert await ItemQueries(sessions).get("item-3") == story.state


async def test_rebuilding_an_item_without_events_forgets_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await EventLog(sessions).rebuild_read_model("ghost") == ItemState()
    assert await ItemQueries(sessions).get("ghost") is None


@pytest.fixture
async def three_items(sessions: async_sessionmaker[AsyncSession]) -> dict[str, ItemStory]:
    """A (deploy, zjj+czj), B (implement, fgw+jtj, 营商环境), C (cancelled, jyj)."""
    a = ItemStory("A", number="DB-2026-000001")
    a.open(lead_unit="zjj", co_units=("czj",), category=Category.MAJOR_PROJECT)
    b = ItemStory("B", number="DB-2026-000002")
    b.open(
        title="优化营商环境专项行动",
        requirements="压减审批时限",
        lead_unit="fgw",
        co_units=("jtj",),
        category=Category.MAJOR_POLICY,
        tags=("三难问题",),
    )
    b.into_implementation()
    c = ItemStory("C", number="DB-2026-000003")
    c.open(lead_unit="jyj", co_units=(), category=Category.OTHER)
    c.act(SUPERVISOR, cmd.Cancel(reason="任务调整"))
    log = EventLog(sessions)
    for story in (a, b, c):
        await log.append(story.events)
    return {"A": a, "B": b, "C": c}


async def _ids(
    sessions: async_sessionmaker[AsyncSession], flt: ItemFilter, *, unit: str | None = None
) -> tuple[set[str], int]:
    page = await ItemQueries(sessions).list(flt, now=START + timedelta(days=10), visible_to_unit=unit)
    return {state.id for state in page.states}, page.total


async def test_list_filters_by_stage(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    assert await _ids(sessions, ItemFilter(stage=Stage.DEPLOY)) == ({"A"}, 1)
    assert await _ids(sessions, ItemFilter(stage=Stage.CANCELLED)) == ({"C"}, 1)
    assert await _ids(sessions, ItemFilter(stage=Stage.CLOSED)) == (set(), 0)


async def test_list_filters_by_assigned_unit_and_category(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    assert await _ids(sessions, ItemFilter(unit="jtj")) == ({"B"}, 1)
    assert await _ids(sessions, ItemFilter(unit="czj")) == ({"A"}, 1)
    assert await _ids(sessions, ItemFilter(category=Category.MAJOR_POLICY)) == ({"B"}, 1)
    assert await _ids(sessions, ItemFilter(category=Category.MAJOR_FUNDS)) == (set(), 0)


async def test_a_unit_sees_only_items_it_is_assigned_to(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    assert await _ids(sessions, ItemFilter(), unit="czj") == ({"A"}, 1)
    assert await _ids(sessions, ItemFilter(), unit="jyj") == ({"C"}, 1)
    assert await _ids(sessions, ItemFilter(), unit="gzw") == (set(), 0)
    assert await _ids(sessions, ItemFilter(unit="fgw"), unit="czj") == (set(), 0)


async def test_list_filters_by_light(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    # Every item here is green: these stories raise no escalation (no ladder rung has fired).
    assert await _ids(sessions, ItemFilter(light=Light.GREEN)) == ({"A", "B", "C"}, 3)
    assert await _ids(sessions, ItemFilter(light=Light.RED)) == (set(), 0)


async def test_overdue_means_a_pending_step_is_past_due(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    # Ten days on, A's two-working-day sign-for is late; B's milestone is due on day ~20; C waits for nothing.
    assert await _ids(sessions, ItemFilter(overdue=True)) == ({"A"}, 1)
    assert await _ids(sessions, ItemFilter(overdue=False)) == ({"B", "C"}, 2)
    page, _, _ = await ItemQueries(sessions).list(ItemFilter(overdue=True), now=START)
    assert page == []


async def test_text_search_matches_title_tags_and_number(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    assert await _ids(sessions, ItemFilter(text="营商")) == ({"B"}, 1)
    assert await _ids(sessions, ItemFilter(text="三难问题")) == ({"B"}, 1)
    assert await _ids(sessions, ItemFilter(text="db-2026-000003")) == ({"C"}, 1)
    assert await _ids(sessions, ItemFilter(text="老旧小区 民生")) == ({"A", "C"}, 2)
    assert await _ids(sessions, ItemFilter(text="100%")) == (set(), 0)


async def test_list_pages_newest_change_first_with_the_total(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    now = START + timedelta(days=10)
    queries = ItemQueries(sessions)
    first, total, _ = await queries.list(ItemFilter(limit=2), now=now)
    rest, total_again, _ = await queries.list(ItemFilter(limit=2, offset=2), now=now)

    assert total == total_again == 3
    assert [s.id for s in first] == ["B", "C"]
    assert [s.id for s in rest] == ["A"]
    assert first[0] == three_items["B"].state


async def test_a_count_past_the_cap_says_at_least_and_pages_still_reach_every_item(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    now = START + timedelta(days=10)
    capped = ItemQueries(sessions, count_cap=2)

    first = await capped.list(ItemFilter(limit=1), now=now)
    last = await capped.list(ItemFilter(limit=1, offset=2), now=now)
    within = await ItemQueries(sessions, count_cap=3).list(ItemFilter(limit=1), now=now)

    assert (first.total, first.exact) == (2, False)  # "2+": more match than were counted
    assert [s.id for s in last.states] == ["A"]  # the count never hides a page
    assert (last.total, last.exact) == (3, True)  # counted to the end of the page asked for
    assert (within.total, within.exact) == (3, True)


async def _order(sessions: async_sessionmaker[AsyncSession], sort: ItemSort) -> list[str]:
    page = await ItemQueries(sessions).list(ItemFilter(sort=sort), now=START + timedelta(days=10))
    return [state.id for state in page.states]


async def test_list_sorts_by_number_stage_and_update_both_ways(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    assert await _order(sessions, ItemSort.NUMBER) == ["A", "B", "C"]
    assert await _order(sessions, ItemSort.NUMBER_DESC) == ["C", "B", "A"]
    # The loop's order, not the alphabet's: deploy, implement, …, cancelled last.
    assert await _order(sessions, ItemSort.STAGE) == ["A", "B", "C"]
    assert await _order(sessions, ItemSort.STAGE_DESC) == ["C", "B", "A"]
    updated = {story_id: story.state.updated_at for story_id, story in three_items.items()}
    assert await _order(sessions, ItemSort.UPDATED_DESC) == sorted(
        updated, key=lambda story_id: (-updated[story_id].timestamp(), story_id)
    )
    # Equal keys (every light is green here) fall back to the id, so pages never overlap.
    assert await _order(sessions, ItemSort.LIGHT) == ["A", "B", "C"]
    assert await _order(sessions, ItemSort.DEADLINE) == sorted(
        three_items, key=lambda story_id: (three_items[story_id].state.deadline, story_id)
    )


async def test_count_counts_the_filters_matches_up_to_the_cap(
    sessions: async_sessionmaker[AsyncSession], three_items: dict[str, ItemStory]
) -> None:
    now = START + timedelta(days=10)
    assert await ItemQueries(sessions).count(ItemFilter(), now=now) == (3, True)
    assert await ItemQueries(sessions).count(ItemFilter(stage=Stage.DEPLOY), now=now) == (1, True)
    assert await ItemQueries(sessions).count(ItemFilter(), now=now, visible_to_unit="gzw") == (0, True)
    assert await ItemQueries(sessions, count_cap=2).count(ItemFilter(), now=now) == (2, False)


async def _raw_state(sessions: async_sessionmaker[AsyncSession], item_id: str) -> Any:
    async with sessions() as session:
        return await session.scalar(select(items.c.state).where(items.c.id == item_id))


async def _put_raw_state(sessions: async_sessionmaker[AsyncSession], item_id: str, document: Any) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(items).where(items.c.id == item_id).values(state=document))


async def test_the_row_holds_a_versioned_document_of_the_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-v1")
    await EventLog(sessions).append(story.open())

    assert await _raw_state(sessions, "item-v1") == {
        "version": READ_MODEL_VERSION,
        "state": story.state.model_dump(mode="json"),
    }


async def test_a_row_written_before_versioning_is_read_and_upgraded_by_the_next_append(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    story = ItemStory("item-v0")
    await EventLog(sessions).append(story.open())
    await _put_raw_state(sessions, "item-v0", story.state.model_dump(mode="json"))  # the bare state

    assert await ItemQueries(sessions).get("item-v0") == story.state
    page, _, _ = await ItemQueries(sessions).list(ItemFilter(), now=story.now)
    assert page == [story.state]

    # A fresh log (no cached head) reads the old row to fold the next event onto it.
    await EventLog(sessions).append(story.act(SUPERVISOR, cmd.AddComment(text="旧行照读")))

    assert await _raw_state(sessions, "item-v0") == state_document(story.state)
    assert await ItemQueries(sessions).get("item-v0") == story.state


@pytest.mark.parametrize("document", [{"version": READ_MODEL_VERSION + 1, "state": {}}, {"version": "1"}, []])
async def test_a_row_in_an_unknown_shape_is_refused_by_name_and_rewritten_from_the_log(
    sessions: async_sessionmaker[AsyncSession], document: Any
) -> None:
    story = ItemStory("item-vx")
    await EventLog(sessions).append(story.open())
    await _put_raw_state(sessions, "item-vx", document)

    with pytest.raises(UnknownReadModelVersion, match="read-model row"):
        await ItemQueries(sessions).get("item-vx")

    await EventLog(sessions).append(story.act(SUPERVISOR, cmd.AddComment(text="以日志为准")))

    assert await _raw_state(sessions, "item-vx") == state_document(story.state)
    assert await ItemQueries(sessions).get("item-vx") == story.state


def test_read_state_upgrades_every_version_it_knows_and_names_the_one_it_does_not() -> None:
    state = ItemState(id="item-1", title="督办事项")
    bare = state.model_dump(mode="json")
    assert read_state(bare) == read_state(state_document(state)) == state
    with pytest.raises(UnknownReadModelVersion, match=f"version {READ_MODEL_VERSION + 1} is unknown"):
        read_state({"version": READ_MODEL_VERSION + 1, "state": bare})

"""Item numbers and the org chart."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.people import Role
from store.demo_org import DEMO_ORG
from store.numbers import ItemNumbers
from store.org import OrgChart, OrgDirectory, UnitRecord, UserRecord


async def test_an_item_keeps_its_number_however_often_asked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    numbers = ItemNumbers(sessions)

    first = await numbers.allocate("item-a", 2026)
    again = await numbers.allocate("item-a", 2026)
    second = await numbers.allocate("item-b", 2026)

    assert first == again == "DB-2026-000001"
    assert second == "DB-2026-000002"


async def test_each_year_counts_from_one(sessions: async_sessionmaker[AsyncSession]) -> None:
    numbers = ItemNumbers(sessions)
    await numbers.allocate("old", 2025)

    assert await numbers.allocate("new", 2026) == "DB-2026-000001"
    assert await numbers.allocate("older", 2025) == "DB-2025-000002"


async def test_concurrent_allocation_is_gapless_and_idempotent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    numbers = ItemNumbers(sessions)
    item_ids = [f"item-{n}" for n in range(12)]

    allocated = await asyncio.gather(*(numbers.allocate(i, 2026) for i in item_ids + item_ids))

    by_item = dict(zip(item_ids + item_ids, allocated, strict=True))
    assert allocated[: len(item_ids)] == allocated[len(item_ids) :]
    assert sorted(by_item.values()) == [f"DB-2026-{n:06d}" for n in range(1, len(item_ids) + 1)]


async def test_loading_the_org_twice_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = OrgDirectory(sessions)
    assert await org.is_empty()

    await org.load(DEMO_ORG)
    await org.load(DEMO_ORG)

    assert not await org.is_empty()
    assert await org.units() == sorted(DEMO_ORG.units, key=lambda u: u.id)
    assert await org.users() == sorted(DEMO_ORG.users, key=lambda u: u.id)
    assert await org.user("sup-zhang") == next(u for u in DEMO_ORG.users if u.id == "sup-zhang")
    assert await org.unit("jjw") == next(u for u in DEMO_ORG.units if u.id == "jjw")
    assert await org.user("nobody") is None
    assert await org.unit("nowhere") is None


async def test_loading_again_updates_changed_records(sessions: async_sessionmaker[AsyncSession]) -> None:
    org = OrgDirectory(sessions)
    unit = UnitRecord(id="fgw", name="发改委", type="党政机关")
    await org.load(
        OrgChart(units=[unit], users=[UserRecord(id="fgw-li", name="李强", role=Role.UNIT, unit="fgw")])
    )

    renamed = unit.model_copy(update={"name": "市发展和改革委员会", "leader_user_id": "fgw-li"})
    await org.load(OrgChart(units=[renamed], users=[]))

    assert await org.unit("fgw") == renamed
    assert len(await org.users()) == 1


def test_demo_org_has_every_role_and_unit_heads_of_their_own_units() -> None:
    users = {u.id: u for u in DEMO_ORG.users}
    units = {u.id: u for u in DEMO_ORG.units}
    responsible = [u for u in DEMO_ORG.units if u.kind == "unit"]

    assert {u.role for u in DEMO_ORG.users} == set(Role)
    assert len(responsible) >= 6
    assert len({u.type for u in responsible}) >= 4
    assert units["jjw"].kind == "discipline"
    assert users["leader-top"].title == "一把手"
    assert users["sup-zhang"].role is Role.SUPERVISOR
    for unit in responsible:
        head = users[str(unit.leader_user_id)]
        assert (head.role, head.unit) == (Role.UNIT, unit.id)
    assert all(u.unit is None or u.unit in units for u in DEMO_ORG.users)

"""The office's figures for a period, read from the audit log as of an instant (shared by /api/stats
and the rhythms' documents, so a document's table is what the statistics API answers)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.workdays import ChinaWorkdays
from domain.rhythms import ItemView, is_open, item_view
from domain.statistics import GroupBy, GroupFigures, Period, StatisticsBuilder, aggregate
from store.org import OrgDirectory, UnitRecord, UserRecord
from store.statistics import item_histories


class Computed(BaseModel):
    """The groups of one request, the calendar label, and (when asked) each item's view."""

    model_config = ConfigDict(frozen=True)

    groups: list[GroupFigures]
    calendar: str
    units: list[UnitRecord]
    users: list[UserRecord]
    views: list[ItemView] = []


async def compute_figures(
    sessions: async_sessionmaker[AsyncSession], period: Period, group_by: GroupBy, *, with_views: bool = False
) -> Computed:
    """Every group's figures for `period`, reading the log as of `period.as_of`.

    With `with_views`, also each open item's state as of that instant (held in memory: one
    record per open item; closed and cancelled items are folded and dropped).
    """
    [computed] = await _compute(sessions, [period], group_by, with_views=with_views)
    return computed


async def compute_figures_of_periods(
    sessions: async_sessionmaker[AsyncSession], periods: Sequence[Period], group_by: GroupBy
) -> list[Computed]:
    """Every group's figures for each of `periods` (in that order), from one pass over the log
    as of the latest `as_of`: each item's events feed every period's builder, which reads them
    as of its own instant (a chart's months cost one scan, not one each)."""
    return await _compute(sessions, periods, group_by, with_views=False)


async def _compute(
    sessions: async_sessionmaker[AsyncSession],
    periods: Sequence[Period],
    group_by: GroupBy,
    *,
    with_views: bool,
) -> list[Computed]:
    org = OrgDirectory(sessions)
    units = await org.units()
    users = await org.users()
    unit_of_user = {user.id: user.unit for user in users if user.unit is not None}
    assessed = [unit for unit in units if unit.kind == "unit"]
    calendar = ChinaWorkdays()
    builders = [StatisticsBuilder(period, calendar.is_workday, unit_of_user) for period in periods]
    views: list[ItemView] = []
    until = max(period.as_of for period in periods)
    async with aclosing(item_histories(sessions, until=until)) as histories:
        async for events in histories:
            for builder in builders:
                builder.add_item(events)
            if with_views and is_open((view := item_view(events)).state):
                views.append(view)  # the rhythms look at open items only
    labels = {unit.id: unit.name for unit in units} | {user.id: user.name for user in users}
    types = {unit.id: unit.type for unit in units}
    keys: list[str] = []
    if group_by is GroupBy.UNIT:
        keys = [unit.id for unit in assessed]
    elif group_by is GroupBy.UNIT_TYPE:
        keys = list(dict.fromkeys(unit.type for unit in assessed))
    return [
        Computed(
            groups=aggregate(builder.facts, group_by, unit_types=types, labels=labels, keys=keys),
            calendar=calendar.label,
            units=units,
            users=users,
            views=views,
        )
        for builder in builders
    ]

"""Queries over the items read model: one item's state, and filtered, paged lists."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, UnaryExpression, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.stages import Light, Stage
from domain.state import ItemState
from domain.vocabulary import Category, Priority
from store.projection import read_state
from store.schema import item_units, items


class ItemSort(StrEnum):
    """A list's order: a column, ascending, or descending with a leading "-"."""

    NUMBER = "number"
    NUMBER_DESC = "-number"
    DEADLINE = "deadline"
    DEADLINE_DESC = "-deadline"
    STAGE = "stage"
    STAGE_DESC = "-stage"
    LIGHT = "light"
    LIGHT_DESC = "-light"
    UPDATED = "updated"
    UPDATED_DESC = "-updated"

    @property
    def column(self) -> str:
        """The column sorted on, without the direction."""
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        """True for the "-" orders."""
        return self.value.startswith("-")


DEFAULT_SORT = ItemSort.UPDATED_DESC
"""Most recently changed first: what a list shows unless told otherwise."""


class ItemFilter(BaseModel):
    """What a list asks for; every criterion left None matches everything."""

    model_config = ConfigDict(frozen=True)

    stage: Stage | None = None
    unit: str | None = None
    light: Light | None = None
    category: Category | None = None
    priority: Priority | None = None
    overdue: bool | None = None
    text: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
    sort: ItemSort = DEFAULT_SORT


# Stages sort in the loop's order (then the terminal ones), lights from green to red.
_STAGE_ORDER = case({stage.value: rank for rank, stage in enumerate(Stage)}, value=items.c.stage, else_=99)
_LIGHT_ORDER = case({light.value: rank for rank, light in enumerate(Light)}, value=items.c.light, else_=99)
_SORT_COLUMNS: dict[str, ColumnElement[object]] = {
    "number": items.c.number,
    "deadline": items.c.deadline,
    "stage": _STAGE_ORDER,
    "light": _LIGHT_ORDER,
    "updated": items.c.updated_at,
}


def _order(sort: ItemSort) -> tuple[UnaryExpression[object], ...]:
    """The ORDER BY of `sort`: its column, then the id, so pages never overlap.

    Items without a deadline come last either way; the other columns are never empty, and are left
    without NULLS LAST so their indexes still serve the order.
    """
    column = _SORT_COLUMNS[sort.column]
    keyed = column.desc() if sort.descending else column.asc()
    if sort.column == "deadline":
        keyed = keyed.nulls_last()
    return (keyed, items.c.id.asc())


def _assigned_to(unit: str) -> ColumnElement[bool]:
    return exists().where(and_(item_units.c.item_id == items.c.id, item_units.c.unit_id == unit))


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(flt: ItemFilter, now: datetime, visible_to_unit: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.stage is not None:
        conditions.append(items.c.stage == flt.stage.value)
    if flt.unit is not None:
        conditions.append(_assigned_to(flt.unit))
    if visible_to_unit is not None:
        conditions.append(_assigned_to(visible_to_unit))
    if flt.light is not None:
        conditions.append(items.c.light == flt.light.value)
    if flt.category is not None:
        conditions.append(items.c.category == flt.category.value)
    if flt.priority is not None:
        conditions.append(items.c.priority == flt.priority.value)
    if flt.overdue is True:
        conditions.append(items.c.next_due < now)
    elif flt.overdue is False:
        conditions.append(or_(items.c.next_due.is_(None), items.c.next_due >= now))
    words = (flt.text or "").lower().split()
    conditions.extend(items.c.search.like(f"%{_escape_like(word)}%", escape="\\") for word in words)
    return conditions


# A list counts its matches up to this many (or to the end of the page asked for, if further).
# Counting every match of a broad filter costs tens of milliseconds per 100,000 items; beyond a
# thousand, "1,000+" is what a person needs to know.
COUNT_CAP = 1000


class ItemPage(NamedTuple):
    """One page of a list, and how many match: exactly, or at least `total` when not `exact`."""

    states: builtins.list[ItemState]
    total: int
    exact: bool


class ItemQueries:
    """Read-only access to the items read model."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, count_cap: int = COUNT_CAP) -> None:
        self._sessions = sessions
        self._count_cap = count_cap

    async def get(self, item_id: str) -> ItemState | None:
        """The item's current state, or None if it was never opened."""
        async with self._sessions() as session:
            raw = await session.scalar(select(items.c.state).where(items.c.id == item_id))
        return None if raw is None else read_state(raw)

    async def list(self, flt: ItemFilter, *, now: datetime, visible_to_unit: str | None = None) -> ItemPage:
        """One page of matching items in the filter's order (most recently changed first by default),
        and how many match.

        The count is exact up to the cap (COUNT_CAP, or the end of the page if further); past it
        the page says `exact=False` and `total` is the cap. `visible_to_unit` limits the list to
        items the unit is currently assigned to; `overdue` means some pending step's due
        instant is before `now`.
        """
        cap = max(self._count_cap, flt.offset + flt.limit)
        conditions = _conditions(flt, now, visible_to_unit)
        page = (
            select(items.c.state)
            .where(*conditions)
            .order_by(*_order(flt.sort))
            .limit(flt.limit)
            .offset(flt.offset)
        )
        counted = select(literal(1)).select_from(items).where(*conditions).limit(cap + 1).subquery()
        async with self._sessions() as session, session.begin():
            matches = int(await session.scalar(select(func.count()).select_from(counted)) or 0)
            states = (await session.scalars(page)).all()
        return ItemPage(
            states=[read_state(raw) for raw in states],
            total=min(matches, cap),
            exact=matches <= cap,
        )

    async def count(
        self, flt: ItemFilter, *, now: datetime, visible_to_unit: str | None = None
    ) -> tuple[int, bool]:
        """How many items match (paging ignored): exactly, or (COUNT_CAP, False) when more do."""
        conditions = _conditions(flt, now, visible_to_unit)
        counted = (
            select(literal(1)).select_from(items).where(*conditions).limit(self._count_cap + 1).subquery()
        )
        async with self._sessions() as session:
            matches = int(await session.scalar(select(func.count()).select_from(counted)) or 0)
        return min(matches, self._count_cap), matches <= self._count_cap

    async def stream(
        self, flt: ItemFilter, *, now: datetime, visible_to_unit: str | None = None, batch: int = 500
    ) -> AsyncGenerator[builtins.list[ItemState], None]:
        """Every matching item (paging ignored), in the list's order, a batch at a time.

        A server-side cursor feeds the batches, so an export of 100,000 items holds one batch.
        """
        statement = (
            select(items.c.state)
            .where(*_conditions(flt, now, visible_to_unit))
            .order_by(*_order(flt.sort))
            .execution_options(yield_per=batch)
        )
        async with self._sessions() as session, session.begin():
            result = await session.stream_scalars(statement)
            async for raws in result.partitions():
                yield [read_state(raw) for raw in raws]

"""Queries over the items read model: one item's state, and filtered, paged lists."""

from __future__ import annotations

import builtins
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.stages import Light, Stage
from domain.state import ItemState
from domain.vocabulary import Category, Priority
from store.schema import item_units, items


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


class ItemQueries:
    """Read-only access to the items read model."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, item_id: str) -> ItemState | None:
        """The item's current state, or None if it was never opened."""
        async with self._sessions() as session:
            raw = await session.scalar(select(items.c.state).where(items.c.id == item_id))
        return None if raw is None else ItemState.model_validate(raw)

    async def list(
        self, flt: ItemFilter, *, now: datetime, visible_to_unit: str | None = None
    ) -> tuple[builtins.list[ItemState], int]:
        """One page of matching items, most recently changed first, and how many match in all.

        `visible_to_unit` limits the list to items the unit is currently assigned to; `overdue`
        means some pending step's due instant is before `now`.
        """
        conditions = _conditions(flt, now, visible_to_unit)
        page = (
            select(items.c.state)
            .where(*conditions)
            .order_by(items.c.updated_at.desc(), items.c.id)
            .limit(flt.limit)
            .offset(flt.offset)
        )
        async with self._sessions() as session, session.begin():
            total = await session.scalar(select(func.count()).select_from(items).where(*conditions))
            states = (await session.scalars(page)).all()
        return [ItemState.model_validate(raw) for raw in states], int(total or 0)

"""The org chart's store: units and users (the types are the domain's, `domain.org`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.org import OrgChart, UnitRecord, UserRecord
from store.db import begin_write
from store.schema import units, users
from store.upsert import upsert

__all__ = ["OrgChart", "OrgDirectory", "UnitRecord", "UserRecord"]


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        role=row.role,
        unit=row.unit,
        title=row.title,
        email=row.email,
        top_leader=row.top_leader,
    )


def _unit(row: Any) -> UnitRecord:
    return UnitRecord(
        id=row.id,
        name=row.name,
        type=row.type,
        leader_user_id=row.leader_user_id,
        kind=row.kind,
    )


class OrgDirectory:
    """Reads and loads the org chart."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self, chart: OrgChart) -> None:
        """Insert or update every unit and user of `chart` (loading it twice changes nothing)."""
        async with self._sessions() as session, session.begin():
            await begin_write(session)
            await upsert(session, units, [u.model_dump(mode="json") for u in chart.units], key=["id"])
            await upsert(session, users, [u.model_dump(mode="json") for u in chart.users], key=["id"])

    async def is_empty(self) -> bool:
        """True when no unit and no user is loaded yet."""
        async with self._sessions() as session:
            found = await session.scalar(select(exists(select(units.c.id)) | exists(select(users.c.id))))
        return not found

    async def user(self, user_id: str) -> UserRecord | None:
        """The user with this id, if any."""
        async with self._sessions() as session:
            row = (await session.execute(select(users).where(users.c.id == user_id))).first()
        return None if row is None else _user(row)

    async def users(self) -> list[UserRecord]:
        """Every user, by id."""
        async with self._sessions() as session:
            rows = (await session.execute(select(users).order_by(users.c.id))).all()
        return [_user(row) for row in rows]

    async def unit(self, unit_id: str) -> UnitRecord | None:
        """The unit with this id, if any."""
        async with self._sessions() as session:
            row = (await session.execute(select(units).where(units.c.id == unit_id))).first()
        return None if row is None else _unit(row)

    async def units(self) -> list[UnitRecord]:
        """Every unit, by id."""
        async with self._sessions() as session:
            rows = (await session.execute(select(units).order_by(units.c.id))).all()
        return [_unit(row) for row in rows]

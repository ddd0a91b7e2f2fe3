"""Escalation policies: the current version per category and priority, history, and new versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ladder import AppliedPolicy, LadderRules, RungRule, policy_id_for
from domain.vocabulary import Category, Priority
from store.db import begin_write
from store.errors import StoreError
from store.policy_tables import escalation_policies

_PUBLISH_ATTEMPTS = 3


class PolicyVersion(BaseModel):
    """One version of one category and priority's ladder, with who published it and why."""

    model_config = ConfigDict(frozen=True)

    policy_id: str
    category: Category
    priority: Priority
    version: int
    rungs: list[RungRule]
    note: str
    created_by: str
    created_at: datetime

    def applied(self) -> AppliedPolicy:
        """The form an item records at open."""
        return AppliedPolicy(
            policy_id=self.policy_id,
            version=self.version,
            category=self.category,
            priority=self.priority,
            rungs=self.rungs,
        )


class PolicyMissing(StoreError):
    """No version exists for a category and priority (the migration seeds every pair)."""


def _version(row: Any) -> PolicyVersion:
    category, priority = Category(row.category), Priority(row.priority)
    return PolicyVersion(
        policy_id=policy_id_for(category, priority),
        category=category,
        priority=priority,
        version=row.version,
        rungs=LadderRules.model_validate({"rungs": row.rungs}).rungs,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _latest() -> Any:
    """Each pair's highest version, as a subquery to join on."""
    t = escalation_policies
    return (
        select(t.c.category, t.c.priority, func.max(t.c.version).label("version"))
        .group_by(t.c.category, t.c.priority)
        .subquery()
    )


class PolicyStore:
    """Reads and publishes escalation policy versions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def current(self, category: Category, priority: Priority) -> PolicyVersion:
        """The newest version for this category and priority."""
        versions = await self.versions(category, priority)
        if not versions:
            raise PolicyMissing(f"no escalation policy for {policy_id_for(category, priority)}")
        return versions[-1]

    async def versions(self, category: Category, priority: Priority) -> list[PolicyVersion]:
        """Every version for this category and priority, oldest first."""
        t = escalation_policies
        query = (
            select(t)
            .where(t.c.category == category.value, t.c.priority == priority.value)
            .order_by(t.c.version)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_version(row) for row in rows]

    async def list_current(self) -> list[PolicyVersion]:
        """The newest version of every category and priority, by category then priority."""
        t, latest = escalation_policies, _latest()
        query = (
            select(t)
            .join(
                latest,
                (t.c.category == latest.c.category)
                & (t.c.priority == latest.c.priority)
                & (t.c.version == latest.c.version),
            )
            .order_by(t.c.category, t.c.priority)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_version(row) for row in rows]

    async def publish(
        self, category: Category, priority: Priority, ladder: LadderRules, author: str, note: str
    ) -> PolicyVersion:
        """Store `ladder` as the next version; older versions stay as they were."""
        attempt = 0
        while True:
            attempt += 1
            try:
                version = await self._insert_next(category, priority, ladder, author, note)
            except IntegrityError:
                # Two admins published at once: the loser takes the next number.
                if attempt >= _PUBLISH_ATTEMPTS:
                    raise
                continue
            return await self._one(category, priority, version)

    async def _insert_next(
        self, category: Category, priority: Priority, ladder: LadderRules, author: str, note: str
    ) -> int:
        t = escalation_policies
        async with self._sessions() as session, session.begin():
            await begin_write(session)
            newest = await session.scalar(
                select(func.max(t.c.version)).where(
                    t.c.category == category.value, t.c.priority == priority.value
                )
            )
            version = int(newest or 0) + 1
            row = {
                "category": category.value,
                "priority": priority.value,
                "version": version,
                "rungs": [rung.model_dump(mode="json") for rung in ladder.rungs],
                "note": note,
                "created_by": author,
                "created_at": datetime.now(UTC),
            }
            await session.execute(insert(t), [row])
        return version

    async def _one(self, category: Category, priority: Priority, version: int) -> PolicyVersion:
        t = escalation_policies
        query = select(t).where(
            t.c.category == category.value, t.c.priority == priority.value, t.c.version == version
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).one()
        return _version(row)

"""An intruder with the database owner's rights: runs statements past the append-only triggers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Executable, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

GUARDED = ("audit_events", "ledger", "checkpoints", "assessment_publications")


async def tamper(sessions: async_sessionmaker[AsyncSession], statements: Sequence[Executable]) -> None:
    """Run `statements` in one transaction with every append-only trigger bypassed."""
    async with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                await session.execute(statement)
            return
        names = ", ".join(f"'{table}'" for table in GUARDED)
        triggers = (
            await session.execute(
                text(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names})")  # noqa: S608 — fixed names
            )
        ).all()
        for name, _ in triggers:
            await session.execute(text(f'DROP TRIGGER "{name}"'))
        for statement in statements:
            await session.execute(statement)
        for _, sql in triggers:
            await session.execute(text(sql))

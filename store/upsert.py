"""INSERT … ON CONFLICT DO UPDATE for the two back-ends, which spell it alike but import it apart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    """Insert `rows` into `table`, overwriting the non-key columns of rows whose `key` exists."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    updates = {name: insert.excluded[name] for name in rows[0] if name not in key}
    statement = insert.on_conflict_do_update(index_elements=list(key), set_=updates)
    await session.execute(statement, list(rows))

"""INSERT … ON CONFLICT (DO UPDATE, DO NOTHING) for the two back-ends, which spell it alike but import
it apart."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def _insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@lru_cache(maxsize=64)
def _statement(dialect: str, table: Table, columns: tuple[str, ...], key: tuple[str, ...]) -> Insert:
    # Built once per shape: deriving `excluded` costs more than the round trip it precedes.
    insert = _insert(dialect, table)
    updates = {name: insert.excluded[name] for name in columns if name not in key}
    return insert.on_conflict_do_update(index_elements=list(key), set_=updates)


async def upsert(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    """Insert `rows` into `table`, overwriting the non-key columns of rows whose `key` exists."""
    if not rows:
        return
    statement = _statement(session.get_bind().dialect.name, table, tuple(rows[0]), tuple(key))
    await session.execute(statement, list(rows))


def insert_ignoring_duplicates(session: AsyncSession, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect: a row whose key exists is left as
    it was (the result's rowcount says whether the row went in)."""
    return _insert(session.get_bind().dialect.name, table).on_conflict_do_nothing()

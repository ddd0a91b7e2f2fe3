"""Engines and session factories, tuned per back-end."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_BEGIN_OPTION = "duban_sqlite_begin"
# Writers that read before they write (chain head, max serial) take SQLite's write lock at BEGIN;
# a deferred transaction would fail with SQLITE_BUSY instead of waiting once another writer commits.
WRITE_TRANSACTION: dict[str, Any] = {_BEGIN_OPTION: "BEGIN IMMEDIATE"}

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


POOL_SIZE = 16
POOL_OVERFLOW = 16


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str, *, pre_ping: bool = True) -> AsyncEngine:
    """An async engine for `url`: SQLite (aiosqlite) with WAL and real transactions, or PostgreSQL.

    `pre_ping` tests each PostgreSQL connection before use (a round trip per checkout) so a
    request never fails on a connection the server dropped. Callers that retry on their own, as
    the worker's activities do, turn it off: a stale connection fails one attempt and is
    discarded, and the retry takes another or connects afresh.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, json_serializer=_json_dumps)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        json_serializer=_json_dumps,
        pool_pre_ping=pre_ping,
        # Connections beyond pool_size are closed when returned: with the default 5, a worker
        # running a few more activities at once than that reconnects for every one of them.
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below): the driver's legacy mode never begins before a SELECT.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory every store class takes; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_write(session: AsyncSession) -> None:
    """Start `session`'s transaction as a writer (BEGIN IMMEDIATE on SQLite, plain BEGIN elsewhere)."""
    await session.connection(execution_options=WRITE_TRANSACTION)


async def begin_exclusive_append(session: AsyncSession, table: Table) -> None:
    """Start `session` as the only appender to `table` until it commits; readers are not blocked.

    For tables whose next key is `max + 1`: SQLite's BEGIN IMMEDIATE already admits one writer;
    PostgreSQL takes SHARE ROW EXCLUSIVE, which conflicts with itself, so concurrent appenders
    queue instead of colliding on the key and spending their retries.
    """
    connection = await session.connection(execution_options=WRITE_TRANSACTION)
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE')

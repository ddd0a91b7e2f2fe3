"""Statements for the append's hot path, compiled once by SQLAlchemy and sent through the bare driver.

SQLAlchemy builds and compiles them (dialect SQL, bind casts, type processors); executing them
through its connection costs more CPU than the rest of the append, and its aiosqlite adapter
three to four thread hops per statement against the driver's one. So the hot path binds the
parameters itself, with the same type processors, and sends the SQL on the pooled connection's
driver (asyncpg or aiosqlite). Everything else in the store goes through SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["INTEGRITY_ERRORS", "DriverStatement", "driver_of"]

# What the drivers raise when a unique or foreign key constraint refuses a row.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
)


@dataclass(frozen=True)
class DriverStatement:
    """A compiled statement: its SQL and, in order, each positional parameter's name and processor."""

    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> DriverStatement:
        """Compile `statement` for `dialect` (a positional paramstyle: asyncpg's $n, SQLite's ?)."""
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {type(statement).__name__}")
        names = compiled.positiontup
        if names is None:
            raise TypeError(f"{dialect.name} does not use positional parameters")
        return cls(
            sql=compiled.string,
            binds=tuple((name, compiled.binds[name].type.bind_processor(dialect)) for name in names),
        )

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The driver's positional arguments for `values` (by parameter name), processed by type."""
        return [values[name] if process is None else process(values[name]) for name, process in self.binds]


async def driver_of(connection: AsyncConnection) -> Any:
    """The driver's own connection (asyncpg.Connection or aiosqlite.Connection) under `connection`."""
    pooled = await connection.get_raw_connection()
    return pooled.driver_connection

"""The statements of the log's one writer (store/log_writer.py), built and compiled once per shape.

PostgreSQL gets one statement per write: the guard is a CTE updating (or, for an item without a
read-model row, inserting) the items row; unit-assignment rows and events are written only if
the guard moved that row. SQLite, which has no writing CTEs, gets the same pieces as separate
statements inside one write transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    bindparam,
    delete,
    exists,
    insert,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.dml import Insert, Update

from store.driver_sql import DriverStatement
from store.schema import audit_events, item_units, items

__all__ = ["EVENT_COLUMNS", "UNIT_COLUMNS", "Shape", "statement"]

# What an append writes: every column but the surrogate key and the database's own recorded_at.
EVENT_COLUMNS = tuple(c.name for c in audit_events.c if c.name not in {"id", "recorded_at"})
UNIT_COLUMNS = tuple(c.name for c in item_units.c)
_WRITTEN = frozenset(EVENT_COLUMNS) | frozenset(UNIT_COLUMNS)


@dataclass(frozen=True)
class Shape:
    """What decides the statement: how many events, whether the items row is new, the unit rows."""

    events: int  # 0: the read model only (a rebuild)
    new_row: bool  # the item has no items row yet: insert it
    units: int | None  # unit rows to write; None: the assignments did not change
    stale_units: bool  # unit rows not among those written may exist: delete them


def _item_values() -> dict[str, Any]:
    return {
        name: bindparam(f"item_{name}", type_=column.type) for name, column in items.c.items() if name != "id"
    }


@lru_cache(maxsize=1)
def _guarded_update() -> Update:
    """UPDATE items to the new state, only if the read model and the log both end where the head says.

    A head at seq 0 (the log holds nothing of the item, its row left over) has no event to check:
    the events' unique (item_id, seq) then refuses a concurrent writer's first events.
    """
    item_id, seq = bindparam("guard_item", type_=items.c.id.type), bindparam("guard_seq", type_=Integer())
    head_logged = exists().where(
        audit_events.c.item_id == item_id,
        audit_events.c.seq == seq,
        audit_events.c.hash == bindparam("guard_hash"),
    )
    return (
        update(items)
        .where(
            items.c.id == item_id,
            items.c.last_seq == bindparam("guard_row_seq", type_=Integer()),
            or_(seq == literal_column("0", Integer()), head_logged),
        )
        .values(_item_values())
    )


def _new_item_row(upsert_dialect: Any) -> Any:
    """INSERT the items row of an item that has none (PostgreSQL: nothing if it has one)."""
    values = {"id": bindparam("guard_item", type_=items.c.id.type), **_item_values()}
    statement = upsert_dialect.insert(items).values(values)
    return (
        statement.on_conflict_do_nothing(index_elements=["id"]) if upsert_dialect is postgresql else statement
    )


@lru_cache(maxsize=64)
def _one_statement(shape: Shape) -> Insert | Select[Any]:
    """PostgreSQL: the guard as a CTE; unit rows and events written only if it moved the items row.

    One statement is one transaction: every write lands or none does. Built once per shape.
    """
    guard = (_new_item_row(postgresql) if shape.new_row else _guarded_update()).returning(items.c.id)
    moved = guard.cte("moved")
    if_moved = exists(select(moved.c.id))
    ctes = [moved]
    if shape.units is not None:
        if shape.stale_units:
            stale = delete(item_units).where(item_units.c.item_id == bindparam("guard_item"), if_moved)
            if shape.units:
                stale = stale.where(
                    item_units.c.unit_id.not_in([bindparam(f"unit_unit_id_{n}") for n in range(shape.units)])
                )
            ctes.append(stale.returning(item_units.c.unit_id).cte("stale"))
        if shape.units:
            put = postgresql.insert(item_units).from_select(
                list(UNIT_COLUMNS), _rows_of(item_units, "unit_", UNIT_COLUMNS, shape.units, if_moved)
            )
            put = put.on_conflict_do_update(
                index_elements=["item_id", "unit_id"],
                set_={"part": put.excluded.part, "status": put.excluded.status},
            )
            ctes.append(put.returning(item_units.c.unit_id).cte("put"))
    if not shape.events:  # the read model only: whether the guard moved the row
        return select(if_moved).add_cte(*ctes)
    events = _rows_of(audit_events, "", EVENT_COLUMNS, shape.events, if_moved)
    return (
        insert(audit_events)
        .from_select([audit_events.c[name] for name in EVENT_COLUMNS], events)
        .add_cte(*ctes)
    )


def _rows_of(table: Table, prefix: str, columns: tuple[str, ...], count: int, condition: Any) -> Any:
    """SELECT of `count` rows of bound parameters `{prefix}{column}_{n}`, each only if `condition`."""
    selects = [
        select(*(bindparam(f"{prefix}{name}_{n}", type_=table.c[name].type) for name in columns)).where(
            condition
        )
        for n in range(count)
    ]
    return selects[0] if count == 1 else union_all(*selects)


def _plain_insert(table: Table) -> Insert:
    values = {c.name: bindparam(c.name, type_=c.type) for c in table.c if c.name in _WRITTEN}
    return insert(table).values(values)


_STATEMENTS: dict[str, Callable[..., ClauseElement]] = {
    "one statement": _one_statement,
    "guard": _guarded_update,
    "new item": lambda: _new_item_row(sqlite),
    "unit rows gone": lambda: delete(item_units).where(item_units.c.item_id == bindparam("guard_item")),
    "unit row": lambda: _plain_insert(item_units),
    "event row": lambda: _plain_insert(audit_events),
}


@lru_cache(maxsize=256)
def statement(key: tuple[Any, ...], dialect: Dialect) -> DriverStatement:
    """The statement `key` names (its builder, then its arguments), compiled once per dialect."""
    name, *args = key
    return DriverStatement.compile(_STATEMENTS[name](*args), dialect)

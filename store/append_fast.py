"""The append's fast path: an item whose chain head this process wrote last, written without reading it.

The workflow appends an item's events one action at a time, so the process that wrote the
previous events usually knows the chain head and the state folded up to it. `HeadCache` keeps
that (bounded), and `append_on_head` writes the next events in as few round trips as the
back-end allows, guarded in SQL by what the cache claims: the items row still ends at the cached
seq and the log's event at that seq still carries the cached hash. When the guard fails (another
writer, a lagging read model, a stale cache) nothing is written and the caller takes the full
path, which reads the head from the log. The guarantees are the full path's: one transaction,
gapless seqs, each prev_hash the hash before it, the read model in step.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Table, bindparam, delete, exists, insert, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert, Update

from domain.events import RecordedEvent
from domain.fold import fold
from domain.state import ItemState
from ledger.hashing import GENESIS_HASH, chain_hash
from store.driver_sql import INTEGRITY_ERRORS, DriverStatement, driver_of
from store.projection import item_row, unit_rows
from store.schema import audit_events, item_units, items

__all__ = ["Head", "HeadCache", "append_on_head", "event_row", "follows", "new_item"]

# Enough for every item a worker is busy with; an item that falls out takes the full path once.
HEAD_CACHE_SIZE = 1024
# What an append writes: every column but the surrogate key and the database's own recorded_at.
_EVENT_COLUMNS = tuple(c.name for c in audit_events.c if c.name not in {"id", "recorded_at"})
_UNIT_COLUMNS = tuple(c.name for c in item_units.c)
_WRITTEN = frozenset(_EVENT_COLUMNS) | frozenset(_UNIT_COLUMNS)


@dataclass(frozen=True)
class Head:
    """An item's state folded up to its last logged event, and that event's hash."""

    state: ItemState
    hash: str


class HeadCache:
    """The heads this process wrote last, least recently used dropped first."""

    def __init__(self, size: int = HEAD_CACHE_SIZE) -> None:
        self._size = size
        self._heads: OrderedDict[str, Head] = OrderedDict()

    def get(self, item_id: str) -> Head | None:
        """The cached head of `item_id`, if any."""
        head = self._heads.get(item_id)
        if head is not None:
            self._heads.move_to_end(item_id)
        return head

    def put(self, item_id: str, head: Head) -> None:
        """Remember `head` as the item's (after a committed append)."""
        self._heads[item_id] = head
        self._heads.move_to_end(item_id)
        while len(self._heads) > self._size:
            self._heads.popitem(last=False)

    def forget(self, item_id: str) -> None:
        """Drop the item's head (its append failed or took the full path)."""
        self._heads.pop(item_id, None)

    def __len__(self) -> int:
        return len(self._heads)


def event_row(event: RecordedEvent, prev_hash: str, hash_: str) -> dict[str, Any]:
    """The audit_events row of `event`: exactly what was hashed is what is stored."""
    content = event.canonical()
    return {
        "event_id": event.id,
        "item_id": event.item_id,
        "seq": event.seq,
        "type": event.type,
        "stage": event.stage.value,
        "actor_id": event.actor.id,
        "actor_role": event.actor.role.value,
        "actor_unit": event.actor.unit,
        "actor_name": event.actor.name,
        "occurred_at": event.occurred_at,
        "payload": content["payload"],
        "prev_hash": prev_hash,
        "hash": hash_,
    }


def follows(head: Head, events: Sequence[RecordedEvent]) -> bool:
    """True if `events` are exactly the next seqs after `head` (the fast path's precondition)."""
    return all(event.seq == head.state.last_seq + n for n, event in enumerate(events, start=1))


def new_item() -> Head:
    """The head of an item with no events yet: the guard then asks that it have no items row."""
    return Head(state=ItemState(), hash=GENESIS_HASH)


async def append_on_head(
    engine: AsyncEngine, item_id: str, head: Head, events: Sequence[RecordedEvent]
) -> Head | None:
    """Write `events` after `head`; the new head, or None (nothing written) if the log moved on.

    `events` must follow `head` (see `follows`). PostgreSQL writes events and read model in one
    statement; SQLite in one transaction whose first statement is the guard. Raises
    IntegrityError (nothing written) if an event's seq or id is already taken.
    """
    rows: list[dict[str, Any]] = []
    last_hash = head.hash
    for event in events:
        hash_ = chain_hash(last_hash, event)
        rows.append(event_row(event, last_hash, hash_))
        last_hash = hash_
    state = fold(events, head.state)
    shape = _Shape(
        events=len(rows),
        new_item=head.state.last_seq == 0,
        units=len(state.assignments) if state.assignments != head.state.assignments else None,
    )
    params: dict[str, Any] = {
        "guard_item": item_id,
        "guard_seq": head.state.last_seq,
        "guard_hash": head.hash,
    }
    params.update({f"item_{name}": value for name, value in item_row(state).items() if name != "id"})
    async with engine.connect() as connection:
        driver = await driver_of(connection)
        try:
            if engine.dialect.name == "postgresql":
                for n, row in enumerate(rows):
                    params.update({f"{name}_{n}": row[name] for name in _EVENT_COLUMNS})
                for n, unit in enumerate(unit_rows(state) if shape.units else []):
                    params.update({f"unit_{name}_{n}": unit[name] for name in _UNIT_COLUMNS})
                one = _statement(("one statement", shape), engine.dialect)
                status = await driver.execute(one.sql, *one.args(params))  # e.g. "INSERT 0 3"
                written = int(status.rsplit(" ", 1)[1]) == len(rows)
            else:
                written = await _one_transaction(
                    driver, engine.dialect, shape=shape, params=params, rows=rows, state=state
                )
        except INTEGRITY_ERRORS:
            return None  # an id or seq already taken: nothing was written, the full path decides
        except BaseException:
            await connection.invalidate()  # mid-statement or broken: never back into the pool
            raise
    return Head(state=state, hash=last_hash) if written else None


@dataclass(frozen=True)
class _Shape:
    """What decides the statement: how many events, a first append or not, and the unit rows to write."""

    events: int
    new_item: bool
    units: int | None  # None: the assignments did not change


def _item_values() -> dict[str, Any]:
    return {
        name: bindparam(f"item_{name}", type_=column.type) for name, column in items.c.items() if name != "id"
    }


@lru_cache(maxsize=1)
def _guarded_update() -> Update:
    """UPDATE items to the new state, only if the read model and the log both end at the cached head."""
    item_id, seq = bindparam("guard_item", type_=items.c.id.type), bindparam("guard_seq", type_=Integer())
    return (
        update(items)
        .where(
            items.c.id == item_id,
            items.c.last_seq == seq,
            exists().where(
                audit_events.c.item_id == item_id,
                audit_events.c.seq == seq,
                audit_events.c.hash == bindparam("guard_hash"),
            ),
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
def _one_statement(shape: _Shape) -> Insert:
    """PostgreSQL: the guard as a CTE; unit rows and events written only if it moved the items row.

    One statement is one transaction: every write lands or none does. Built once per shape.
    """
    guard = (_new_item_row(postgresql) if shape.new_item else _guarded_update()).returning(items.c.id)
    moved = guard.cte("moved")
    if_moved = exists(select(moved.c.id))
    ctes = [moved]
    if shape.units is not None:
        if not shape.new_item:
            stale = delete(item_units).where(item_units.c.item_id == bindparam("guard_item"), if_moved)
            if shape.units:
                stale = stale.where(
                    item_units.c.unit_id.not_in([bindparam(f"unit_unit_id_{n}") for n in range(shape.units)])
                )
            ctes.append(stale.returning(item_units.c.unit_id).cte("stale"))
        if shape.units:
            put = postgresql.insert(item_units).from_select(
                list(_UNIT_COLUMNS), _rows_of(item_units, "unit_", _UNIT_COLUMNS, shape.units, if_moved)
            )
            put = put.on_conflict_do_update(
                index_elements=["item_id", "unit_id"],
                set_={"part": put.excluded.part, "status": put.excluded.status},
            )
            ctes.append(put.returning(item_units.c.unit_id).cte("put"))
    events = _rows_of(audit_events, "", _EVENT_COLUMNS, shape.events, if_moved)
    return (
        insert(audit_events)
        .from_select([audit_events.c[name] for name in _EVENT_COLUMNS], events)
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


async def _one_transaction(
    driver: Any,
    dialect: Dialect,
    *,
    shape: _Shape,
    params: dict[str, Any],
    rows: list[dict[str, Any]],
    state: ItemState,
) -> bool:
    """SQLite: guard, unit rows, events, in one write transaction; False (rolled back) if the guard fails."""
    await driver.execute("BEGIN IMMEDIATE")
    try:
        if shape.new_item:
            new = _statement(("new item",), dialect)
            await driver.execute(new.sql, new.args(params))  # IntegrityError if the row exists
        else:
            guard = _statement(("guard",), dialect)
            if (await driver.execute(guard.sql, guard.args(params))).rowcount != 1:
                await driver.execute("ROLLBACK")
                return False
        if shape.units is not None:
            stale = _statement(("unit rows gone",), dialect)
            await driver.execute(stale.sql, stale.args(params))
            put = _statement(("unit row",), dialect)
            await driver.executemany(put.sql, [put.args(unit) for unit in unit_rows(state)])
        event = _statement(("event row",), dialect)
        await driver.executemany(event.sql, [event.args(row) for row in rows])
    except INTEGRITY_ERRORS:
        await driver.execute("ROLLBACK")
        raise
    await driver.execute("COMMIT")
    return True


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
def _statement(key: tuple[Any, ...], dialect: Dialect) -> DriverStatement:
    """The statement `key` names (its builder, then its arguments), compiled once per dialect."""
    name, *args = key
    return DriverStatement.compile(_STATEMENTS[name](*args), dialect)

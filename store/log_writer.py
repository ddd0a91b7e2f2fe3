"""The one writer of the audit log and its read model: an item's next events after a known head.

Every append, and every rebuild of a read-model row, ends here. The caller brings the head it
writes after: the item's state folded up to its last logged event, that event's hash, and what
the items row says now (its last_seq, or no row). The head comes from `HeadCache` (the head this
process wrote last: no read at all, the usual case as the workflow appends one action at a
time) or from reading the log (`EventLog.append` otherwise). `write_on_head` writes the events, the
items row and the unit-assignment rows in as few round trips as the back-end allows, guarded in
SQL by what the head claims: the items row still ends where the head says and the log's event at
the head's seq still carries the head's hash (and a taken event id or seq refuses the insert).
When the guard fails nothing is written and the caller reads the head again. The guarantees:
one transaction, gapless seqs, each prev_hash the hash before it, the read model in step.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import RecordedEvent
from domain.state import ItemState
from ledger.hashing import GENESIS_HASH, chain_hash
from store.append_sql import EVENT_COLUMNS, UNIT_COLUMNS, Shape, statement
from store.driver_sql import INTEGRITY_ERRORS, driver_of
from store.projection import item_row, unit_rows

__all__ = ["Head", "HeadCache", "event_row", "follows", "new_item", "write_on_head"]

# Enough for the items a worker is busy with at once; an item that falls out costs its next
# append one read of the head. Each head holds a folded state (~23 KB for an item just opened,
# more later in its life), so 1,024 heads held ~25 MiB of a worker with many open items.
HEAD_CACHE_SIZE = 256


@dataclass(frozen=True)
class Head:
    """An item's state folded up to its last logged event, that event's hash, and its read model.

    `row_seq` is the items row's last_seq as it stands (None: the item has no row); it differs
    from `state.last_seq` only when the read model lags the log. `units_current` says whether
    the item_units rows hold `state.assignments`; when they may not, the write rewrites them.
    """

    state: ItemState
    hash: str
    row_seq: int | None
    units_current: bool = True

    @classmethod
    def written(cls, state: ItemState, hash_: str) -> Head:
        """The head after a write: the read model holds `state` exactly."""
        return cls(state=state, hash=hash_, row_seq=state.last_seq)


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
        """Drop the item's head (its append is under way, or failed)."""
        self._heads.pop(item_id, None)


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
    """True if `events` are exactly the next seqs after `head` (writing on a cached head needs it)."""
    return all(event.seq == head.state.last_seq + n for n, event in enumerate(events, start=1))


def new_item() -> Head:
    """The head of an item with no events yet: the guard then asks that it have no items row."""
    return Head(state=ItemState(), hash=GENESIS_HASH, row_seq=None)


async def write_on_head(
    engine: AsyncEngine, item_id: str, head: Head, events: Sequence[RecordedEvent], state: ItemState
) -> tuple[Head, list[str]] | None:
    """Write `events` after `head` and the read model of `state`; the new head and each event's
    hash, or None (nothing written) if the guard failed: the log or the read model moved on.

    `events` must follow `head` (see `follows`) and `state` be their fold onto `head.state`; with
    no events, only the read model is written (a rebuild). PostgreSQL writes everything in one
    statement; SQLite in one transaction whose first statement is the guard
    (store/append_sql.py). An event seq or id already taken is None too.
    """
    rows: list[dict[str, Any]] = []
    last_hash = head.hash
    for event in events:
        hash_ = chain_hash(last_hash, event)
        rows.append(event_row(event, last_hash, hash_))
        last_hash = hash_
    rewrite_units = not head.units_current or state.assignments != head.state.assignments
    shape = Shape(
        events=len(rows),
        new_row=head.row_seq is None,
        units=len(state.assignments) if rewrite_units else None,
        # Unit rows may exist unless the item is brand new (the cache's head for its first events).
        stale_units=not head.units_current or (rewrite_units and head.state.last_seq > 0),
    )
    params: dict[str, Any] = {
        "guard_item": item_id,
        "guard_row_seq": head.row_seq,
        "guard_seq": head.state.last_seq,
        "guard_hash": head.hash,
    }
    params.update({f"item_{name}": value for name, value in item_row(state).items() if name != "id"})
    async with engine.connect() as connection:
        driver = await driver_of(connection)
        try:
            if engine.dialect.name == "postgresql":
                for n, row in enumerate(rows):
                    params.update({f"{name}_{n}": row[name] for name in EVENT_COLUMNS})
                for n, unit in enumerate(unit_rows(state) if shape.units else []):
                    params.update({f"unit_{name}_{n}": unit[name] for name in UNIT_COLUMNS})
                one = statement(("one statement", shape), engine.dialect)
                if rows:
                    status = await driver.execute(one.sql, *one.args(params))  # e.g. "INSERT 0 3"
                    written = int(status.rsplit(" ", 1)[1]) == len(rows)
                else:
                    written = bool(await driver.fetchval(one.sql, *one.args(params)))
            else:
                written = await _one_transaction(
                    driver, engine.dialect, shape=shape, params=params, rows=rows, state=state
                )
        except INTEGRITY_ERRORS:
            return None  # an id or seq already taken: nothing was written, the caller reads again
        except BaseException:
            await connection.invalidate()  # mid-statement or broken: never back into the pool
            raise
    return (Head.written(state, last_hash), [row["hash"] for row in rows]) if written else None


async def _one_transaction(
    driver: Any,
    dialect: Dialect,
    *,
    shape: Shape,
    params: dict[str, Any],
    rows: list[dict[str, Any]],
    state: ItemState,
) -> bool:
    """SQLite: guard, unit rows, events, in one write transaction; False (rolled back) if the guard fails."""
    await driver.execute("BEGIN IMMEDIATE")
    try:
        if shape.new_row:
            new = statement(("new item",), dialect)
            await driver.execute(new.sql, new.args(params))  # IntegrityError if the row exists
        else:
            guard = statement(("guard",), dialect)
            if (await driver.execute(guard.sql, guard.args(params))).rowcount != 1:
                await driver.execute("ROLLBACK")
                return False
        if shape.units is not None:
            if shape.stale_units:
                stale = statement(("unit rows gone",), dialect)
                await driver.execute(stale.sql, stale.args(params))
            put = statement(("unit row",), dialect)
            await driver.executemany(put.sql, [put.args(unit) for unit in unit_rows(state)])
        if rows:
            event = statement(("event row",), dialect)
            await driver.executemany(event.sql, [event.args(row) for row in rows])
    except INTEGRITY_ERRORS:
        await driver.execute("ROLLBACK")
        raise
    await driver.execute("COMMIT")
    return True

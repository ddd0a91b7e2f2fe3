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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, bindparam, delete, exists, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert, Update

from domain.events import RecordedEvent
from domain.fold import fold
from domain.state import ItemState
from ledger.hashing import chain_hash
from store.db import begin_write
from store.projection import item_row, unit_rows
from store.schema import audit_events, item_units, items

__all__ = ["Head", "HeadCache", "append_on_head", "event_row"]

# Enough for every item a worker is busy with; an item that falls out takes the full path once.
HEAD_CACHE_SIZE = 1024
# What an append writes: every column but the surrogate key and the database's own recorded_at.
_EVENT_COLUMNS = tuple(c.name for c in audit_events.c if c.name not in {"id", "recorded_at"})


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


async def append_on_head(
    sessions: async_sessionmaker[AsyncSession], head: Head, events: Sequence[RecordedEvent]
) -> Head | None:
    """Write `events` after `head`; the new head, or None (nothing written) if the log moved on.

    `events` must follow `head` (see `follows`). PostgreSQL writes events and read model in one
    statement when the item's unit assignments are unchanged; otherwise, and on SQLite, one
    transaction whose first statement is the guarded read-model update.
    """
    params: dict[str, Any] = {"guard_item": head.state.id, "guard_seq": head.state.last_seq}
    params["guard_hash"] = head.hash
    rows: list[dict[str, Any]] = []
    last_hash = head.hash
    for event in events:
        hash_ = chain_hash(last_hash, event)
        rows.append(event_row(event, last_hash, hash_))
        last_hash = hash_
    state = fold(events, head.state)
    params.update({f"item_{name}": value for name, value in item_row(state).items() if name != "id"})
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql" and state.assignments == head.state.assignments:
            for n, row in enumerate(rows):
                params.update({f"{name}_{n}": row[name] for name in _EVENT_COLUMNS})
            connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            result = await connection.execute(_update_then_insert(len(rows)), params)
            written = result.rowcount == len(rows)
        else:
            written = await _one_transaction(session, params, rows, state, head.state)
    return Head(state=state, hash=last_hash) if written else None


@lru_cache(maxsize=1)
def _guarded_update() -> Update:
    """UPDATE items to the new state, only if the read model and the log both end at the cached head."""
    item_id, seq = bindparam("guard_item", type_=items.c.id.type), bindparam("guard_seq", type_=Integer())
    values = {name: bindparam(f"item_{name}", type_=column.type) for name, column in items.c.items()}
    del values["id"]
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
        .values(values)
    )


@lru_cache(maxsize=16)
def _update_then_insert(count: int) -> Insert:
    """PostgreSQL: the guarded update as a CTE, `count` events inserted only if it moved the row.

    One statement is one transaction: both writes land or neither does. Built once per count.
    """
    guard = _guarded_update().returning(items.c.id).cte("moved")
    selects = [
        select(*(bindparam(f"{name}_{n}", type_=audit_events.c[name].type) for name in _EVENT_COLUMNS)).where(
            exists(select(guard.c.id))
        )
        for n in range(count)
    ]
    source = selects[0] if count == 1 else union_all(*selects)
    return (
        insert(audit_events)
        .from_select([audit_events.c[name] for name in _EVENT_COLUMNS], source)
        .add_cte(guard)
    )


async def _one_transaction(
    session: AsyncSession,
    params: dict[str, Any],
    rows: list[dict[str, Any]],
    state: ItemState,
    before: ItemState,
) -> bool:
    async with session.begin() as transaction:
        await begin_write(session)
        if (await session.execute(_guarded_update(), params)).rowcount != 1:  # type: ignore[attr-defined]
            await transaction.rollback()
            return False
        if state.assignments != before.assignments:
            await session.execute(delete(item_units).where(item_units.c.item_id == state.id))
            if units := unit_rows(state):
                await session.execute(insert(item_units), units)
        await session.execute(insert(audit_events), rows)
    return True

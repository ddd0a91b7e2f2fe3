"""The append-only, hash-chained audit log, and the read model kept in step with it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.events import RecordedEvent
from domain.fold import fold
from domain.people import Actor, Role
from domain.stages import Stage
from domain.state import ItemState
from ledger.chain import ChainLink, ChainReport, ChainWalk, FailureKind
from ledger.hashing import GENESIS_HASH, chain_hash, fast_event_json, instant_json
from store.db import begin_write
from store.errors import StoreError
from store.log_writer import Head, HeadCache, follows, new_item, write_on_head
from store.projection import UnknownReadModelVersion, forget_read_model, read_state
from store.schema import audit_events, items

__all__ = ["AppendReceipt", "ChainReport", "EventLog", "SeqConflict", "StoredEvent"]

_APPEND_ATTEMPTS = 5
_STREAM_BATCH = 500
_CHAIN_FIELDS = frozenset({"recorded_at", "prev_hash", "hash"})
_STAGES = frozenset(stage.value for stage in Stage)
_ROLES = frozenset(role.value for role in Role)
_ACTORS: dict[tuple[Any, ...], Actor] = {}
_ACTORS_KEPT = 4096
# A row of EVENT_COLUMNS (a SQLAlchemy Row or a driver's record), possibly with more columns after.
EventRow = Sequence[Any]
EVENT_COLUMNS = (
    audit_events.c.event_id,
    audit_events.c.item_id,
    audit_events.c.seq,
    audit_events.c.type,
    audit_events.c.stage,
    audit_events.c.actor_id,
    audit_events.c.actor_role,
    audit_events.c.actor_unit,
    audit_events.c.actor_name,
    audit_events.c.occurred_at,
    audit_events.c.recorded_at,
    audit_events.c.payload,
    audit_events.c.prev_hash,
    audit_events.c.hash,
)


class StoredEvent(RecordedEvent):
    """A recorded event as the log holds it: with DB time and its place in the chain."""

    recorded_at: datetime
    prev_hash: str
    hash: str

    def canonical(self) -> dict[str, Any]:
        """The hashed JSON form: the RecordedEvent fields only, never the chain's own."""
        return self.model_dump(mode="json", exclude=set(_CHAIN_FIELDS))


class AppendReceipt(BaseModel):
    """What an append did: new rows, rows already there (a retry), the chain head after it, and the
    hash each appended event is logged under (in the order given), which proves its content."""

    model_config = ConfigDict(frozen=True)

    appended: int
    already_present: int
    last_seq: int
    last_hash: str
    hashes: list[str] = []


class SeqConflict(StoreError):
    """An event's seq is not the chain head + 1, or an existing event id carries different content."""


def stored_event(row: EventRow) -> StoredEvent:
    """The event a row of EVENT_COLUMNS holds (raises ValidationError if it no longer parses).

    Columns are read by position (EVENT_COLUMNS order; later columns are ignored), so any row
    of them works: SQLAlchemy's, or a driver's record.
    """
    actor_key = (row[5], row[6], row[7], row[8])
    actor = _ACTORS.get(actor_key)
    event = StoredEvent(
        id=row[0],
        item_id=row[1],
        seq=row[2],
        type=row[3],
        stage=row[4],
        actor=actor if actor is not None else {"id": row[5], "role": row[6], "unit": row[7], "name": row[8]},
        occurred_at=row[9],
        payload=row[11],
        recorded_at=row[10],
        prev_hash=row[12],
        hash=row[13],
    )
    if actor is None and all(value is None or type(value) is str for value in actor_key):
        # A log has few distinct actors: validate each once. Keyed by exact str values only,
        # so a hit is the very model pydantic built from equal input.
        if len(_ACTORS) >= _ACTORS_KEPT:
            _ACTORS.clear()
        _ACTORS[actor_key] = event.actor
    return event


def _fast_content(row: EventRow) -> bytes | None:
    """The canonical bytes of the event `row` reads as, written straight from its columns.

    `stored_event(row)` followed by `canonical_bytes` gives the same bytes at several times the
    cost. This shortcut answers only for rows it can vouch for: every column of the exact type
    the driver returns and StoredEvent accepts unchanged (an enum column one of its values, an
    instant in UTC, a JSON object payload the C encoder canonicalises); for any other row it
    returns None and the caller parses the row the long way, which reports a row that no
    longer reads as an event. tests/store/test_event_log.py holds the two ways to the same bytes.
    """
    (event_id, item_id, seq, type_, stage, actor_id, actor_role, actor_unit, actor_name) = row[:9]
    occurred_at, recorded_at, payload, prev_hash, hash_ = row[9], row[10], row[11], row[12], row[13]
    if not (
        type(event_id) is str
        and type(item_id) is str
        and type(seq) is int
        and seq >= 1
        and type(type_) is str
        and type(stage) is str
        and stage in _STAGES
        and type(actor_id) is str
        and type(actor_role) is str
        and actor_role in _ROLES
        and (actor_unit is None or type(actor_unit) is str)
        and type(actor_name) is str
        and type(occurred_at) is datetime
        and occurred_at.tzinfo is UTC
        and type(recorded_at) is datetime
        and type(payload) is dict
        and type(prev_hash) is str
        and type(hash_) is str
    ):
        return None
    return fast_event_json(
        event_id=event_id,
        item_id=item_id,
        seq=seq,
        type_=type_,
        stage=stage,
        actor_id=actor_id,
        actor_role=actor_role,
        actor_unit=actor_unit,
        actor_name=actor_name,
        occurred_at=instant_json(occurred_at),
        payload=payload,
    )


def _link(row: EventRow) -> ChainLink:
    item_id, seq, event_id, prev_hash, hash_ = row[1], row[2], row[0], row[12], row[13]
    content = _fast_content(row)
    if content is not None:
        return ChainLink(item_id, seq, event_id, prev_hash, hash_, content=content)
    try:
        event: StoredEvent | None = stored_event(row)
        unreadable = ""
    except ValidationError as error:
        event, unreadable = None, f"{error.error_count()} validation errors"
    return ChainLink(item_id, seq, event_id, prev_hash, hash_, event=event, unreadable=unreadable)


def _one_item(events: Sequence[RecordedEvent]) -> str:
    item_ids = {event.item_id for event in events}
    if len(item_ids) != 1:
        raise StoreError(
            f"一次追加只能包含一个事项的事件 / one append holds one item's events, got {sorted(item_ids)}"
        )
    return item_ids.pop()


class EventLog:
    """Append, read and verify the audit log; every append updates the read model atomically."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._heads = HeadCache()

    async def append(self, events: Sequence[RecordedEvent]) -> AppendReceipt:
        """Append one item's events in seq order; events whose ids are already logged are skipped.

        Raises SeqConflict (writing nothing) if a new event's seq is not the head + 1 or an
        existing id carries different content. One way to the log: the events are written after
        a head (store/log_writer.py), the one this process wrote last if it holds it, else the
        one read from the log; a head that moved on meanwhile is read again.
        """
        if not events:
            return AppendReceipt(appended=0, already_present=0, last_seq=0, last_hash=GENESIS_HASH)
        item_id = _one_item(events)
        head = self._heads.get(item_id) or (new_item() if events[0].seq == 1 else None)
        self._heads.forget(item_id)  # put back only once the new head is committed
        if head is not None and follows(head, events):
            # No read: the head this process wrote last (or an item's first events).
            written = await write_on_head(self._engine, item_id, head, events, fold(events, head.state))
            if written is not None:
                moved, hashes = written
                self._heads.put(item_id, moved)
                return AppendReceipt(
                    appended=len(events),
                    already_present=0,
                    last_seq=moved.state.last_seq,
                    last_hash=moved.hash,
                    hashes=hashes,
                )
        for attempt in range(1, _APPEND_ATTEMPTS + 1):
            async with self._sessions() as session, session.begin():
                draft = await _draft(session, item_id, events)
            if not draft.new:
                return draft.receipt  # every event already logged (a retry): nothing to write
            written = await write_on_head(
                self._engine, item_id, draft.head, draft.new, fold(draft.new, draft.head.state)
            )
            if written is not None:
                self._heads.put(item_id, written[0])
                return draft.receipt
            # A concurrent writer moved the log or the read model between the read and the write.
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 — jitter, not secrecy
        raise StoreError(
            f"事项 {item_id} 的日志在 {_APPEND_ATTEMPTS} 次尝试中都被并发写入改变，请重试 / "
            f"item {item_id}'s log moved under {_APPEND_ATTEMPTS} attempts in a row; retry"
        )

    async def read(
        self, item_id: str, *, until: datetime | None = None, from_seq: int = 1
    ) -> list[StoredEvent]:
        """The item's events ordered by seq, from `from_seq`; with `until`, those that occurred by then."""
        statement = select(*EVENT_COLUMNS).where(audit_events.c.item_id == item_id)
        if until is not None:
            statement = statement.where(audit_events.c.occurred_at <= until)
        if from_seq > 1:
            statement = statement.where(audit_events.c.seq >= from_seq)
        async with self._sessions() as session:
            rows = (await session.execute(statement.order_by(audit_events.c.seq))).all()
        return [stored_event(row) for row in rows]

    async def verify_item(self, item_id: str) -> ChainReport:
        """Check one item's chain: gapless seq from 1, linked prev_hash, recomputed hashes, unique ids."""
        statement = (
            select(*EVENT_COLUMNS).where(audit_events.c.item_id == item_id).order_by(audit_events.c.seq)
        )
        walk = ChainWalk()
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        for row in rows:
            if (report := walk.feed(_link(row))) is not None:
                return report
        return walk.success()

    async def verify_all(self) -> ChainReport:
        """Check every item's chain, streaming the log in (item_id, seq) order; stop at the first bad row."""
        walk = ChainWalk()
        statement = (
            select(*EVENT_COLUMNS)
            .order_by(audit_events.c.item_id, audit_events.c.seq)
            .execution_options(yield_per=_STREAM_BATCH)
        )
        async with self._sessions() as session, session.begin():
            result = await session.stream(statement)
            # A batch per await: one greenlet switch per row costs as much as hashing the row.
            async for rows in result.partitions():
                for row in rows:
                    if (report := walk.feed(_link(row))) is not None:
                        await result.close()
                        return report
            duplicate = await _duplicate_event_id(session)
        if duplicate is not None:
            event_id, item_id, seq = duplicate
            return walk.failure(
                item_id,
                seq,
                FailureKind.DUPLICATE_EVENT_ID,
                f"事件编号 {event_id} 重复出现 / event id {event_id} appears more than once",
            )
        return walk.success()

    async def rebuild_read_model(self, item_id: str) -> ItemState:
        """Refold the item from its events and rewrite its read-model rows; returns the state."""
        self._heads.forget(item_id)
        for attempt in range(1, _APPEND_ATTEMPTS + 1):
            async with self._sessions() as session, session.begin():
                events = await _events_of(session, item_id)
                row_seq = await session.scalar(select(items.c.last_seq).where(items.c.id == item_id))
            if not events:
                async with self._sessions() as session, session.begin():
                    await begin_write(session)
                    logged = await session.scalar(
                        select(func.count()).where(audit_events.c.item_id == item_id)
                    )
                    if not logged:  # still none under the write lock: the item has no read model
                        await forget_read_model(session, item_id)
                        return ItemState()
                continue
            state = fold(events)
            # Written as a head whose read model is unknown: the whole row and every unit row.
            head = Head(state=state, hash=events[-1].hash, row_seq=row_seq, units_current=False)
            if await write_on_head(self._engine, item_id, head, [], state) is not None:
                return state
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 — jitter, not secrecy
        raise StoreError(
            f"事项 {item_id} 的读模型重建未能完成，请重试 / item {item_id}'s rebuild kept racing; retry"
        )


@dataclass(frozen=True)
class _Draft:
    """What an append found in the log: the head to write after, the events still to write, and
    the receipt the append answers once they are written."""

    head: Head
    new: list[RecordedEvent]
    receipt: AppendReceipt


async def _draft(session: AsyncSession, item_id: str, events: Sequence[RecordedEvent]) -> _Draft:
    """Read the chain head and any of `events` already logged (one round trip), and the read model.

    Raises SeqConflict if an event already logged carries other content, or a new one does not
    follow the head. The head's state is the read model's when it ends at the head, else the
    log's own fold (a lost row, an interrupted rebuild, a row in a shape this release cannot
    read), and then the writer rewrites the whole row.
    """
    ids = {event.id for event in events}
    head_seq_of_item = (
        select(func.max(audit_events.c.seq)).where(audit_events.c.item_id == item_id).scalar_subquery()
    )
    found = (
        await session.execute(
            select(
                audit_events.c.event_id,
                audit_events.c.item_id,
                audit_events.c.seq,
                audit_events.c.prev_hash,
                audit_events.c.hash,
            ).where(
                or_(
                    audit_events.c.event_id.in_(ids),
                    and_(audit_events.c.item_id == item_id, audit_events.c.seq == head_seq_of_item),
                )
            )
        )
    ).all()
    head = max((row for row in found if row.item_id == item_id), key=lambda row: row.seq, default=None)
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
    log_seq, log_hash = head_seq, head_hash
    known: dict[str, tuple[str, str]] = {
        row.event_id: (row.prev_hash, row.hash) for row in found if row.event_id in ids
    }
    new: list[RecordedEvent] = []
    present = 0
    for event in events:
        if (logged := known.get(event.id)) is not None:
            if chain_hash(logged[0], event) != logged[1]:
                raise SeqConflict(
                    f"事件 {event.id} 已记录但内容不同 / "
                    f"event {event.id} is already logged with different content"
                )
            present += 1
            continue
        if event.seq != head_seq + 1:
            raise SeqConflict(
                f"事项 {item_id} 的下一个序号应为 {head_seq + 1}，收到 {event.seq} / "
                f"item {item_id} expects seq {head_seq + 1}, got {event.seq} (event {event.id})"
            )
        hash_ = chain_hash(head_hash, event)
        new.append(event)
        known[event.id] = (head_hash, hash_)
        head_seq, head_hash = event.seq, hash_
    receipt = AppendReceipt(
        appended=len(new),
        already_present=present,
        last_seq=head_seq,
        last_hash=head_hash,
        hashes=[known[event.id][1] for event in events],
    )
    if not new:
        return _Draft(head=Head(state=ItemState(), hash=log_hash, row_seq=None), new=new, receipt=receipt)
    return _Draft(head=await _head_of(session, item_id, log_seq, log_hash), new=new, receipt=receipt)


async def _head_of(session: AsyncSession, item_id: str, log_seq: int, log_hash: str) -> Head:
    """The head at the log's last event (`log_seq`, `log_hash`), with the read model as it stands."""
    row = (
        await session.execute(select(items.c.last_seq, items.c.state).where(items.c.id == item_id))
    ).first()
    row_seq = None if row is None else int(row.last_seq)
    if row_seq == log_seq and row is not None:
        try:
            return Head(state=read_state(row.state), hash=log_hash, row_seq=row_seq)
        except UnknownReadModelVersion:
            pass  # a row in a shape this release cannot read: rewritten from the log's fold
    state = fold(await _events_of(session, item_id)) if log_seq else ItemState()
    return Head(state=state, hash=log_hash, row_seq=row_seq, units_current=False)


async def _events_of(session: AsyncSession, item_id: str) -> list[StoredEvent]:
    rows = await session.execute(
        select(*EVENT_COLUMNS).where(audit_events.c.item_id == item_id).order_by(audit_events.c.seq)
    )
    return [stored_event(row) for row in rows]


async def _duplicate_event_id(session: AsyncSession) -> tuple[str, str, int] | None:
    duplicated = (
        select(audit_events.c.event_id)
        .group_by(audit_events.c.event_id)
        .having(func.count() > 1)
        .limit(1)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(audit_events.c.event_id, audit_events.c.item_id, audit_events.c.seq)
            .where(audit_events.c.event_id == duplicated)
            .order_by(audit_events.c.item_id.desc(), audit_events.c.seq.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (row.event_id, row.item_id, row.seq)

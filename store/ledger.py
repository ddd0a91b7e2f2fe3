"""The sealer, the checkpoints and the ledger's verification against the audit log.

The sealer appends every committed audit event to the ledger exactly once, at the next gapless
position, under one writer lock. It never reads from "the last id it saw": surrogate ids are
handed out at insert but become visible at commit, out of order, so a cursor on them would skip
a slow transaction's rows. It looks instead for events the ledger does not hold yet (anti-join).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Row, Select, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.chain import ChainReport, FailureKind
from ledger.checkpoint import Checkpoint, Signer, signature_valid
from ledger.entry import LedgerEntry
from ledger.merkle import RootAccumulator
from store.db import begin_write
from store.ledger_tables import checkpoints, ledger
from store.schema import audit_events

SEAL_BATCH = 1000
_STREAM_BATCH = 1000
# pg_advisory_xact_lock key of the single ledger writer: 'duban-ld' as a 64-bit integer.
LEDGER_LOCK = int.from_bytes(b"duban-ld", "big") & 0x7FFF_FFFF_FFFF_FFFF
_NAMED_ITEMS = 5
LedgerRow = Row[*tuple[Any, ...]]


class SealReceipt(BaseModel):
    """What one sealing did: how many events it sealed and the ledger's size afterwards."""

    model_config = ConfigDict(frozen=True)

    sealed: int
    size: int


async def _lock(session: AsyncSession) -> None:
    """Become the ledger's only writer until the transaction ends."""
    await begin_write(session)  # SQLite: BEGIN IMMEDIATE is already the database-wide writer lock
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK})


async def _size(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(ledger.c.position), 0))) or 0)


def _entry(row: LedgerRow) -> LedgerEntry:
    return LedgerEntry.model_validate(row, from_attributes=True)


def checkpoint_of(row: LedgerRow) -> Checkpoint:
    """A checkpoint as the table holds it."""
    return Checkpoint.model_validate(row, from_attributes=True)


class Ledger:
    """Seal audit events into the ledger, sign checkpoints over it, and verify both."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def seal(self) -> SealReceipt:
        """Append every committed, not yet sealed audit event, in the order the log received them."""
        sealed = 0
        while True:
            async with self._sessions() as session, session.begin():
                await _lock(session)
                size = await _size(session)
                unsealed = (
                    select(
                        audit_events.c.event_id,
                        audit_events.c.item_id,
                        audit_events.c.seq,
                        audit_events.c.hash,
                    )
                    .outerjoin(ledger, ledger.c.event_id == audit_events.c.event_id)
                    .where(ledger.c.event_id.is_(None))
                    # The id orders a batch (an item's seq k precedes k + 1); it is never a cursor.
                    .order_by(audit_events.c.id)
                    .limit(SEAL_BATCH)
                )
                rows = (await session.execute(unsealed)).all()
                if rows:
                    await session.execute(
                        insert(ledger),
                        [
                            {"position": size + offset, **row._asdict()}
                            for offset, row in enumerate(rows, start=1)
                        ],
                    )
            sealed += len(rows)
            if len(rows) < SEAL_BATCH:
                return SealReceipt(sealed=sealed, size=size + len(rows))

    async def checkpoint(self, signer: Signer) -> Checkpoint:
        """Seal, then sign and store a checkpoint of the whole ledger."""
        await self.seal()
        async with self._sessions() as session, session.begin():
            await _lock(session)
            accumulator = RootAccumulator()
            async for entry in _entries(session, until=await _size(session)):
                accumulator.add(entry.leaf())
            signed = signer.sign(accumulator.size, accumulator.root().hex(), datetime.now(UTC))
            await session.execute(insert(checkpoints).values(**signed.model_dump()))
        return signed

    async def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, oldest first."""
        async with self._sessions() as session:
            rows = await session.execute(select(checkpoints).order_by(checkpoints.c.size, checkpoints.c.id))
            return [checkpoint_of(row) for row in rows]

    async def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint over the largest ledger, or None before the first."""
        stored = await self.checkpoints()
        return stored[-1] if stored else None

    async def entries(self, until: int) -> list[LedgerEntry]:
        """Ledger entries at positions 1..`until`."""
        async with self._sessions() as session, session.begin():
            return [entry async for entry in _entries(session, until=until)]

    async def verify(
        self, public_key: Ed25519PublicKey | None = None, published: Iterable[Checkpoint] = ()
    ) -> ChainReport:
        """Check the ledger against the audit log and every checkpoint (stored and `published`).

        Each position 1..size must be there once and name an event the log holds with the same
        item, seq and hash; each checkpoint's root must be the root of the ledger's first `size`
        entries; with `public_key`, each signature must verify.
        """
        stored = [*await self.checkpoints(), *published]
        pending = sorted(stored, key=lambda c: c.size)
        if public_key is not None:
            for checkpoint in pending:
                if not signature_valid(checkpoint, public_key):
                    return _failure(
                        FailureKind.BAD_SIGNATURE,
                        f"检查点签名无效 / the checkpoint of size {checkpoint.size}"
                        f" ({checkpoint.created_at.isoformat()}) is not signed by this key",
                        position=checkpoint.size,
                    )
        statement = (
            _ledger_beside_log().order_by(ledger.c.position).execution_options(yield_per=_STREAM_BATCH)
        )
        accumulator = RootAccumulator()
        items_since: list[str] = []
        good = 0
        async with self._sessions() as session, session.begin():
            result = await session.stream(statement)
            async for row in result:
                problem = _row_problem(row, accumulator.size + 1)
                if problem is not None:
                    await result.close()
                    return problem
                accumulator.add(_entry(row).leaf())
                if row.item_id not in items_since:
                    items_since.append(row.item_id)
                while pending and pending[0].size == accumulator.size:
                    checkpoint = pending.pop(0)
                    if checkpoint.root != accumulator.root().hex():
                        await result.close()
                        return _rewritten(checkpoint, good, items_since)
                    good, items_since = checkpoint.size, []
        if pending and pending[0].size == 0 and pending[0].root != accumulator.root().hex():
            return _rewritten(pending[0], 0, [])
        pending = [c for c in pending if c.size > 0]
        if pending:
            return _failure(
                FailureKind.LEDGER_SHORT,
                f"账本只有 {accumulator.size} 条，检查点记载 {pending[0].size} 条 / the ledger holds"
                f" {accumulator.size} entries, a signed checkpoint covers {pending[0].size}:"
                " entries were removed",
                position=accumulator.size + 1,
                position_end=pending[0].size,
            )
        return ChainReport(ok=True, items_checked=0, events_checked=accumulator.size)

    async def verify_item(self, item_id: str) -> ChainReport:
        """Check that the item's ledger entries name events the log holds with the same seq and hash."""
        statement = _ledger_beside_log().where(ledger.c.item_id == item_id).order_by(ledger.c.position)
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        for row in rows:
            if (problem := _row_problem(row, row.position)) is not None:
                return problem
        return ChainReport(ok=True, items_checked=1, events_checked=len(rows))


async def _entries(session: AsyncSession, until: int) -> AsyncIterator[LedgerEntry]:
    statement = (
        select(ledger.c.position, ledger.c.event_id, ledger.c.item_id, ledger.c.seq, ledger.c.hash)
        .where(ledger.c.position <= until)
        .order_by(ledger.c.position)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    result = await session.stream(statement)
    async for row in result:
        yield _entry(row)


def _failure(kind: FailureKind, problem: str, **where: Any) -> ChainReport:
    return ChainReport(ok=False, items_checked=0, events_checked=0, kind=kind, problem=problem, **where)


def _row_problem(row: LedgerRow, expected: int) -> ChainReport | None:
    position, item_id, seq = row.position, row.item_id, row.seq
    where = {"item_id": item_id, "seq": seq, "position": position}
    if position != expected:
        return _failure(
            FailureKind.LEDGER_GAP,
            f"账本位置不连续：应为 {expected}，实为 {position} / ledger gap: expected position {expected}",
            **{**where, "position": expected},
        )
    if row.log_hash is None:
        return _failure(
            FailureKind.EVENT_MISSING,
            "账本记载的事件已从审计日志中消失 / the ledger names an event the audit log no longer holds",
            **where,
        )
    if (row.log_item_id, row.log_seq, row.log_hash) != (item_id, seq, row.hash):
        return _failure(
            FailureKind.LEDGER_MISMATCH,
            "审计事件与账本记载不符（内容或位置被改写）/ the audit event differs from what the ledger sealed",
            **where,
        )
    return None


def _rewritten(checkpoint: Checkpoint, good: int, items: Sequence[str]) -> ChainReport:
    named = ", ".join(items[:_NAMED_ITEMS]) + (" …" if len(items) > _NAMED_ITEMS else "")
    return _failure(
        FailureKind.CHECKPOINT_MISMATCH,
        f"账本前 {checkpoint.size} 条的根与已签名检查点不符，位置 {good + 1}..{checkpoint.size} 被改写"
        f"（现涉及事项 {named or '无'}）/ the ledger no longer matches the signed checkpoint of size"
        f" {checkpoint.size}: positions {good + 1}..{checkpoint.size} were rewritten, inserted or removed",
        position=good + 1,
        position_end=checkpoint.size,
        item_id=items[0] if len(items) == 1 else None,
    )


def _ledger_beside_log() -> Select[Any]:
    """Ledger entries with the audit row each names (NULLs where the row is gone)."""
    return select(
        ledger.c.position,
        ledger.c.event_id,
        ledger.c.item_id,
        ledger.c.seq,
        ledger.c.hash,
        audit_events.c.item_id.label("log_item_id"),
        audit_events.c.seq.label("log_seq"),
        audit_events.c.hash.label("log_hash"),
    ).outerjoin(audit_events, audit_events.c.event_id == ledger.c.event_id)

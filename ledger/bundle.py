"""The export bundle (JSON lines) and its offline verification: no database, no server.

Line 1 is the header, line 2 the signed checkpoint, then one line per event in (item, seq)
order with its chain hashes, its ledger position and its inclusion proof against the
checkpoint's root. Every event covered by the checkpoint is in the bundle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.events import RecordedEvent
from ledger.chain import ChainLink, ChainReport, ChainWalk, FailureKind
from ledger.checkpoint import Checkpoint, signature_valid
from ledger.entry import LedgerEntry
from ledger.merkle import Tree, verify_inclusion

FORMAT = "duban-audit-bundle/1"


class BundleHeader(BaseModel):
    """Line 1: what the bundle is and what it holds."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["header"] = "header"
    format: str = FORMAT
    exported_at: datetime
    items: int
    events: int


class BundleCheckpoint(BaseModel):
    """Line 2: the signed checkpoint every event line proves itself against."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["checkpoint"] = "checkpoint"
    checkpoint: Checkpoint


class BundleEvent(BaseModel):
    """An event line: the event with its chain hashes, its ledger position and inclusion proof (hex)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["event"] = "event"
    event: RecordedEvent
    recorded_at: datetime
    prev_hash: str
    hash: str
    position: int | None
    proof: list[str]

    def entry(self) -> LedgerEntry | None:
        """The ledger entry this line claims, or None when it has no position."""
        if self.position is None:
            return None
        return LedgerEntry(
            position=self.position,
            event_id=self.event.id,
            item_id=self.event.item_id,
            seq=self.event.seq,
            hash=self.hash,
        )


def bundle_lines(
    exported_at: datetime,
    checkpoint: Checkpoint,
    events: Iterable[tuple[RecordedEvent, datetime, str, str]],
    positions: dict[str, int],
    leaves: list[bytes],
) -> Iterator[str]:
    """The bundle's lines: `events` as (event, recorded_at, prev_hash, hash) in (item, seq) order.

    `positions` maps event ids to ledger positions; `leaves` are the ledger's first
    `checkpoint.size` leaf hashes, from which each event's inclusion proof is cut.
    """
    listed = list(events)
    tree = Tree(leaves)
    yield _dump(
        BundleHeader(exported_at=exported_at, items=len({e.item_id for e, *_ in listed}), events=len(listed))
    )
    yield _dump(BundleCheckpoint(checkpoint=checkpoint))
    for event, recorded_at, prev_hash, hash_ in listed:
        position = positions.get(event.id)
        proof = [] if position is None else [node.hex() for node in tree.inclusion_proof(position - 1)]
        yield _dump(
            BundleEvent(
                event=event,
                recorded_at=recorded_at,
                prev_hash=prev_hash,
                hash=hash_,
                position=position,
                proof=proof,
            )
        )


def _dump(model: BaseModel) -> str:
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


class _Verifier:
    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self.public_key = public_key
        self.walk = ChainWalk()
        self.checkpoint: Checkpoint | None = None
        self.leaves: dict[int, bytes] = {}
        self.ids: set[str] = set()

    def fail(self, line: int, kind: FailureKind, problem: str, **where: Any) -> ChainReport:
        return self.walk.failure(
            where.pop("item_id", None), where.pop("seq", None), kind, problem, line=line, **where
        )

    def header(self, line: int, text: str) -> ChainReport | None:
        try:
            header = BundleHeader.model_validate_json(text)
        except ValidationError:
            return self.fail(line, FailureKind.MALFORMED, "不是审计导出包的首行 / not a bundle header")
        if header.format != FORMAT:
            return self.fail(line, FailureKind.MALFORMED, f"未知格式 / unknown format {header.format}")
        return None

    def signed(self, line: int, text: str) -> ChainReport | None:
        try:
            self.checkpoint = BundleCheckpoint.model_validate_json(text).checkpoint
        except ValidationError:
            return self.fail(line, FailureKind.MALFORMED, "第二行应为检查点 / line 2 must be the checkpoint")
        if not signature_valid(self.checkpoint, self.public_key):
            return self.fail(
                line,
                FailureKind.BAD_SIGNATURE,
                "检查点签名与公钥不符 / the checkpoint is not signed by this public key",
            )
        return None

    def event(self, line: int, text: str, checkpoint: Checkpoint) -> ChainReport | None:
        try:
            record = BundleEvent.model_validate_json(text)
        except ValidationError as error:
            return self.fail(
                line,
                FailureKind.MALFORMED,
                f"事件行无法解析 / unreadable event line: {error.errors()[0]['msg']}",
            )
        event = record.event
        where = {"item_id": event.item_id, "seq": event.seq}
        link = ChainLink(
            item_id=event.item_id,
            seq=event.seq,
            event_id=event.id,
            prev_hash=record.prev_hash,
            hash=record.hash,
            event=event,
        )
        if (report := self.walk.feed(link)) is not None:
            return report.model_copy(update={"line": line})
        if event.id in self.ids:
            return self.fail(
                line,
                FailureKind.DUPLICATE_EVENT_ID,
                f"事件编号 {event.id} 重复 / duplicate event id",
                **where,
            )
        self.ids.add(event.id)
        entry = record.entry()
        if entry is None or not 1 <= entry.position <= checkpoint.size:
            return self.fail(
                line,
                FailureKind.NOT_COVERED,
                "事件不在已签名检查点覆盖的账本内 / the event is not in the ledger the checkpoint signs",
                **where,
            )
        if entry.position in self.leaves:
            return self.fail(
                line,
                FailureKind.LEDGER_MISMATCH,
                f"账本位置 {entry.position} 重复 / ledger position used twice",
                **where,
            )
        leaf = entry.leaf()
        try:
            proof = [bytes.fromhex(node) for node in record.proof]
        except ValueError:
            proof = []
        if not verify_inclusion(
            entry.position - 1, checkpoint.size, leaf, proof, bytes.fromhex(checkpoint.root)
        ):
            return self.fail(
                line,
                FailureKind.BAD_PROOF,
                "包含证明不成立：事件与已签名账本不符 / inclusion proof fails:"
                " the event is not what the signed ledger holds",
                position=entry.position,
                **where,
            )
        self.leaves[entry.position] = leaf
        return None

    def complete(self, line: int, checkpoint: Checkpoint) -> ChainReport:
        for position in range(1, checkpoint.size + 1):
            if position not in self.leaves:
                return self.fail(
                    line,
                    FailureKind.EVENT_MISSING,
                    f"导出包缺少账本位置 {position} 的事件 /"
                    f" the bundle lacks the event at ledger position {position}",
                    position=position,
                )
        return self.walk.success()


def verify_bundle(lines: Iterable[str], public_key: Ed25519PublicKey) -> ChainReport:
    """Verify a bundle's lines: the signature, each chain, each proof, and that nothing is missing.

    The report names the first bad line (and item, seq, position where known) and the kind.
    """
    verifier = _Verifier(public_key)
    line = 0
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if line == 1:
            report = verifier.header(line, text)
        elif line == 2:
            report = verifier.signed(line, text)
        elif verifier.checkpoint is not None:
            report = verifier.event(line, text, verifier.checkpoint)
        else:
            report = verifier.fail(
                line, FailureKind.NO_CHECKPOINT, "导出包没有检查点 / the bundle has no checkpoint"
            )
        if report is not None:
            return report
    if verifier.checkpoint is None:
        return verifier.fail(
            line, FailureKind.NO_CHECKPOINT, "导出包没有检查点 / the bundle has no checkpoint"
        )
    return verifier.complete(line, verifier.checkpoint)


def bundle_events(lines: Iterable[str], item_id: str) -> list[RecordedEvent]:
    """The item's events as the bundle holds them, in seq order (verify the bundle first)."""
    events = []
    for line, text in enumerate(lines, start=1):
        if line > 2 and text.strip():
            record = BundleEvent.model_validate_json(text)
            if record.event.item_id == item_id:
                events.append(record.event)
    return sorted(events, key=lambda event: event.seq)

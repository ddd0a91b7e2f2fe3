"""Walking the audit chain and naming what is wrong: the checks behind every verification, free of I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.events import RecordedEvent
from ledger.hashing import GENESIS_HASH, canonical_bytes, link_hash


class FailureKind(StrEnum):
    """What kind of damage a verification found (stable names for scripts and tests)."""

    SEQ_GAP = "seq_gap"
    DUPLICATE_EVENT_ID = "duplicate_event_id"
    BAD_GENESIS = "bad_genesis"
    BROKEN_LINK = "broken_link"
    UNREADABLE = "unreadable"
    HASH_MISMATCH = "hash_mismatch"
    LEDGER_GAP = "ledger_gap"
    EVENT_MISSING = "event_missing"
    LEDGER_MISMATCH = "ledger_mismatch"
    LEDGER_SHORT = "ledger_short"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    BAD_SIGNATURE = "bad_signature"
    NO_CHECKPOINT = "no_checkpoint"
    NOT_COVERED = "not_covered"
    BAD_PROOF = "bad_proof"
    MALFORMED = "malformed"
    WORKFLOW_SPLIT = "workflow_split"


class ChainReport(BaseModel):
    """The outcome of a verification; on failure it names the first bad spot and its kind.

    `item_id` and `seq` locate damage in an item's chain; `position` a ledger entry; `line` a
    line of an export bundle. Damage the signed checkpoint catches is located to the positions
    (`position` .. `position_end`) the first failing checkpoint covers beyond the last good one.
    """

    model_config = ConfigDict(frozen=True)

    ok: bool
    items_checked: int
    events_checked: int
    item_id: str | None = None
    seq: int | None = None
    kind: FailureKind | None = None
    problem: str | None = None
    position: int | None = None
    position_end: int | None = None
    line: int | None = None

    def one_line(self) -> str:
        """The report as one line a person reads: where, what kind, and what is wrong."""
        if self.ok:
            return f"审计链完好 / audit log intact: {self.items_checked} items, {self.events_checked} events"
        where = [
            f"{label} {value}"
            for label, value in (
                ("line", self.line),
                ("item", self.item_id),
                ("seq", self.seq),
                ("position", self.position),
            )
            if value is not None
        ]
        if self.position_end is not None and self.position_end != self.position:
            where[-1] += f"..{self.position_end}"
        return (
            f"校验失败 / verification failed at {', '.join(where) or 'the log'}: [{self.kind}] {self.problem}"
        )


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One audit row as the walk sees it: its place, its hashes and the event it reads as.

    The event comes either parsed (`event`) or as the canonical bytes its hash covers
    (`content`, for readers that check a row reads as an event without building the model);
    neither means the row no longer reads as an event, `unreadable` saying why. A plain
    dataclass: one is built per row on every verification path, from values already read.
    """

    item_id: str
    seq: int
    event_id: str
    prev_hash: str
    hash: str
    event: RecordedEvent | None = None
    content: bytes | None = None
    unreadable: str = ""

    def canonical(self) -> bytes | None:
        """The canonical bytes of the event the row reads as (None: it reads as none)."""
        if self.content is not None:
            return self.content
        return None if self.event is None else canonical_bytes(self.event)


class ChainWalk:
    """Feed links ordered by (item_id, seq); the first problem ends the walk with a report."""

    def __init__(self) -> None:
        self.items_checked = 0
        self.events_checked = 0
        self._item: str | None = None
        self._seq = 0
        self._hash = GENESIS_HASH
        self._ids: set[str] = set()

    def feed(self, link: ChainLink) -> ChainReport | None:
        """Check one link against the chain so far; a report if it is bad, else None."""
        if link.item_id != self._item:
            self._item, self._seq, self._hash = link.item_id, 0, GENESIS_HASH
            self._ids.clear()  # ids repeated across items are the store's own query (memory stays per item)
            self.items_checked += 1
        self.events_checked += 1
        problem = self._problem(link)
        if problem is not None:
            return self.failure(link.item_id, link.seq, *problem)
        self._seq, self._hash = link.seq, link.hash
        self._ids.add(link.event_id)
        return None

    def _problem(self, link: ChainLink) -> tuple[FailureKind, str] | None:
        expected = self._seq + 1
        if link.seq != expected:
            return FailureKind.SEQ_GAP, (
                f"序号不连续：应为 {expected}，实为 {link.seq} / "
                f"sequence gap: expected {expected}, found {link.seq}"
            )
        if link.event_id in self._ids:
            return FailureKind.DUPLICATE_EVENT_ID, (
                f"事件编号 {link.event_id} 重复 / duplicate event id {link.event_id}"
            )
        if link.prev_hash != self._hash:
            if expected == 1:
                return FailureKind.BAD_GENESIS, (
                    "首条事件的 prev_hash 不是创世哈希 / the first prev_hash is not the genesis hash"
                )
            return FailureKind.BROKEN_LINK, (
                "prev_hash 与上一条事件的哈希不一致 / prev_hash does not match the previous event's hash"
            )
        content = link.canonical()
        if content is None:
            return FailureKind.UNREADABLE, (
                f"记录无法还原为事件（{link.unreadable}）/ the row no longer reads as an event"
            )
        if link_hash(link.prev_hash, content) != link.hash:
            return FailureKind.HASH_MISMATCH, (
                "哈希不符，事件内容已被改动 / hash mismatch: the event's content was altered"
            )
        return None

    def failure(
        self,
        item_id: str | None,
        seq: int | None,
        kind: FailureKind,
        problem: str,
        **where: int | None,
    ) -> ChainReport:
        """A failed report naming `item_id`, `seq` (and any of position, position_end, line)."""
        return ChainReport(
            ok=False,
            items_checked=self.items_checked,
            events_checked=self.events_checked,
            item_id=item_id,
            seq=seq,
            kind=kind,
            problem=problem,
            **where,
        )

    def success(self) -> ChainReport:
        """The report when every fed link checked out."""
        return ChainReport(ok=True, items_checked=self.items_checked, events_checked=self.events_checked)

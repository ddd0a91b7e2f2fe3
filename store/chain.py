"""Walking the audit chain: the checks behind verify_item and verify_all, free of I/O."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.events import RecordedEvent
from store.hashing import GENESIS_HASH, chain_hash


class ChainReport(BaseModel):
    """The outcome of a verification; on failure it names the first bad item and seq."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    items_checked: int
    events_checked: int
    item_id: str | None = None
    seq: int | None = None
    problem: str | None = None


class ChainLink(BaseModel):
    """One audit row as the walk sees it: the event (None if the row no longer parses) and its hashes."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    seq: int
    event_id: str
    prev_hash: str
    hash: str
    event: RecordedEvent | None
    unreadable: str = ""


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
            self._ids.clear()
            self.items_checked += 1
        self.events_checked += 1
        problem = self._problem(link)
        if problem is not None:
            return self.failure(link.item_id, link.seq, problem)
        self._seq, self._hash = link.seq, link.hash
        self._ids.add(link.event_id)
        return None

    def _problem(self, link: ChainLink) -> str | None:
        expected = self._seq + 1
        if link.seq != expected:
            return (
                f"序号不连续：应为 {expected}，实为 {link.seq} / "
                f"sequence gap: expected {expected}, found {link.seq}"
            )
        if link.event_id in self._ids:
            return f"事件编号 {link.event_id} 重复 / duplicate event id {link.event_id}"
        if link.prev_hash != self._hash:
            if expected == 1:
                return "首条事件的 prev_hash 不是创世哈希 / the first prev_hash is not the genesis hash"
            return "prev_hash 与上一条事件的哈希不一致 / prev_hash does not match the previous event's hash"
        if link.event is None:
            return f"记录无法还原为事件（{link.unreadable}）/ the row no longer reads as an event"
        if chain_hash(link.prev_hash, link.event) != link.hash:
            return "哈希不符，事件内容已被改动 / hash mismatch: the event's content was altered"
        return None

    def failure(self, item_id: str, seq: int | None, problem: str) -> ChainReport:
        """A failed report naming `item_id` and `seq`, with the counts so far."""
        return ChainReport(
            ok=False,
            items_checked=self.items_checked,
            events_checked=self.events_checked,
            item_id=item_id,
            seq=seq,
            problem=problem,
        )

    def success(self) -> ChainReport:
        """The report when every fed link checked out."""
        return ChainReport(ok=True, items_checked=self.items_checked, events_checked=self.events_checked)

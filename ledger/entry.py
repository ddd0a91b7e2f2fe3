"""One ledger entry: an audit event sealed at a gapless position, and its Merkle leaf."""

from __future__ import annotations

import rfc8785
from pydantic import BaseModel, ConfigDict

from ledger.merkle import leaf_hash


class LedgerEntry(BaseModel):
    """The event `event_id` (item `item_id`, `seq`, chain hash `hash`) sealed at `position` (from 1)."""

    model_config = ConfigDict(frozen=True)

    position: int
    event_id: str
    item_id: str
    seq: int
    hash: str

    def leaf(self) -> bytes:
        """The Merkle leaf hash: RFC 6962 leaf of the RFC 8785 JSON of (event_id, item_id, seq, hash).

        The position is the leaf's index in the tree, so it is not repeated inside the leaf.
        """
        data: dict[str, str | int] = {
            "event_id": self.event_id,
            "item_id": self.item_id,
            "seq": self.seq,
            "hash": self.hash,
        }
        return leaf_hash(bytes(rfc8785.dumps(data)))

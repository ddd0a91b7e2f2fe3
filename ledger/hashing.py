"""The audit chain's hash: sha256 over the previous hash and the event's RFC 8785 JSON."""

from __future__ import annotations

import hashlib

import rfc8785

from domain.events import RecordedEvent

GENESIS_HASH: str = "0" * 64
"""The `prev_hash` of every item's first event."""

_EVENT_FIELDS = frozenset(RecordedEvent.model_fields)


def canonical_bytes(event: RecordedEvent) -> bytes:
    """The event's canonical JSON (RFC 8785), over the RecordedEvent fields only.

    A StoredEvent carries its chain fields too; they are not part of what is hashed.
    """
    content = {key: value for key, value in event.canonical().items() if key in _EVENT_FIELDS}
    return bytes(rfc8785.dumps(content))


def chain_hash(prev_hash: str, event: RecordedEvent) -> str:
    """Hex sha256 of `prev_hash` (ASCII) followed by the event's canonical bytes."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_bytes(event)).hexdigest()

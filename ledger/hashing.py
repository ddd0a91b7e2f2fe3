"""The audit chain's hash: sha256 over the previous hash and the event's RFC 8785 JSON."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from domain.events import RecordedEvent

GENESIS_HASH: str = "0" * 64
"""The `prev_hash` of every item's first event."""

_EVENT_FIELDS = frozenset(RecordedEvent.model_fields)

_SAFE_INT = 2**53 - 1


def _json_dumps_agrees(value: Any) -> bool:
    """Whether `json.dumps` writes RFC 8785's bytes for `value`.

    It does when there are no floats (ECMAScript number formatting differs), every key is an
    ASCII string (code-point and UTF-16 key orders part only beyond the BMP) and every int is in
    JSON's safe range (RFC 8785 rejects the rest). Exact types only: subclasses such as enums
    may serialise differently. String escaping already agrees; lone surrogates fail the UTF-8
    encode, which `canonical_json` leaves to the fallback.
    """
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            if type(item) is not str and not _json_dumps_agrees(item):
                return False
        return True
    if kind is list:
        return all(type(item) is str or _json_dumps_agrees(item) for item in value)
    if kind is int:
        return bool(-_SAFE_INT <= value <= _SAFE_INT)
    return kind is str or kind is bool or value is None


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON-like value, byte for byte what `rfc8785.dumps` gives.

    The C `json` encoder writes the same bytes several times faster wherever the two agree;
    anything else goes through `rfc8785` itself, errors included.
    """
    if _json_dumps_agrees(value):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass
    return bytes(rfc8785.dumps(value))


def canonical_bytes(event: RecordedEvent) -> bytes:
    """The event's canonical JSON (RFC 8785), over the RecordedEvent fields only.

    A StoredEvent carries its chain fields too; they are not part of what is hashed.
    """
    content = {key: value for key, value in event.canonical().items() if key in _EVENT_FIELDS}
    return canonical_json(content)


def chain_hash(prev_hash: str, event: RecordedEvent) -> str:
    """Hex sha256 of `prev_hash` (ASCII) followed by the event's canonical bytes."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_bytes(event)).hexdigest()

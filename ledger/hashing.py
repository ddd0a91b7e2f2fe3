"""The audit chain's hash: sha256 over the previous hash and the event's RFC 8785 JSON."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import rfc8785

from domain.events import RecordedEvent

GENESIS_HASH: str = "0" * 64
"""The `prev_hash` of every item's first event."""

_EVENT_FIELDS = frozenset(RecordedEvent.model_fields)

_SAFE_INT = 2**53 - 1

# What json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
# The encoder's own string writer (ensure_ascii=False): quotes and escapes one str.
_quote = json.encoder.encode_basestring


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


def _fast_text(value: Any) -> str | None:
    return _ENCODER.encode(value) if _json_dumps_agrees(value) else None


def fast_canonical_json(value: Any) -> bytes | None:
    """RFC 8785 canonical JSON of `value` written by the C `json` encoder, or None where the two
    could differ (then only `canonical_json` gives the right bytes or error)."""
    text = _fast_text(value)
    if text is None:
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON-like value, byte for byte what `rfc8785.dumps` gives.

    The C `json` encoder writes the same bytes several times faster wherever the two agree;
    anything else goes through `rfc8785` itself, errors included.
    """
    fast = fast_canonical_json(value)
    return fast if fast is not None else bytes(rfc8785.dumps(value))


def canonical_bytes(event: RecordedEvent) -> bytes:
    """The event's canonical JSON (RFC 8785), over the RecordedEvent fields only.

    A StoredEvent carries its chain fields too; they are not part of what is hashed.
    """
    content = {key: value for key, value in event.canonical().items() if key in _EVENT_FIELDS}
    return canonical_json(content)


def chain_hash(prev_hash: str, event: RecordedEvent) -> str:
    """Hex sha256 of `prev_hash` (ASCII) followed by the event's canonical bytes."""
    return link_hash(prev_hash, canonical_bytes(event))


def link_hash(prev_hash: str, canonical: bytes) -> str:
    """Hex sha256 of `prev_hash` (ASCII) followed by an event's canonical bytes, already written."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def instant_json(moment: datetime) -> str:
    """An aware UTC instant as the events' JSON writes it (pydantic's form: ISO 8601 with "Z").

    `moment`'s `tzinfo` must be `datetime.UTC`, as a validated instant's is: its ISO form then
    ends in "+00:00", which pydantic writes as "Z".
    """
    return moment.isoformat()[:-6] + "Z"


def fast_event_json(
    *,
    event_id: str,
    item_id: str,
    seq: int,
    type_: str,
    stage: str,
    actor_id: str,
    actor_role: str,
    actor_unit: str | None,
    actor_name: str,
    occurred_at: str,
    payload: dict[str, Any],
) -> bytes | None:
    """`canonical_bytes` of the RecordedEvent whose JSON form (`canonical()`) holds these values,
    written without building the model — or None where only `canonical_bytes` can tell.

    The values are that JSON form's: exact `str` (enum values, `instant_json` for the instant),
    an exact `int` seq and a JSON object payload. The fixed fields are written in RFC 8785's
    key order around the payload's own canonical JSON; tests/ledger/test_canonical_json.py
    holds this to `canonical_bytes`.
    """
    if not -_SAFE_INT <= seq <= _SAFE_INT:
        return None
    body = _fast_text(payload)
    if body is None:
        return None
    unit = "null" if actor_unit is None else _quote(actor_unit)
    text = (
        f'{{"actor":{{"id":{_quote(actor_id)},"name":{_quote(actor_name)},"role":{_quote(actor_role)},'
        f'"unit":{unit}}},"id":{_quote(event_id)},"item_id":{_quote(item_id)},'
        f'"occurred_at":{_quote(occurred_at)},"payload":{body},"seq":{seq},'
        f'"stage":{_quote(stage)},"type":{_quote(type_)}}}'
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None

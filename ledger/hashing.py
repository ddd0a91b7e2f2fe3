"""The audit chain's hash: sha256 over the previous hash and the event's RFC 8785 JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import rfc8785
from pydantic import BaseModel

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


def _layout(model: type[BaseModel], prefix: str = "") -> tuple[str, tuple[str, ...]]:
    """A `str.format` template of `model`'s RFC 8785 JSON form, and its slots in order.

    Keys are the model's own field names in RFC 8785 order (code-unit order; every field name is
    ASCII, so `sorted` is that order); a field that is itself a model is laid out inline, its
    slots named `{field}_{inner}`. Each slot takes a value already written as JSON.
    """
    parts: list[str] = []
    slots: list[str] = []
    for name in sorted(model.model_fields):
        if not name.isascii():  # pragma: no cover — a guard for whoever adds such a field
            raise TypeError(f"{model.__name__}.{name}: the fast writer assumes ASCII field names")
        annotation = model.model_fields[name].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            inner, inner_slots = _layout(annotation, f"{prefix}{name}_")
            parts.append(f'"{name}":{inner}')
            slots.extend(inner_slots)
        else:
            parts.append(f'"{name}":{{{prefix}{name}}}')
            slots.append(f"{prefix}{name}")
    return "{{" + ",".join(parts) + "}}", tuple(slots)


def _writer(template: str, slots: tuple[str, ...]) -> Callable[..., str]:
    """A function writing `template` (a `_layout`) from its slots, positional in the order given,
    compiled as one f-string.

    Generated as `dataclasses` generates `__init__`: an f-string costs a fifth of `str.format`,
    and verification writes one per audit row. The source is built only from model field names.
    """
    source = f"def fill({', '.join(slots)}, /):\n    return f'{template}'\n"
    namespace: dict[str, Any] = {}
    exec(source, {}, namespace)  # noqa: S102 — source built from the model's own field names only
    fill: Callable[..., str] = namespace["fill"]
    return fill


# The event's canonical JSON laid out from RecordedEvent itself, so the fast writer and the model
# cannot drift apart: a field added to RecordedEvent (or Actor) changes the layout, and the
# import fails below until `fast_event_json` is given that field's value.
_EVENT_TEMPLATE, _EVENT_SLOTS = _layout(RecordedEvent)
# The values fast_event_json passes, in its call order (the template puts each in its place).
_FAST_SLOTS = (
    *("id", "item_id", "seq", "type", "stage"),
    *("actor_id", "actor_role", "actor_unit", "actor_name", "occurred_at", "payload"),
)
if frozenset(_EVENT_SLOTS) != frozenset(_FAST_SLOTS):  # pragma: no cover — fails at import, by design
    raise TypeError(
        f"RecordedEvent's fields changed ({sorted(frozenset(_EVENT_SLOTS) ^ frozenset(_FAST_SLOTS))}): "
        "teach fast_event_json (and the store's row reader) the new layout"
    )
_write_event = _writer(_EVENT_TEMPLATE, _FAST_SLOTS)


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
    an exact `int` seq and a JSON object payload. The key order is RecordedEvent's own, laid out
    once at import (`_layout`); tests/ledger/test_canonical_json.py holds this to
    `canonical_bytes` and to `rfc8785` for every event type.
    """
    if not -_SAFE_INT <= seq <= _SAFE_INT:
        return None
    body = _fast_text(payload)
    if body is None:
        return None
    text = _write_event(
        _quote(event_id),
        _quote(item_id),
        seq,
        _quote(type_),
        _quote(stage),
        _quote(actor_id),
        _quote(actor_role),
        "null" if actor_unit is None else _quote(actor_unit),
        _quote(actor_name),
        _quote(occurred_at),
        body,
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None

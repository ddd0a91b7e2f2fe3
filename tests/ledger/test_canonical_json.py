"""Property: the fast canonical JSON is byte for byte what rfc8785 writes, errors included.

Likewise an event's canonical bytes written straight from its fields, as verification does per row."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from domain.events import EVENT_TYPES, RecordedEvent, record
from domain.people import Actor, Role
from domain.stages import Stage
from ledger.hashing import canonical_bytes, canonical_json, fast_event_json, instant_json

SAFE = 2**53 - 1

# Control characters, quotes and backslashes, BMP and astral letters, and lone surrogates.
strings = st.one_of(
    st.text(),
    st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x20)),
    st.text(
        st.sampled_from(['"', "\\", "/", "\x7f", "\u2028", "督", "办", "\U0001f600", "\ud800", "\udfff"])
    ),
)
keys = st.one_of(st.text(max_size=6), st.sampled_from(["a", "b", "\uffff", "\U00010000", "é", "Z", "_"]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-SAFE, max_value=SAFE),
    st.sampled_from([SAFE, -SAFE, SAFE + 1, -SAFE - 1, 2**64]),
    st.floats(),
    strings,
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


def outcome(dumps: Any, value: Any) -> bytes | type[BaseException]:
    """The bytes written, or the kind of error raised."""
    try:
        return bytes(dumps(value))
    except rfc8785.CanonicalizationError as error:
        return type(error)


@settings(max_examples=2000)
@given(json_like)
def test_canonical_json_writes_exactly_rfc8785s_bytes(value: Any) -> None:
    assert outcome(canonical_json, value) == outcome(rfc8785.dumps, value)


@given(st.dictionaries(st.text(max_size=6), st.text(), min_size=2, max_size=8))
def test_non_ascii_keys_sort_in_utf16_order_like_rfc8785(value: dict[str, str]) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_keys_beyond_the_bmp_sort_before_high_bmp_keys_as_in_utf16() -> None:
    value = {"\uffff": 1, "\U00010000": 2}
    assert canonical_json(value) == rfc8785.dumps(value) == '{"𐀀":2,"\uffff":1}'.encode()


# One event's JSON form, field by field, as RecordedEvent.canonical() writes it.
instants = st.datetimes(timezones=st.just(UTC))
events = st.fixed_dictionaries(
    {
        "id": strings,
        "item_id": strings,
        "seq": st.one_of(st.integers(min_value=1, max_value=SAFE), st.sampled_from([SAFE + 1, 2**64])),
        "type": strings,
        "stage": st.sampled_from(list(Stage)),
        "actor": st.fixed_dictionaries(
            {
                "id": strings,
                "role": st.sampled_from(list(Role)),
                "unit": st.one_of(st.none(), strings),
                "name": strings,
            }
        ),
        "occurred_at": instants,
        "payload": st.dictionaries(keys, json_like, max_size=5),
    }
)


@given(instants)
def test_instant_json_is_pydantics_json_of_the_instant(moment: datetime) -> None:
    assert instant_json(moment) == TypeAdapter(datetime).dump_python(moment, mode="json")


@settings(max_examples=1000)
@given(events)
def test_fast_event_json_writes_the_events_canonical_bytes_or_declines(fields: dict[str, Any]) -> None:
    event = RecordedEvent.model_validate(fields)
    actor = fields["actor"]
    fast = fast_event_json(
        event_id=fields["id"],
        item_id=fields["item_id"],
        seq=fields["seq"],
        type_=fields["type"],
        stage=fields["stage"].value,
        actor_id=actor["id"],
        actor_role=actor["role"].value,
        actor_unit=actor["unit"],
        actor_name=actor["name"],
        occurred_at=instant_json(fields["occurred_at"]),
        payload=fields["payload"],
    )
    if fast is not None:  # None: the caller parses the row and takes canonical_bytes itself
        assert fast == canonical_bytes(event)


def test_fast_event_json_takes_the_common_event() -> None:
    fields: dict[str, Any] = {
        "event_id": "item-1-1",
        "item_id": "item-1",
        "seq": 1,
        "type_": "CommentAdded",
        "stage": "deploy",
        "actor_id": "sup-zhang",
        "actor_role": "supervisor",
        "actor_unit": None,
        "actor_name": "张明",
        "occurred_at": "2026-03-02T01:30:15.123456Z",
        "payload": {"text": "已当面督办\n", "n": [1, True, None, {"b": "", "a": -3}]},
    }
    fast = fast_event_json(**fields)
    event = RecordedEvent(
        id="item-1-1",
        item_id="item-1",
        seq=1,
        type="CommentAdded",
        stage=Stage.DEPLOY,
        actor={"id": "sup-zhang", "role": "supervisor", "name": "张明"},
        occurred_at=datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=UTC),
        payload=fields["payload"],
    )
    assert fast is not None
    assert fast == canonical_bytes(event)


# Every event type's body, drawn field by field from its own model (instants aware, as the
# domain requires); a draw the model refuses (a pattern, a cross-field rule) is dropped.
def _value_strategy(annotation: Any) -> st.SearchStrategy[Any]:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _value_strategy(args[0])
    if origin in (Union, UnionType):
        return st.one_of(*(_value_strategy(arg) for arg in args))
    if origin is list:  # enum lists distinct, as rules such as a rung's audience require
        distinct = isinstance(args[0], type) and issubclass(args[0], Enum)
        return st.lists(_value_strategy(args[0]), max_size=3, unique=distinct)
    if origin is dict:
        return st.dictionaries(st.text(max_size=6), _value_strategy(args[1]), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_strategy(annotation)
    if annotation is datetime:
        return instants
    if annotation is str:
        return strings
    if annotation is Any:
        return json_like
    return st.from_type(annotation)


def _field_strategy(field: FieldInfo) -> st.SearchStrategy[Any]:
    patterns = [rule.pattern for rule in field.metadata if getattr(rule, "pattern", None)]
    return st.from_regex(patterns[0], fullmatch=True) if patterns else _value_strategy(field.annotation)


def _model_strategy(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    fields = {name: _field_strategy(field) for name, field in model.model_fields.items()}
    return st.fixed_dictionaries(fields).map(lambda values: _valid(model, values)).filter(bool)


def _valid(model: type[BaseModel], values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError:
        return None


def recorded_events(name: str) -> st.SearchStrategy[RecordedEvent]:
    """Recorded events of type `name`: its body drawn from its model, the envelope from strings."""
    envelope = st.fixed_dictionaries(
        {
            "event_id": strings,
            "item_id": strings,
            "seq": st.integers(min_value=1, max_value=SAFE),
            "stage": st.sampled_from(list(Stage)),
            "actor": st.builds(
                Actor,
                id=strings,
                role=st.sampled_from(list(Role)),
                unit=st.one_of(st.none(), strings),
                name=strings,
            ),
            "occurred_at": instants,
        }
    )
    return st.builds(
        lambda body, fields: record(body, **fields), _model_strategy(EVENT_TYPES[name]), envelope
    )


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@settings(max_examples=60, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_fast_event_json_of_every_event_type_is_rfc8785_of_the_models_dump(
    name: str, data: st.DataObject
) -> None:
    """The drift guard: the fast writer's layout is the model's, for every event type's payload."""
    event = data.draw(recorded_events(name))
    actor = event.actor
    fast = fast_event_json(
        event_id=event.id,
        item_id=event.item_id,
        seq=event.seq,
        type_=event.type,
        stage=event.stage.value,
        actor_id=actor.id,
        actor_role=actor.role.value,
        actor_unit=actor.unit,
        actor_name=actor.name,
        occurred_at=instant_json(event.occurred_at),
        payload=event.payload,
    )
    try:
        expected: bytes | None = bytes(rfc8785.dumps(event.model_dump(mode="json")))
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        expected = None  # lone surrogates: only the slow path can say so, and the fast one declines
    if fast is not None:
        assert fast == expected
    else:
        assert expected is None or canonical_bytes(event) == expected

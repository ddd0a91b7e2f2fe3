"""Property: the fast canonical JSON is byte for byte what rfc8785 writes, errors included."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.hashing import canonical_json

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

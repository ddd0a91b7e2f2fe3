"""What changed in an item between two instants, field by field, as lines a person reads."""

from __future__ import annotations

import json
from typing import Any

from domain.state import ItemState

ABSENT = "∅"


def _flatten(value: Any, path: str, into: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            _flatten(inner, f"{path}[{index}]", into)
    else:
        into[path] = value


def flat(state: ItemState) -> dict[str, Any]:
    """The state as `dotted.path[index] → scalar` pairs (JSON values)."""
    into: dict[str, Any] = {}
    _flatten(state.model_dump(mode="json"), "", into)
    return into


def _shown(value: Any) -> str:
    return ABSENT if value is None else json.dumps(value, ensure_ascii=False)


def state_changes(before: ItemState, after: ItemState) -> list[str]:
    """One line per changed field, in path order: `path: old → new` (∅ for absent or empty)."""
    old, new = flat(before), flat(after)
    return [
        f"{path}: {_shown(old.get(path))} → {_shown(new.get(path))}"
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]

"""The items read model: one row per item plus its current unit assignments, written from state.

The row's `state` column holds a versioned document, `{"version": READ_MODEL_VERSION, "state":
<ItemState as JSON>}`, so the domain's state can change shape without breaking rows already
written: `read_state` upgrades every older version it knows (version 0 is the bare state that
rows held before the document was versioned) and refuses, naming both versions, a row written
by a newer release. Bump READ_MODEL_VERSION and add an upgrade step to `_UPGRADES` whenever
ItemState changes in a way the previous JSON does not validate as.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from domain.state import ItemState
from store.errors import StoreError
from store.schema import item_units, items

READ_MODEL_VERSION = 1
"""The shape of the `state` document the read model's rows are written in."""

# From version n to n + 1, each on the document as that version wrote it.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: lambda bare: {"version": 1, "state": bare},
}


class UnknownReadModelVersion(StoreError):
    """A read-model row written in a shape this release does not know (by a newer release)."""


class NewerReadModelVersion(UnknownReadModelVersion):
    """A read-model row a newer release wrote (its version is above READ_MODEL_VERSION): this
    process is the one out of date, not the row."""


def state_document(state: ItemState) -> dict[str, Any]:
    """The versioned document the row's `state` column holds for `state`."""
    return {"version": READ_MODEL_VERSION, "state": state.model_dump(mode="json")}


def read_state(document: Any) -> ItemState:
    """The ItemState of a row's `state` column, upgraded from any older version this release knows.

    Raises UnknownReadModelVersion for a version it cannot read (newer than READ_MODEL_VERSION, or
    not a version at all); the log is the truth, so `EventLog.rebuild_read_model` rewrites such a
    row in the current shape.
    """
    if not isinstance(document, dict):
        raise UnknownReadModelVersion(
            f"事项读模型行不是 JSON 对象 / a read-model row is not a JSON object: {type(document).__name__}"
        )
    version = document.get("version", 0)  # ItemState has no top-level `version`: a bare one is 0
    while version != READ_MODEL_VERSION:
        upgrade = _UPGRADES.get(version) if type(version) is int else None
        if upgrade is None:
            newer = type(version) is int and version > READ_MODEL_VERSION
            raise (NewerReadModelVersion if newer else UnknownReadModelVersion)(
                f"事项读模型行的版本 {version!r} 无法识别（本版本读取 {READ_MODEL_VERSION}）/ "
                f"read-model row version {version!r} is unknown here (this release reads up to "
                f"{READ_MODEL_VERSION}): upgrade the service, or rebuild the row from the audit log"
            )
        document = upgrade(document)
        version = document["version"]
    return ItemState.model_validate(document["state"])


def next_due(state: ItemState) -> datetime | None:
    """The earliest due instant among the steps the item waits for (None if nothing is due)."""
    dues = [step.due for step in state.pending if step.due is not None]
    return min(dues) if dues else None


def search_text(state: ItemState) -> str:
    """What free-text search looks in, lower-cased so LIKE behaves alike on both back-ends."""
    parts = [
        state.number,
        state.title,
        state.requirements,
        *state.tags,
        *state.units(),
        state.supervisor,
        state.leader,
    ]
    return "\n".join(part for part in parts if part).lower()


def item_row(state: ItemState) -> dict[str, Any]:
    """The items row of `state`."""
    return {
        "id": state.id,
        "number": state.number,
        "title": state.title,
        "stage": state.stage.value,
        "light": state.light.value,
        "category": state.category.value if state.category else None,
        "priority": state.priority.value if state.priority else None,
        "source": state.source.value if state.source else None,
        "lead_unit": state.lead_unit,
        "supervisor": state.supervisor,
        "leader": state.leader,
        "deadline": state.deadline,
        "next_due": next_due(state),
        "opened_at": state.opened_at,
        "updated_at": state.updated_at,
        "last_seq": state.last_seq,
        "search": search_text(state),
        "state": state_document(state),
    }


def unit_rows(state: ItemState) -> list[dict[str, Any]]:
    """The item_units rows of `state`: one per assigned unit."""
    return [
        {"item_id": state.id, "unit_id": unit, "part": a.part.value, "status": a.status.value}
        for unit, a in state.assignments.items()
    ]


async def forget_read_model(session: AsyncSession, item_id: str) -> None:
    """Remove the item's read-model rows (an item without events has none)."""
    await session.execute(delete(item_units).where(item_units.c.item_id == item_id))
    await session.execute(delete(items).where(items.c.id == item_id))

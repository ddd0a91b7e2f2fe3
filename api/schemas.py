"""Request and response bodies of the HTTP API (XCreate / XPublic)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import OpenItem
from domain.people import Actor, Role
from domain.stages import Light, Stage
from domain.state import ItemState
from domain.vocabulary import Category, Priority
from store.items import DEFAULT_SORT, ItemFilter, ItemSort

# Nobody pages a million rows deep by hand; unbounded, SQLite overflowed on OFFSET >= 2^63 (a 500).
MAX_OFFSET = 1_000_000
PageOffset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
"""How many rows a page skips."""
ROW_ID_MAX = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]
"""A database row id (a signed 64-bit key on both back-ends)."""


class ItemCreate(OpenItem):
    """立项: the body of `POST /api/items`."""


class ItemPublic(ItemState):
    """An item as the API shows it: its state, its stage label, and whether a step is overdue."""

    stage_label: str
    overdue: bool


def item_public(state: ItemState, now: datetime) -> ItemPublic:
    """The public view of `state` at `now` (overdue: some pending step is past its due instant)."""
    overdue = any(step.due is not None and step.due < now for step in state.pending)
    # The fields as stored (not `dict(state)`, which iterates them one by one): a page builds 50.
    return ItemPublic.model_construct(**state.__dict__, stage_label=state.stage.label, overdue=overdue)


class ItemFilterQuery(BaseModel):
    """Filters of `GET /api/items` and its export; every filter left out matches everything."""

    stage: Stage | None = None
    unit: str | None = Field(default=None, max_length=64)
    light: Light | None = None
    category: Category | None = None
    priority: Priority | None = None
    overdue: bool | None = None
    q: str | None = Field(default=None, max_length=200, description="words in title, number or requirements")
    sort: ItemSort = Field(
        default=DEFAULT_SORT,
        description='排序 / order: number, deadline, stage, light or updated; a leading "-" for descending',
    )

    def item_filter(self, *, limit: int = 50, offset: int = 0) -> ItemFilter:
        """The store's filter for these query parameters."""
        return ItemFilter(
            stage=self.stage,
            unit=self.unit,
            light=self.light,
            category=self.category,
            priority=self.priority,
            overdue=self.overdue,
            text=self.q,
            sort=self.sort,
            limit=limit,
            offset=offset,
        )


class ItemListQuery(ItemFilterQuery):
    """Filters and page of `GET /api/items`."""

    limit: int = Field(default=50, ge=1, le=200)
    offset: PageOffset = 0


class ItemList(BaseModel):
    """One page of items and how many match: exactly, or "at least `total`" when not `total_exact`."""

    items: list[ItemPublic]
    total: int = Field(description="匹配总数 / how many match, counted up to 1,000 or the end of this page")
    total_exact: bool = Field(
        description="总数是否精确 / false when more than `total` match (show it as “1000+”)"
    )
    limit: int
    offset: int


class EventPublic(BaseModel):
    """One audit event with its place in the hash chain."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    item_id: str
    seq: int
    type: str
    stage: Stage
    actor: Actor
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class ChainReportPublic(BaseModel):
    """A verification: ok, or the first bad spot (item and seq, or ledger positions) and its kind."""

    model_config = ConfigDict(from_attributes=True)

    ok: bool
    items_checked: int
    events_checked: int
    item_id: str | None = None
    seq: int | None = None
    kind: str | None = None
    problem: str | None = None
    position: int | None = None
    position_end: int | None = None


class UserPublic(BaseModel):
    """A user of the org chart."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: Role
    unit: str | None
    title: str

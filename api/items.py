"""/api/items: open, list, read, act on items, and the auditor's view of their history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from api.errors import SIGNED_IN_ERRORS, error_responses, item_not_found
from api.opening import open_one
from api.permissions import Auditor, HistoryReader, ItemReader, Supervisor, unit_scope, visible_item
from api.request_log import bind_request
from api.schemas import (
    ChainReportPublic,
    EventPublic,
    ItemCreate,
    ItemList,
    ItemListQuery,
    ItemPublic,
    item_public,
)
from api.services import ServicesDep
from audit.splits import workflow_split
from domain.fold import fold
from domain.instants import InputInstant
from domain.state import ItemState
from store.verification import verify_audit_trail
from workflows.messages import workflow_id_for

router = APIRouter(prefix="/api/items", tags=["items"], responses=SIGNED_IN_ERRORS)

NOT_FOUND = error_responses(404)


def _now() -> datetime:
    return datetime.now(UTC)


def _bind_item(item_id: str) -> None:
    bind_request(item_id=item_id, workflow_id=workflow_id_for(item_id))


@router.post("", status_code=status.HTTP_201_CREATED, summary="立项 / open an item")
async def open_item(
    body: ItemCreate,
    actor: Supervisor,
    services: ServicesDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ItemPublic:
    """Open an item in 研究部署 (deploy).

    With an `Idempotency-Key`, a repeat of the same request within IDEMPOTENCY_KEY_TTL_HOURS (24 h)
    returns the same item (200); the key with a different body is 422; after that time it opens anew.
    """
    opened = await open_one(services, actor, body, idempotency_key, _now())
    if not opened.created:
        response.status_code = status.HTTP_200_OK
    return opened.item


@router.get("", summary="督办事项列表 / list items")
async def list_items(
    actor: ItemReader, services: ServicesDep, query: Annotated[ItemListQuery, Query()]
) -> ItemList:
    """Items matching the filters, most recently changed first; units see only their own."""
    now = _now()
    flt = query.item_filter(limit=query.limit, offset=query.offset)
    page = await services.items.list(flt, now=now, visible_to_unit=unit_scope(actor))
    return ItemList(
        items=[item_public(state, now) for state in page.states],
        total=page.total,
        total_exact=page.exact,
        limit=query.limit,
        offset=query.offset,
    )


@router.get("/{item_id}", summary="事项详情 / one item", responses=NOT_FOUND)
async def get_item(item_id: str, actor: ItemReader, services: ServicesDep) -> ItemPublic:
    """The item's current state: stage, light, units, deadlines, pending steps."""
    return item_public(await visible_item(services, actor, item_id), _now())


@router.get("/{item_id}/events", summary="审计事件 / audit events", responses=NOT_FOUND)
async def item_events(item_id: str, actor: HistoryReader, services: ServicesDep) -> list[EventPublic]:
    """The item's audit events in order, each with its hash-chain links (read from the log itself)."""
    _bind_item(item_id)
    events = await services.events.read(item_id)
    if not events:
        raise item_not_found(item_id)
    return [EventPublic.model_validate(event) for event in events]


@router.get("/{item_id}/state", summary="历史状态回放 / state as of an instant", responses=NOT_FOUND)
async def item_state_as_of(
    item_id: str,
    actor: HistoryReader,
    services: ServicesDep,
    as_of: Annotated[
        InputInstant, Query(description="ISO-8601 with a timezone, e.g. 2026-10-01T12:00:00+08:00")
    ],
) -> ItemPublic:
    """The state replayed from the events that occurred at or before `as_of`."""
    await visible_item(services, actor, item_id)
    events = await services.events.read(item_id, until=as_of)
    return item_public(fold(events, ItemState(id=item_id)), as_of)


@router.get("/{item_id}/verify", summary="校验事项审计链 / verify the item's chain", responses=NOT_FOUND)
async def verify_item(item_id: str, actor: Auditor, services: ServicesDep) -> ChainReportPublic:
    """Recompute the item's hash chain and compare its workflow with it: ok, or what is wrong first."""
    _bind_item(item_id)
    report = await verify_audit_trail(services.sessions, item_id=item_id)
    if report.ok and report.events_checked == 0:
        raise item_not_found(item_id)
    if report.ok and (split := await workflow_split(services.temporal, services.events, item_id)):
        report = split
    return ChainReportPublic.model_validate(report)

"""/api/items: open, list, read, act on items, and the auditor's view of their history."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from adapters.workdays import dues_at
from api.errors import NotFound, item_not_found
from api.opening import open_one
from api.org_checks import check_units
from api.permissions import Auditor, HistoryReader, ItemReader, Supervisor, require_visible, unit_scope
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
from api.services import Services, ServicesDep
from audit.splits import workflow_split
from domain.commands import ACTIONS, Command, Reassign
from domain.fold import fold
from domain.instants import InputInstant
from domain.people import Actor
from domain.refusals import CommandRefused, conflict
from domain.state import ItemState, describe_waiting
from ledger.hashing import canonical_json
from store.verification import verify_audit_trail
from workflows.messages import ActionRequest, workflow_id_for

router = APIRouter(prefix="/api/items", tags=["items"])

ACTION_NAMES = tuple(name for name in ACTIONS if name != "open")


def _now() -> datetime:
    return datetime.now(UTC)


def _bind_item(item_id: str) -> None:
    bind_request(item_id=item_id, workflow_id=workflow_id_for(item_id))


async def _visible_item(services: Services, actor: Actor, item_id: str) -> ItemState:
    """The item's state if it exists (404) and the actor may see it (403)."""
    _bind_item(item_id)
    state = await services.items.get(item_id)
    if state is None:
        raise item_not_found(item_id)
    require_visible(actor, state)
    return state


def _command_type(action: str) -> type[Command]:
    command_type = ACTIONS.get(action)
    if command_type is None or action == "open":
        valid = ", ".join(ACTION_NAMES)
        raise NotFound(f"未知操作 {action}；可用的操作 / unknown action; valid actions: {valid}")
    return command_type


def _parsed(command_type: type[Command], body: dict[str, Any]) -> Command:
    try:
        return command_type.model_validate(body)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors, body=body) from error


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


@router.get("/{item_id}", summary="事项详情 / one item")
async def get_item(item_id: str, actor: ItemReader, services: ServicesDep) -> ItemPublic:
    """The item's current state: stage, light, units, deadlines, pending steps."""
    return item_public(await _visible_item(services, actor, item_id), _now())


@router.post("/{item_id}/actions/{action}", summary="办理 / perform an action")
async def perform_action(
    item_id: str,
    action: Annotated[str, Path(description="one of: " + ", ".join(ACTION_NAMES))],
    actor: ItemReader,
    services: ServicesDep,
    *,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="重试时携带同一键，得到第一次请求的真实结果 / send the same key on a retry "
            "(e.g. after a 504) to get the first attempt's real outcome instead of acting twice; "
            "honoured for the item's current workflow run",
        ),
    ] = None,
) -> ItemPublic:
    """Perform `action` with its body; 200 with the new state.

    403 role or unit not allowed · 404 unknown item or action · 409 the item is not waiting for
    this action (the detail says what it waits for) · 422 malformed body, or an Idempotency-Key
    reused for another action · 429 too many actions on the item at once (Retry-After) · 504 not
    confirmed in time (retry with the same Idempotency-Key). A refusal writes no event.
    """
    bind_request(action=action)
    command_type = _command_type(action)
    state = await _visible_item(services, actor, item_id)
    if not state.stage.is_open:
        raise CommandRefused(conflict(describe_waiting(state)))
    command = _parsed(command_type, body or {})
    if isinstance(command, Reassign):
        await check_units(services.org, [command.lead_unit, *command.co_units])
    fields = command.model_dump(mode="json")
    request = ActionRequest(
        action=action,
        actor=actor,
        body=fields,
        dues=dues_at(_now()),
        fingerprint=hashlib.sha256(canonical_json({"action": action, "body": fields})).hexdigest(),
    )
    # Scoped to the caller: another user's key never names this user's update.
    update_id = f"{actor.id}/{idempotency_key}" if idempotency_key else None
    result = await services.gateway.act(item_id, request, update_id)
    return item_public(result.state, _now())


@router.get("/{item_id}/events", summary="审计事件 / audit events")
async def item_events(item_id: str, actor: HistoryReader, services: ServicesDep) -> list[EventPublic]:
    """The item's audit events in order, each with its hash-chain links (read from the log itself)."""
    _bind_item(item_id)
    events = await services.events.read(item_id)
    if not events:
        raise item_not_found(item_id)
    return [EventPublic.model_validate(event) for event in events]


@router.get("/{item_id}/state", summary="历史状态回放 / state as of an instant")
async def item_state_as_of(
    item_id: str,
    actor: HistoryReader,
    services: ServicesDep,
    as_of: Annotated[
        InputInstant, Query(description="ISO-8601 with a timezone, e.g. 2026-10-01T12:00:00+08:00")
    ],
) -> ItemPublic:
    """The state replayed from the events that occurred at or before `as_of`."""
    await _visible_item(services, actor, item_id)
    events = await services.events.read(item_id, until=as_of)
    return item_public(fold(events, ItemState(id=item_id)), as_of)


@router.get("/{item_id}/verify", summary="校验事项审计链 / verify the item's chain")
async def verify_item(item_id: str, actor: Auditor, services: ServicesDep) -> ChainReportPublic:
    """Recompute the item's hash chain and compare its workflow with it: ok, or what is wrong first."""
    _bind_item(item_id)
    report = await verify_audit_trail(services.sessions, item_id=item_id)
    if report.ok and report.events_checked == 0:
        raise item_not_found(item_id)
    if report.ok and (split := await workflow_split(services.temporal, services.events, item_id)):
        report = split
    return ChainReportPublic.model_validate(report)

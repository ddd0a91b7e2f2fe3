"""/api/items: open, list, read, act on items, and the auditor's view of their history."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from activities.workdays import dues_at
from api.errors import SIGNED_IN_ERRORS, InvalidRequest, error_responses, item_not_found
from api.org_checks import check_leader, check_units
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
from api.services import Services, ServicesDep
from audit.splits import workflow_split
from domain.decide import Context, decide
from domain.fold import fold
from domain.instants import InputInstant
from domain.people import Actor
from domain.refusals import CommandRefused, Refusal, RefusalKind
from domain.state import ItemState
from ledger.hashing import canonical_json
from store.idempotency import KeyClaim
from store.verification import verify_audit_trail
from workflows.messages import workflow_id_for

router = APIRouter(prefix="/api/items", tags=["items"], responses=SIGNED_IN_ERRORS)

NOT_FOUND = error_responses(404)
KEY_REUSED = "Idempotency-Key 已用于不同的请求内容 / the key was used with a different request body"


def _now() -> datetime:
    return datetime.now(UTC)


def _bind_item(item_id: str) -> None:
    bind_request(item_id=item_id, workflow_id=workflow_id_for(item_id))


def _request_hash(body: ItemCreate) -> str:
    """The body as validated (defaults filled in), canonical JSON, SHA-256: a retry hashes the same."""
    return hashlib.sha256(canonical_json(body.model_dump(mode="json"))).hexdigest()


def _same_request(claim: KeyClaim, request_hash: str) -> str:
    if claim.request_hash != request_hash:
        raise InvalidRequest(KEY_REUSED)
    return claim.item_id


async def _opened_before(
    services: Services, actor: Actor, key: str, request_hash: str, now: datetime
) -> ItemState | None:
    """The item `key` already opened for this very request; 422 if it was used with another body."""
    prior = await services.idempotency.find(actor.id, key, now)
    return None if prior is None else await services.items.get(_same_request(prior, request_hash))


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
    now = _now()
    request_hash = _request_hash(body)
    if idempotency_key and (
        existing := await _opened_before(services, actor, idempotency_key, request_hash, now)
    ):
        _bind_item(existing.id)
        response.status_code = status.HTTP_200_OK
        return item_public(existing, now)
    await check_units(services.org, [body.lead_unit, *body.co_units])
    await check_leader(services.org, body.leader)
    dues = dues_at(now)
    # Refuse here what the workflow would refuse, so a bad opening never starts a workflow (nor takes a key).
    precheck = decide(ItemState(), body, Context(actor=actor, now=now, dues=dues, number="pending"))
    if isinstance(precheck, Refusal):
        raise CommandRefused(precheck)
    if idempotency_key:
        claim = await services.idempotency.claim(actor.id, idempotency_key, request_hash, now)
        item_id = _same_request(claim, request_hash)
    else:
        item_id = str(uuid.uuid4())
    _bind_item(item_id)
    try:
        result = await services.gateway.open(item_id, actor, body, dues)
    except CommandRefused as refused:
        # Two requests with one key raced: the loser answers with the winner's item.
        existing = await services.items.get(item_id) if idempotency_key else None
        if refused.refusal.kind is not RefusalKind.CONFLICT or existing is None:
            raise
        response.status_code = status.HTTP_200_OK
        return item_public(existing, now)
    return item_public(result.state, now)


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

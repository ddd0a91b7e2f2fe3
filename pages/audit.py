"""The auditor's pages: an item's timeline, its state as of an instant and between two, the chain's
verification, the export bundle, and everything one person did — through the API's own handlers."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api import audit as audit_routes
from api import items as item_routes
from api.audit import ActorEventsQuery
from api.errors import ApiError
from api.item_actions import visible_state
from api.permissions import Auditor, HistoryReader
from api.services import ServicesDep
from audit.diff import state_changes
from audit.export import NothingToExport, export_lines
from audit.keys import KeyUnavailable, load_signer
from domain.fold import fold
from domain.instants import CHINA
from domain.state import ItemState
from pages.errors import mark_page
from pages.timeline import timeline_rows
from pages.web import PageActor, passes, render, require
from store.ledger import Ledger

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)


class BadInstant(ApiError):
    """A date-time field that does not read as one."""

    status_code = 422


def _instant(text: str | None) -> datetime | None:
    """A `datetime-local` value (Beijing time, as people enter it) or ISO-8601 with a zone."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise BadInstant(f"时间格式有误 / not a date-time: {text}") from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)


def _local_input(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


@router.get("/audit")
async def audit_home(request: Request, actor: PageActor) -> Response:
    """Where the auditor starts: the whole log's check, one person's actions, the export."""
    await require(Auditor, actor)
    return render(request, "audit_home.html")


async def _state_at(services: ServicesDep, item_id: str, at: datetime) -> ItemState:
    """The item as folded from the events that occurred at or before `at`."""
    return fold(await services.events.read(item_id, until=at), ItemState(id=item_id))


@router.get("/audit/items/{item_id}")
async def item_audit(
    item_id: str,
    *,
    request: Request,
    actor: PageActor,
    services: ServicesDep,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Response:
    """The timeline, the state as of `as_of`, the changes from `from` to `to`, and the chain's check."""
    await require(HistoryReader, actor)
    state = await visible_state(services, actor, item_id)
    events = await item_routes.item_events(item_id, actor, services)
    when, before_at, after_at = _instant(as_of), _instant(start), _instant(end)
    # The state as the domain folds it (as `GET /api/items/{id}/state` does), so the page names its
    # pending steps from the ids they carry.
    as_of_state = await _state_at(services, item_id, when) if when is not None else None
    changes: list[str] | None = None
    if before_at is not None and after_at is not None:
        before = await _state_at(services, item_id, before_at)
        changes = state_changes(before, await _state_at(services, item_id, after_at))
    report = await item_routes.verify_item(item_id, actor, services) if await passes(Auditor, actor) else None
    return render(
        request,
        "item_audit.html",
        state=state,
        events=events,
        timeline=timeline_rows(events),
        as_of=_local_input(when),
        as_of_state=as_of_state,
        start=_local_input(before_at),
        end=_local_input(after_at),
        changes=changes,
        report=report,
    )


@router.get("/audit/verify")
async def verify_all(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """The whole log's verification."""
    await require(Auditor, actor)
    report = await audit_routes.verify_all(actor, services)
    return render(request, "audit_home.html", report=report)


@router.get("/audit/export")
async def export(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """The export bundle as a download: a fresh checkpoint sealed first when this process holds the key."""
    await require(Auditor, actor)
    # Without the key here, the bundle proves against the latest checkpoint the scheduler sealed.
    with contextlib.suppress(KeyUnavailable):
        await Ledger(services.sessions).checkpoint(load_signer(services.settings))
    try:
        checkpoint, lines = await export_lines(services.sessions)
    except NothingToExport as error:
        return render(request, "audit_home.html", 409, problem=str(error))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        "\n".join(lines) + "\n",
        media_type="application/x-ndjson; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="duban-audit-{checkpoint.size}-{stamp}.jsonl"'
        },
    )


@router.get("/audit/people")
async def person(
    request: Request,
    actor: PageActor,
    services: ServicesDep,
    who: Annotated[str, Query(alias="actor", max_length=128)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Everything one person did, in time order."""
    await require(Auditor, actor)
    users = await services.org.users()
    found = None
    if who:
        query = ActorEventsQuery.model_validate({"actor": who, "offset": offset, "limit": 50})
        found = await audit_routes.actor_events(actor, services, query)
    return render(request, "person.html", users=users, who=who, found=found, offset=offset)

"""工作台 (what waits for the signed-in user) and 通知 (their inbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from adapters.workdays import dues_at
from api.errors import NotFound
from api.permissions import ItemReader, unit_scope
from api.services import ServicesDep
from domain.decide import Context, waiting_actions
from domain.vocabulary import ACTION_LABELS
from pages.errors import mark_page
from pages.web import CsrfChecked, PageActor, PageUser, passes, render, see_other
from store.inbox import Inbox
from store.items import ItemFilter

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

# The queue looks at this many of the most recently changed items the user may see.
QUEUE_WINDOW = 200


@router.get("/workbench")
async def workbench(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """The items that wait for the user now, with what they wait for and by when, soonest first."""
    rows = []
    if await passes(ItemReader, actor):
        now = datetime.now(UTC)
        page = await services.items.list(
            ItemFilter(limit=QUEUE_WINDOW), now=now, visible_to_unit=unit_scope(actor)
        )
        ctx = Context(actor=actor, now=now, dues=dues_at(now))
        for state in page.states:
            waiting = waiting_actions(state, ctx.model_copy(update={"number": state.number}))
            if waiting:
                dues = [step.due for step in state.pending if step.due is not None]
                rows.append(
                    {
                        "state": state,
                        "actions": [ACTION_LABELS[a] for a in waiting],
                        "due": min(dues) if dues else None,
                        "overdue": any(d < now for d in dues),
                    }
                )
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda row: row["due"] if isinstance(row["due"], datetime) else far)
    return render(request, "workbench.html", rows=rows)


@router.get("/notifications")
async def notifications(
    request: Request,
    user: PageUser,
    services: ServicesDep,
    unread: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The user's notices, newest first."""
    page = await Inbox(services.sessions).page(user.id, unread_only=unread, limit=50, offset=offset)
    return render(request, "notifications.html", page=page, only_unread=unread, offset=offset)


@router.post("/notifications/{notification_id}/read", dependencies=[CsrfChecked])
async def read_one(notification_id: int, user: PageUser, services: ServicesDep) -> Response:
    """Mark one notice read."""
    if await Inbox(services.sessions).mark_read(user.id, notification_id, datetime.now(UTC)) is None:
        raise NotFound(f"消息不存在 / no such notification: {notification_id}")
    return see_other("/notifications")


@router.post("/notifications/read-all", dependencies=[CsrfChecked])
async def read_all(user: PageUser, services: ServicesDep) -> Response:
    """Mark every notice read."""
    await Inbox(services.sessions).mark_all_read(user.id, datetime.now(UTC))
    return see_other("/notifications")

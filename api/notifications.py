"""/api/me/notifications: the signed-in user's in-app inbox (站内消息): list, mark read, mark all read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.auth import CurrentUser
from api.errors import NotFound, error_responses
from api.schemas import PageOffset, RowId
from api.services import ServicesDep
from store.inbox import Inbox, InboxEntry


class NotificationPublic(BaseModel):
    """One notice in the caller's inbox."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: str
    number: str
    title: str
    kind: str
    message: str
    rule: str
    due: datetime | None
    event_seq: int
    created_at: datetime
    read_at: datetime | None
    read: bool


class NotificationList(BaseModel):
    """One page of the caller's notices (newest first), how many match, and how many are unread."""

    notifications: list[NotificationPublic]
    total: int
    unread: int
    limit: int
    offset: int


class NotificationQuery(BaseModel):
    """Filters of `GET /api/me/notifications`."""

    unread: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    offset: PageOffset = 0


class ReadAll(BaseModel):
    """How many notices `read-all` marked read."""

    marked: int


router = APIRouter(
    prefix="/api/me/notifications", tags=["notifications"], responses=error_responses(401, 422, 503)
)


def _inbox(services: ServicesDep) -> Inbox:
    return Inbox(services.sessions)


InboxDep = Annotated[Inbox, Depends(_inbox)]


def _public(entry: InboxEntry) -> NotificationPublic:
    return NotificationPublic(**entry.model_dump(exclude={"user_id"}), read=entry.read_at is not None)


@router.get("", summary="我的消息 / my notifications")
async def list_notifications(
    user: CurrentUser, inbox: InboxDep, query: Annotated[NotificationQuery, Query()]
) -> NotificationList:
    """The caller's notices, newest first; `unread=true` shows only the unread ones."""
    page = await inbox.page(user.id, unread_only=query.unread, limit=query.limit, offset=query.offset)
    return NotificationList(
        notifications=[_public(entry) for entry in page.entries],
        total=page.total,
        unread=page.unread,
        limit=query.limit,
        offset=query.offset,
    )


@router.post("/read-all", summary="全部标为已读 / mark all read")
async def read_all(user: CurrentUser, inbox: InboxDep) -> ReadAll:
    """Mark every unread notice of the caller read."""
    return ReadAll(marked=await inbox.mark_all_read(user.id, datetime.now(UTC)))


@router.post("/{notification_id}/read", summary="标为已读 / mark read", responses=error_responses(404))
async def read_one(
    notification_id: Annotated[RowId, Path()], user: CurrentUser, inbox: InboxDep
) -> NotificationPublic:
    """Mark one of the caller's notices read; another user's notice is unknown to the caller (404)."""
    entry = await inbox.mark_read(user.id, notification_id, datetime.now(UTC))
    if entry is None:
        raise NotFound(f"消息不存在 / no such notification: {notification_id}")
    return _public(entry)

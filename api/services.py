"""What the request handlers use, built once per app in its lifespan and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.gateway import ItemGateway
from settings import Settings
from store.db import make_sessions
from store.event_log import EventLog
from store.idempotency import IdempotencyKeys
from store.items import ItemQueries
from store.org import OrgDirectory


@dataclass(frozen=True)
class Services:
    """One engine, one Temporal client, and the store and gateway objects built on them."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: Client
    events: EventLog
    items: ItemQueries
    org: OrgDirectory
    gateway: ItemGateway
    idempotency: IdempotencyKeys


def build_services(settings: Settings, engine: AsyncEngine, temporal: Client) -> Services:
    """Wire the store and the gateway onto one engine and one client."""
    sessions = make_sessions(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        temporal=temporal,
        events=EventLog(sessions),
        items=ItemQueries(sessions),
        org=OrgDirectory(sessions),
        gateway=ItemGateway(
            temporal, settings.task_queue, settings.action_timeout_seconds, settings.resolved_action_key()
        ),
        idempotency=IdempotencyKeys(sessions, timedelta(hours=settings.idempotency_key_ttl_hours)),
    )


def get_services(request: Request) -> Services:
    """The app's services (set by the lifespan)."""
    return cast(Services, request.app.state.services)


ServicesDep = Annotated[Services, Depends(get_services)]

"""What the request handlers use, built once per app in its lifespan (`bootstrap.api_services`) and kept
on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.gateway import ItemGateway
from settings import Settings
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


def get_services(request: Request) -> Services:
    """The app's services (set by the lifespan)."""
    return cast(Services, request.app.state.services)


ServicesDep = Annotated[Services, Depends(get_services)]

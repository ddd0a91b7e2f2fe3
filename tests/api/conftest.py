"""The API under test: real HTTP through the ASGI app, a real worker on the dev server, a real database."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import issue_token
from api.services import Services
from bootstrap import create_app
from domain.events import SYSTEM_EVENT_TYPES
from settings import Settings
from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.event_log import EventLog
from store.org import OrgDirectory
from tests.builders import open_body
from tests.fixtures.temporal import run_item_worker
from tests.store.stories import ItemStory

SUPERVISOR = "sup-zhang"
SUPERVISOR_2 = "sup-liu"
LEAD = "fgw-li"  # unit fgw
CO = "czj-wu"  # unit czj
OTHER_UNIT = "jtj-ma"  # unit jtj, not on the default item
LEADER = "leader-wang"
AUDITOR = "audit-zhao"
ADMIN = "admin"


def app_settings(database_url: str, task_queue: str, **overrides: Any) -> Settings:
    """Settings for a test app: no `.env`, the test's database and task queue."""
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        task_queue=task_queue,
        **overrides,
    )


def free_port() -> int:
    """A loopback port nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` under a real uvicorn on a free loopback port, in this event loop; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@dataclass
class Api:
    """An HTTP client of the app, plus what a test needs to sign in and to look at the audit log."""

    http: httpx.AsyncClient
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    app: FastAPI | None = None

    @property
    def app_sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory the app itself reads through (its own engine, built in its lifespan)."""
        assert self.app is not None, "running_api keeps the app"
        services: Services = self.app.state.services
        return services.sessions

    def auth(self, user_id: str) -> dict[str, str]:
        """The Authorization header of `user_id`."""
        return {"Authorization": f"Bearer {issue_token(self.settings, user_id)}"}

    async def get(self, path: str, user: str, **kwargs: Any) -> httpx.Response:
        """GET `path` as `user`."""
        return await self.http.get(path, headers=self.auth(user), **kwargs)

    async def post(self, path: str, user: str, **kwargs: Any) -> httpx.Response:
        """POST `path` as `user`."""
        headers = {**self.auth(user), **kwargs.pop("headers", {})}
        return await self.http.post(path, headers=headers, **kwargs)

    async def open(self, **overrides: Any) -> dict[str, Any]:
        """Open an item as the supervisor; returns its public state."""
        response = await self.post("/api/items", SUPERVISOR, json=open_body(**overrides))
        assert response.status_code == 201, response.text
        item: dict[str, Any] = response.json()
        return item

    async def act(
        self, item_id: str, action: str, user: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Perform `action` on the item as `user`."""
        return await self.post(f"/api/items/{item_id}/actions/{action}", user, json=body or {})

    async def event_count(self, item_id: str) -> int:
        """How many audit events the item has, read from the log itself."""
        return len(await EventLog(self.sessions).read(item_id))

    async def action_types(self, item_id: str) -> list[str]:
        """The types of the item's events that people's actions recorded (ladder and deliveries left out)."""
        return [
            e.type for e in await EventLog(self.sessions).read(item_id) if e.type not in SYSTEM_EVENT_TYPES
        ]


@asynccontextmanager
async def running_api(
    database_url: str, client: Client, *, task_queue: str | None = None, worker: bool = True, **overrides: Any
) -> AsyncIterator[Api]:
    """The app with its lifespan and the demo org on `database_url`; with a real item worker unless
    `worker` is False (then nothing serves `task_queue` until the test starts workers itself)."""
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    queue = task_queue or f"duban-test-{uuid.uuid4()}"
    try:
        await OrgDirectory(sessions).load(DEMO_ORG)
        async with AsyncExitStack() as stack:
            if worker:
                await stack.enter_async_context(run_item_worker(client, sessions, task_queue=queue))
            settings = app_settings(database_url, queue, **overrides)
            app = create_app(settings, temporal_client=client)
            transport = httpx.ASGITransport(app=app)
            await stack.enter_async_context(app.router.lifespan_context(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://duban.test")
            )
            yield Api(http, settings, sessions, app)
    finally:
        await engine.dispose()


@pytest.fixture
async def api(database_url: str, temporal_client: Client) -> AsyncIterator[Api]:
    """The app with its lifespan, the demo org, and a real worker on a fresh task queue."""
    async with running_api(database_url, temporal_client) as served:
        yield served


async def append_stories(api: Api, *stories: ItemStory) -> None:
    """Append each story's events through the real event log (which keeps the read model in step)."""
    log = EventLog(api.sessions)
    for story in stories:
        await log.append(story.events)

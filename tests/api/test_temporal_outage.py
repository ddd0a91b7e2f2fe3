"""A Temporal that goes away answers 503 with Retry-After within seconds; a Temporal that is only
slow (no worker yet) still gets its action through. The app builds its own client, as `duban api` does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.auth import issue_token
from api.errors import RETRY_AFTER_SECONDS
from bootstrap import create_app
from store.demo_org import DEMO_ORG
from store.org import OrgDirectory
from tests.api.conftest import SUPERVISOR, app_settings, free_port
from tests.builders import open_body
from tests.fixtures.temporal import TEMPORAL_CLI, run_item_worker

# Before the API bounded its client's retries, a Temporal that went away answered after 10-14 s.
PROMPT_SECONDS = 6.0


@asynccontextmanager
async def _app_on(database_url: str, address: str, task_queue: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan and its own (lazy) Temporal client of `address`."""
    settings = app_settings(database_url, task_queue, temporal_address=address)
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {issue_token(settings, SUPERVISOR)}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://duban.test", headers=headers
        ) as http,
    ):
        yield http


async def _timed_open(http: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await http.post("/api/items", json=open_body())
    return response, time.monotonic() - started


def _assert_engine_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "督办引擎暂不可用" in response.json()["detail"]


async def test_a_temporal_that_went_away_answers_503_within_seconds(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await OrgDirectory(sessions).load(DEMO_ORG)
    server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    address = server.client.service_client.config.target_host
    try:
        async with _app_on(database_url, address, "nobody-serves-this") as http:
            assert (await http.get("/readyz")).status_code == 200  # the app's client is connected
            await server.shutdown()
            for _ in range(2):
                response, seconds = await _timed_open(http)
                _assert_engine_unavailable(response)
                assert seconds < PROMPT_SECONDS
    finally:
        await server.shutdown()


async def test_a_temporal_nothing_listens_on_answers_503_within_seconds(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await OrgDirectory(sessions).load(DEMO_ORG)
    async with _app_on(database_url, f"127.0.0.1:{free_port()}", "nobody-serves-this") as http:
        response, seconds = await _timed_open(http)
    _assert_engine_unavailable(response)
    assert seconds < PROMPT_SECONDS


async def test_an_opening_that_waits_for_a_late_worker_longer_than_the_retry_budget_succeeds(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    dev_server: WorkflowEnvironment,
    temporal_client: Client,
) -> None:
    await OrgDirectory(sessions).load(DEMO_ORG)
    address = dev_server.client.service_client.config.target_host
    queue = f"duban-test-late-{free_port()}"
    async with _app_on(database_url, address, queue) as http:
        opening = asyncio.create_task(_timed_open(http))
        await asyncio.sleep(PROMPT_SECONDS)  # the update waits: no worker serves the queue yet
        assert not opening.done()
        async with run_item_worker(temporal_client, sessions, task_queue=queue):
            response, seconds = await opening
    assert response.status_code == 201, response.text
    assert seconds > PROMPT_SECONDS

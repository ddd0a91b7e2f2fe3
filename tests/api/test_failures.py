"""Failures of the parts behind the API: a restarting database or Temporal answers 503 with
Retry-After, and an unexpected error answers 500, logged once, on a connection that stays open."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
import httpx
import pytest
import structlog
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.auth import issue_token
from api.errors import RETRY_AFTER_SECONDS
from bootstrap import create_app
from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.org import OrgDirectory
from tests.api.conftest import SUPERVISOR, app_settings, free_port, open_body, served
from tests.fixtures.databases import POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, fresh_postgres_url

T = TypeVar("T")


async def _polled(check: Callable[[], Awaitable[T]]) -> T:
    """`check`'s first truthy answer, asked every 50 ms for up to 10 s."""
    for _ in range(200):
        if answer := await check():
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError("no answer within 10 s")


def _failing_app(database_url: str, temporal_client: Client) -> FastAPI:
    app = create_app(app_settings(database_url, "unused"), temporal_client=temporal_client)

    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("a bug in a route")

    return app


@asynccontextmanager
async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://duban.test") as http,
    ):
        yield http


def _bearer(app_database_url: str, user: str = SUPERVISOR) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(app_settings(app_database_url, 'unused'), user)}"}


def _assert_retry_later(response: httpx.Response, words: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert words in response.json()["detail"]


async def test_a_route_failure_is_one_500_logged_once_with_its_traceback(
    database_url: str, temporal_client: Client
) -> None:
    async with _client(_failing_app(database_url, temporal_client)) as http:
        with structlog.testing.capture_logs() as lines:
            response = await http.get("/api/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.json() == {
        "detail": "服务器内部错误，请联系管理员 / internal error, please tell the administrator"
    }
    assert response.headers["X-Request-ID"] == "boom-1"
    with_traceback = [line for line in lines if "exc_info" in line]
    assert [line["event"] for line in with_traceback] == ["unexpected error"]
    assert [line["status"] for line in lines if line["event"] == "request"] == [500]


async def test_after_a_500_uvicorn_keeps_the_connection_and_logs_no_second_traceback(
    database_url: str, temporal_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    answers = []
    async with served(_failing_app(database_url, temporal_client)) as base_url:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(base_url.rsplit(":", 1)[1]))
        with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
            for path in ("/api/boom", "/healthz"):
                writer.write(f"GET {path} HTTP/1.1\r\nHost: duban.test\r\n\r\n".encode())
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                answers.append(head.split(b"\r\n")[0])
        writer.close()
        await writer.wait_closed()
    assert answers == [b"HTTP/1.1 500 Internal Server Error", b"HTTP/1.1 200 OK"]
    assert not [record for record in caplog.records if "Exception in ASGI application" in record.getMessage()]


async def test_a_database_that_does_not_answer_is_503_with_retry_after(temporal_client: Client) -> None:
    url = f"postgresql+asyncpg://{POSTGRES_USER}@127.0.0.1:{free_port()}/nowhere"
    async with _client(create_app(app_settings(url, "unused"), temporal_client=temporal_client)) as http:
        with structlog.testing.capture_logs() as lines:
            listed = await http.get("/api/items", headers=_bearer(url))
    _assert_retry_later(listed, "数据库暂不可用")
    assert [line["event"] for line in lines if line.get("log_level") in {"warning", "error"}] == [
        "dependency unavailable"
    ]


async def _backends(admin: asyncpg.Connection, database: str, *, waiting: bool) -> list[int]:
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        " AND (NOT $2 OR wait_event_type = 'Lock')",
        database,
        waiting,
    )
    return [row["pid"] for row in rows]


@pytest.mark.postgres
async def test_terminated_backends_answer_503_in_flight_and_the_next_request_reconnects(
    temporal_client: Client,
) -> None:
    async with fresh_postgres_url() as url:
        database = url.rsplit("/", 1)[1]
        engine = make_engine(url)
        await OrgDirectory(make_sessions(engine)).load(DEMO_ORG)
        await engine.dispose()
        admin = await asyncpg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database=database
        )
        app = create_app(app_settings(url, "unused"), temporal_client=temporal_client)
        try:
            async with _client(app) as http:
                assert (await http.get("/api/items", headers=_bearer(url))).status_code == 200
                # Idle pooled connections killed, as by a restart: the pool's pre-ping reconnects.
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid",
                    await _backends(admin, database, waiting=False),
                )
                assert (await http.get("/api/items", headers=_bearer(url))).status_code == 200

                # A connection killed while its query runs: that request cannot be saved.
                async with admin.transaction():
                    await admin.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
                    listing = asyncio.create_task(http.get("/api/items", headers=_bearer(url)))
                    blocked = await _polled(lambda: _backends(admin, database, waiting=True))
                    await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", blocked
                    )
                    _assert_retry_later(await listing, "数据库暂不可用")
                assert (await http.get("/api/items", headers=_bearer(url))).status_code == 200
        finally:
            await admin.close()


async def test_temporal_unreachable_is_503_with_retry_after(database_url: str) -> None:
    address = f"127.0.0.1:{free_port()}"
    client = await Client.connect(address, data_converter=pydantic_data_converter, lazy=True)
    engine = make_engine(database_url)
    await OrgDirectory(make_sessions(engine)).load(DEMO_ORG)
    await engine.dispose()
    app = create_app(app_settings(database_url, "unused", temporal_address=address), temporal_client=client)
    async with _client(app) as http:
        opened = await http.post("/api/items", json=open_body(), headers=_bearer(database_url))
    _assert_retry_later(opened, "督办引擎暂不可用")

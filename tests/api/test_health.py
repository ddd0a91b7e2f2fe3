"""Health, offline docs, and the request id every answer carries."""

from __future__ import annotations

import httpx
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bootstrap import create_app
from tests.api.conftest import SUPERVISOR, Api, app_settings, free_port


async def test_readyz_is_ready_when_database_and_temporal_answer(api: Api) -> None:
    response = await api.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": True, "temporal": True, "down": []}
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}


async def _probe(database_url: str, temporal_address: str) -> tuple[httpx.Response, httpx.Response]:
    """/healthz and /readyz of an app on that database and that Temporal frontend."""
    client = await Client.connect(temporal_address, data_converter=pydantic_data_converter, lazy=True)
    settings = app_settings(database_url, "unused", temporal_address=temporal_address)
    app = create_app(settings, temporal_client=client)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        return await http.get("/healthz"), await http.get("/readyz")


async def test_readyz_names_temporal_when_its_frontend_is_down(database_url: str) -> None:
    live, ready = await _probe(database_url, f"127.0.0.1:{free_port()}")
    assert live.status_code == 200  # liveness: the process is fine, restarting it would not help
    assert ready.status_code == 503
    assert ready.json() == {"status": "unready", "database": True, "temporal": False, "down": ["temporal"]}


async def test_readyz_names_the_database_when_its_server_is_down(temporal_client: Client) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/duban"
    live, ready = await _probe(nowhere, temporal_client.service_client.config.target_host)
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"status": "unready", "database": False, "temporal": True, "down": ["database"]}


async def test_docs_load_their_assets_from_the_app_not_a_cdn(api: Api) -> None:
    page = await api.http.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text
    assert "/docs-static/swagger-ui-bundle.js" in page.text
    script = await api.http.get("/docs-static/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert (await api.http.get("/openapi.json")).json()["paths"]["/api/items"]


async def test_each_request_gets_one_canonical_line_with_its_request_id(api: Api) -> None:
    item = await api.open()
    with structlog.testing.capture_logs() as lines:
        given = await api.http.get(
            f"/api/items/{item['id']}", headers={**api.auth(SUPERVISOR), "X-Request-ID": "trace-42"}
        )
        made = await api.http.get("/readyz")
    assert given.headers["X-Request-ID"] == "trace-42"
    assert len(made.headers["X-Request-ID"]) == 32
    requests = [line for line in lines if line["event"] == "request"]
    assert [line["request_id"] for line in requests] == ["trace-42", made.headers["X-Request-ID"]]
    assert requests[0]["item_id"] == item["id"]
    assert requests[0]["workflow_id"] == f"item-{item['id']}"
    assert requests[0]["user"] == SUPERVISOR
    assert requests[0]["status"] == 200


async def test_unknown_paths_answer_in_json(api: Api) -> None:
    response = await api.http.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到 / not found"}

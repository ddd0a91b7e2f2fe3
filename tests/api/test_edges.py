"""The HTTP edge under hostile input: out-of-range dates and integers answer 422, never 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from api.body_limit import MAX_BODY_BYTES
from tests.api.conftest import AUDITOR, LEAD, SUPERVISOR, Api, open_body

EDGE_INSTANTS = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2101-01-01"]
IN_WORDS = "2000-01-01 至 2100-12-31"


def _assert_422_naming(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert IN_WORDS in detail
    assert field in detail


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
async def test_an_opening_with_an_edge_deadline_or_due_is_422(api: Api, instant: str) -> None:
    deadline = await api.post("/api/items", SUPERVISOR, json=open_body(deadline=instant))
    due = await api.post(
        "/api/items", SUPERVISOR, json=open_body(milestones=[{"name": "摸底", "due": instant}])
    )
    _assert_422_naming(deadline, "deadline")
    _assert_422_naming(due, "milestones.0.due")
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 0


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
async def test_an_action_with_an_edge_instant_is_422(api: Api, instant: str) -> None:
    item = await api.open()
    extension = await api.act(item["id"], "request_extension", LEAD, {"new_deadline": instant, "reason": "r"})
    plan = await api.act(
        item["id"], "submit_plan", LEAD, {"measures": "m", "milestones": [{"name": "n", "due": instant}]}
    )
    _assert_422_naming(extension, "new_deadline")
    _assert_422_naming(plan, "milestones.0.due")


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
async def test_edge_instants_in_queries_are_422(api: Api, instant: str) -> None:
    item = await api.open()
    as_of = await api.get(f"/api/items/{item['id']}/state", AUDITOR, params={"as_of": instant})
    start = await api.get("/api/audit/events", AUDITOR, params={"actor": SUPERVISOR, "from": instant})
    end = await api.get("/api/audit/events", AUDITOR, params={"actor": SUPERVISOR, "to": instant})
    _assert_422_naming(as_of, "as_of")
    _assert_422_naming(start, "from")
    _assert_422_naming(end, "to")


@pytest.mark.parametrize(
    ("path", "user", "params"),
    [
        ("/api/items", SUPERVISOR, {}),
        ("/api/me/notifications", LEAD, {}),
        ("/api/audit/events", AUDITOR, {"actor": SUPERVISOR}),
    ],
)
@pytest.mark.parametrize("offset", [2**63, 2**64, 1_000_001])
async def test_an_offset_past_a_million_is_422(
    api: Api, path: str, user: str, params: dict[str, object], offset: int
) -> None:
    response = await api.get(path, user, params={**params, "offset": offset})
    assert response.status_code == 422, response.text
    assert "offset" in response.json()["detail"]
    deepest = await api.get(path, user, params={**params, "offset": 1_000_000})
    assert deepest.status_code == 200, deepest.text


@pytest.mark.parametrize("notification_id", [2**63, 2**64, 0])
async def test_a_notification_id_outside_64_bits_is_422(api: Api, notification_id: int) -> None:
    response = await api.post(f"/api/me/notifications/{notification_id}/read", LEAD)
    assert response.status_code == 422, response.text
    assert "notification_id" in response.json()["detail"]
    largest = await api.post(f"/api/me/notifications/{2**63 - 1}/read", LEAD)
    assert largest.status_code == 404


TOO_LARGE_WORDS = "请求内容过大"


async def test_a_body_over_256_kib_with_its_length_declared_is_413_before_anything_reads_it(api: Api) -> None:
    body = json.dumps(open_body(requirements="长" * (30 * 1024 * 1024 // 3))).encode()
    response = await api.post(
        "/api/items", SUPERVISOR, content=body, headers={"Content-Type": "application/json"}
    )
    anonymous = await api.http.post("/api/items", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == anonymous.status_code == 413
    assert TOO_LARGE_WORDS in response.json()["detail"]
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 0


async def test_a_chunked_body_is_cut_off_once_it_passes_the_cap(api: Api) -> None:
    chunk = b" " * (64 * 1024)
    sent = 0

    async def thirty_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(480):
            sent += 1
            yield chunk

    response = await api.post(
        "/api/items", SUPERVISOR, content=thirty_megabytes(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert TOO_LARGE_WORDS in response.json()["detail"]
    assert sent <= 5  # 256 KiB is four chunks: the fifth passes the cap and nothing more is read


async def test_a_body_just_under_the_cap_is_read(api: Api) -> None:
    response = await api.post(
        "/api/items",
        SUPERVISOR,
        content=json.dumps(open_body()).encode().ljust(MAX_BODY_BYTES),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text

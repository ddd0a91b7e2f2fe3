"""Many people acting on one item at the same moment: the log and the workflow never part.

Temporal accepts only a few updates in flight per workflow; what it refuses must come back as a
clear 429 with `Retry-After`, and every action answered 2xx must be in the audit log exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from audit.reconcile import reconcile
from store.event_log import EventLog
from tests.api.conftest import CO, LEAD, SUPERVISOR, Api, running_api
from tests.fixtures.databases import POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, fresh_postgres_url
from tests.fixtures.temporal import TEMPORAL_CLI

PARALLEL = 50
# Low enough that a burst of 50 surely meets the limit (the server's default is 10).
IN_FLIGHT_UPDATES = 3


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def busy_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own that admits only a few updates in flight per workflow."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"history.maxInFlightUpdates={IN_FLIGHT_UPDATES}",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture
def temporal_client(busy_server: WorkflowEnvironment) -> Client:
    """The `api` fixture's client: the busy server's."""
    return busy_server.client


async def _to_implement(api: Api) -> str:
    item = await api.open()
    for user in (LEAD, CO):
        assert (await api.act(item["id"], "sign_for", user)).status_code == 200
    plan = {"measures": "分片包干", "milestones": [{"name": "完成摸底", "due": "2027-03-31"}]}
    assert (await api.act(item["id"], "submit_plan", LEAD, plan)).status_code == 200
    assert (await api.act(item["id"], "approve_plan", SUPERVISOR, {"comment": "同意"})).status_code == 200
    return str(item["id"])


def _mixed(n: int) -> tuple[str, str, dict[str, Any], str]:
    """The n-th action of the burst: (action, user, body, the text that marks it in the log)."""
    mark = f"并发-{n}"
    match n % 5:
        case 0:
            return "urge", SUPERVISOR, {"message": mark}, mark
        case 1:
            return "report_progress", LEAD, {"summary": mark, "percent": n % 100}, mark
        case 2:
            return "request_extension", LEAD, {"new_deadline": "2028-06-30", "reason": mark}, mark
        case _:
            return "comment", CO if n % 2 else SUPERVISOR, {"text": mark}, mark


def _marks(payload: dict[str, Any]) -> list[str]:
    return [str(payload[key]) for key in ("message", "summary", "reason", "text") if key in payload]


async def test_a_burst_of_mixed_actions_lands_each_answered_action_once(
    api: Api, temporal_client: Client
) -> None:
    item_id = await _to_implement(api)
    burst = [_mixed(n) for n in range(PARALLEL)]

    async def send(action: str, user: str, body: dict[str, Any]) -> httpx.Response:
        return await api.act(item_id, action, user, body)

    answers = await asyncio.gather(*(send(action, user, body) for action, user, body, _ in burst))

    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {200, 409, 429}, {
        s: [a.text for a in answers if a.status_code == s] for s in statuses
    }
    for answer in answers:
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert "稍后" in answer.json()["detail"]
    events = await EventLog(api.sessions).read(item_id)
    logged = Counter(mark for event in events for mark in _marks(event.payload))
    for (action, _, _, mark), answer in zip(burst, answers, strict=True):
        expected = 1 if answer.status_code == 200 else 0
        assert logged[mark] == expected, (action, mark, answer.status_code, answer.text)
    # Only one extension can be pending at a time: the other requests are refused, the rest land.
    refused = {
        action for (action, *_), answer in zip(burst, answers, strict=True) if answer.status_code == 409
    }
    assert refused <= {"request_extension"}
    assert statuses[200] >= PARALLEL // 2  # most land; some may meet the in-flight limit (429)

    follow_up = await api.act(item_id, "comment", SUPERVISOR, {"text": "风暴之后"})
    assert follow_up.status_code == 200, follow_up.text
    after = await EventLog(api.sessions).read(item_id)
    assert [e.payload.get("text") for e in after].count("风暴之后") == 1
    assert follow_up.json()["last_seq"] <= len(after)  # deliveries may append after the answer
    agreed = await reconcile(temporal_client, EventLog(api.sessions), item_id)
    assert agreed.ok, agreed.differences


@pytest.mark.postgres
async def test_an_action_beyond_the_updates_in_flight_answers_429_and_changes_nothing(
    temporal_client: Client,
) -> None:
    async with fresh_postgres_url() as url, running_api(url, temporal_client) as api:
        await _overflow(api, url)


async def _overflow(api: Api, url: str) -> None:
    item = await api.open()
    log = EventLog(api.sessions)
    admin = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database=url.rsplit("/", 1)[1]
    )
    try:
        lock = admin.transaction()
        await lock.start()
        await admin.execute("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", item["id"])
        before = len(await log.read(item["id"]))
        held = [
            asyncio.create_task(api.act(item["id"], "comment", SUPERVISOR, {"text": f"在途-{n}"}))
            for n in range(IN_FLIGHT_UPDATES)
        ]
        await asyncio.sleep(1)  # the held ones are admitted first
        beyond = await api.act(item["id"], "comment", SUPERVISOR, {"text": "超出在途上限"})
        await lock.rollback()
        answers = await asyncio.gather(*held)
    finally:
        await admin.close()

    assert beyond.status_code == 429, beyond.text
    assert int(beyond.headers["Retry-After"]) >= 1
    assert [answer.status_code for answer in answers] == [200] * IN_FLIGHT_UPDATES
    texts = [e.payload.get("text") for e in await log.read(item["id"])]
    assert "超出在途上限" not in texts
    in_flight = sorted(t for t in texts if t and t.startswith("在途"))
    assert in_flight == [f"在途-{n}" for n in range(IN_FLIGHT_UPDATES)]
    assert before < len(texts)

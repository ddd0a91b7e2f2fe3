"""Targeted fault probes at the dangerous moments of an action, through the real API.

Random kills rarely land where an item can split from its log; these land there on purpose:
an append held by a row lock past the store call's timeout and the API's wait, and a worker
killed with SIGKILL after its append committed but before the workflow heard of it. After each,
the action that was answered 200 is in the log exactly once, the item takes its next action,
and the log, the read model, the workflow and its history agree (and the history replays).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from audit.reconcile import reconcile
from domain.fold import fold
from store.event_log import EventLog
from store.items import ItemQueries
from tests.api.conftest import AUDITOR, CO, LEAD, SUPERVISOR, Api, running_api
from tests.fixtures.databases import POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, fresh_postgres_url
from tests.fixtures.temporal import run_item_worker
from workflows.item import SupervisionItemWorkflow
from workflows.journal import STORE_TIMEOUT
from workflows.messages import workflow_id_for

API_WAIT_SECONDS = 4.0  # short, so that the probes also go past the API's wait (504)
HANG_TEXT = "探针：提交之后、确认之前"
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for the row-lock probe."""
    async with fresh_postgres_url() as url:
        yield url


def api_without_worker(
    database_url: str, client: Client, task_queue: str
) -> contextlib.AbstractAsyncContextManager[Api]:
    """The app on its own task queue, with no worker: each probe brings the workers it needs."""
    return running_api(
        database_url, client, task_queue=task_queue, worker=False, action_timeout_seconds=API_WAIT_SECONDS
    )


async def signed_item(api: Api) -> str:
    """An item both units have signed for (implementation is next: the plan)."""
    item = await api.open()
    for user in (LEAD, CO):
        answer = await api.act(item["id"], "sign_for", user)
        assert answer.status_code == 200, answer.text
    return str(item["id"])


async def comment_until_confirmed(api: Api, item_id: str, text: str, key: str) -> list[int]:
    """Send one comment, retrying with the same Idempotency-Key until it is confirmed; the statuses."""
    statuses: list[int] = []
    deadline = time.monotonic() + STORE_TIMEOUT.total_seconds() * 4
    while time.monotonic() < deadline:
        answer = await api.post(
            f"/api/items/{item_id}/actions/comment",
            SUPERVISOR,
            json={"text": text},
            headers={"Idempotency-Key": key},
        )
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            return statuses
        assert answer.status_code == 504, answer.text
    pytest.fail(f"the comment was never confirmed: {statuses}")


async def assert_one_truth(api: Api, client: Client, item_id: str, text: str) -> None:
    """The comment is logged once; log, read model, workflow and history agree; the item goes on."""
    log = EventLog(api.sessions)
    events = await log.read(item_id)
    assert [e.payload.get("text") for e in events].count(text) == 1
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    nxt = await api.act(item_id, "submit_plan", LEAD, {"measures": "分片包干", "milestones": []})
    assert nxt.status_code == 200, nxt.text
    events = await log.read(item_id)
    assert nxt.json()["last_seq"] == len(events)
    assert fold(events) == await ItemQueries(api.sessions).get(item_id)
    assert (await api.get(f"/api/items/{item_id}/verify", AUDITOR)).json()["ok"] is True
    agreed = await reconcile(client, log, item_id)
    assert agreed.ok, agreed.differences
    history = await client.get_workflow_handle(workflow_id_for(item_id)).fetch_history()
    replayed = await Replayer(
        workflows=[SupervisionItemWorkflow], data_converter=pydantic_data_converter
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None


@pytest.mark.postgres
async def test_an_append_held_past_every_timeout_lands_once_and_the_retry_gets_its_outcome(
    temporal_client: Client, postgres_url: str
) -> None:
    task_queue = f"probe-{uuid.uuid4()}"
    async with (
        api_without_worker(postgres_url, temporal_client, task_queue) as api,
        run_item_worker(temporal_client, api.sessions, task_queue=task_queue),
    ):
        item_id = await signed_item(api)
        database = postgres_url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database=database
        )
        held = STORE_TIMEOUT.total_seconds() + 3  # past the store call's timeout: it is retried
        try:
            lock = admin.transaction()
            await lock.start()
            await admin.execute("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", item_id)
            sending = asyncio.create_task(comment_until_confirmed(api, item_id, "锁住的评论", "held-1"))
            await asyncio.sleep(held)
            assert not sending.done()  # every attempt so far waited on the lock
            await lock.rollback()
            statuses = await sending
        finally:
            await admin.close()

        assert statuses[0] == 504  # the API's wait ran out first; retries attached to the same update
        assert statuses[-1] == 200
        await assert_one_truth(api, temporal_client, item_id, "锁住的评论")


async def test_a_worker_killed_after_its_append_committed_leaves_one_event_and_a_live_item(
    temporal_client: Client, database_url: str, tmp_path: Path
) -> None:
    task_queue = f"probe-{uuid.uuid4()}"
    mark = tmp_path / "committed"
    probe = subprocess.Popen(  # noqa: S603, ASYNC220 — our own probe worker, killed below
        [
            sys.executable,
            "-m",
            "tests.fixtures.probe_worker",
            temporal_client.service_client.config.target_host,
            task_queue,
            database_url,
            str(mark),
            HANG_TEXT,
        ],
        stdout=subprocess.PIPE,
        cwd=REPOSITORY,
    )
    try:
        assert probe.stdout is not None
        assert b"polling" in await asyncio.to_thread(probe.stdout.readline)
        async with api_without_worker(database_url, temporal_client, task_queue) as api:
            item_id = await signed_item(api)
            sending = asyncio.create_task(comment_until_confirmed(api, item_id, HANG_TEXT, "kill-1"))
            for _ in range(200):
                if mark.exists():
                    break
                await asyncio.sleep(0.05)
            assert mark.exists(), "the probe's append never committed"
            os.kill(probe.pid, signal.SIGKILL)
            await asyncio.to_thread(probe.wait)

            async with run_item_worker(temporal_client, api.sessions, task_queue=task_queue):
                statuses = await sending
                assert statuses[-1] == 200
                await assert_one_truth(api, temporal_client, item_id, HANG_TEXT)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()

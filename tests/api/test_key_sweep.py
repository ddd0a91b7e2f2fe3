"""The hourly sweep of expired Idempotency-Keys: a Schedule on the dev server, the real item worker,
HTTP through the app; a swept key is a new key again, a live one still answers its item."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from temporalio.client import Client, ScheduleActionStartWorkflow

from store.schema import idempotency_keys
from tests.api.conftest import SUPERVISOR, Api
from tests.builders import open_body
from tests.fixtures.temporal import trigger_schedule
from workflows.key_sweep import (
    KEY_SWEEP_EVERY,
    KEY_SWEEP_SCHEDULE_ID,
    KeysSwept,
    KeySweepRun,
    KeySweepWorkflow,
    ensure_key_sweep_schedule,
)


async def _keys(api: Api) -> set[str]:
    async with api.sessions() as session:
        return set((await session.execute(select(idempotency_keys.c.key))).scalars())


async def test_a_swept_key_opens_a_new_item_and_a_live_key_still_answers_its_own(
    api: Api, temporal_client: Client
) -> None:
    old, live = {"Idempotency-Key": "k-last-week"}, {"Idempotency-Key": "k-today"}
    today = open_body(title="今天的事")
    first = await api.post("/api/items", SUPERVISOR, json=open_body(), headers=old)
    kept = await api.post("/api/items", SUPERVISOR, json=today, headers=live)
    assert (first.status_code, kept.status_code) == (201, 201), first.text
    ttl = timedelta(hours=api.settings.idempotency_key_ttl_hours)
    async with api.sessions() as session, session.begin():
        await session.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key == "k-last-week")
            .values(created_at=datetime.now(UTC) - ttl - timedelta(hours=1))
        )

    swept = await temporal_client.execute_workflow(
        KeySweepWorkflow.run,
        KeySweepRun(ttl_hours=api.settings.idempotency_key_ttl_hours),
        id=f"key-sweep-test-{uuid.uuid4()}",
        task_queue=api.settings.task_queue,
    )

    assert swept == KeysSwept(deleted=1)
    assert await _keys(api) == {"k-today"}
    renewed = await api.post("/api/items", SUPERVISOR, json=open_body(title="另一件事"), headers=old)
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["id"] != first.json()["id"]
    again = await api.post("/api/items", SUPERVISOR, json=today, headers=live)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == kept.json()["id"]
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 3


async def test_the_sweep_schedule_is_created_once_and_its_run_sweeps(
    api: Api, temporal_client: Client
) -> None:
    await api.post("/api/items", SUPERVISOR, json=open_body(), headers={"Idempotency-Key": "k-old"})
    async with api.sessions() as session, session.begin():
        await session.execute(
            update(idempotency_keys).values(created_at=datetime.now(UTC) - timedelta(days=3))
        )

    await ensure_key_sweep_schedule(temporal_client, api.settings.task_queue, 48)
    await ensure_key_sweep_schedule(temporal_client, api.settings.task_queue, 24)
    schedule = temporal_client.get_schedule_handle(KEY_SWEEP_SCHEDULE_ID)
    try:
        described = await schedule.describe()
        assert [spec.every for spec in described.schedule.spec.intervals] == [KEY_SWEEP_EVERY]
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.task_queue == api.settings.task_queue
        started = await trigger_schedule(schedule)
        handle = temporal_client.get_workflow_handle_for(KeySweepWorkflow.run, started)
        result = await handle.result()
    finally:
        await schedule.delete()

    assert result == KeysSwept(deleted=1)
    assert await _keys(api) == set()

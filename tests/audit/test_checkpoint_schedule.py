"""Signed checkpoints on a Temporal Schedule, made by the checkpoint worker on the dev server."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from audit.schedule import checkpoint_queue, ensure_checkpoint_schedule
from bootstrap import checkpoint_worker
from ledger.checkpoint import Signer, signature_valid
from store.event_log import EventLog
from store.ledger import Ledger
from tests.fixtures.temporal import trigger_schedule
from tests.store.stories import ItemStory
from workflows.checkpoint import CHECKPOINT_SCHEDULE_ID, CheckpointRun, CheckpointWorkflow


async def test_the_schedule_is_created_once_and_its_runs_sign_checkpoints(
    temporal_client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    story = ItemStory("item-s")
    story.open()
    await EventLog(sessions).append(story.events)
    signer, task_queue = Signer.generate(), f"duban-test-{uuid.uuid4()}"

    await ensure_checkpoint_schedule(temporal_client, task_queue, timedelta(hours=1))
    await ensure_checkpoint_schedule(temporal_client, task_queue, timedelta(minutes=30))
    schedule = temporal_client.get_schedule_handle(CHECKPOINT_SCHEDULE_ID)
    try:
        described = await schedule.describe()
        assert [spec.every for spec in described.schedule.spec.intervals] == [timedelta(minutes=30)]

        async with checkpoint_worker(temporal_client, task_queue, sessions, signer):
            made = await temporal_client.execute_workflow(
                CheckpointWorkflow.run,
                CheckpointRun(),
                id=f"checkpoint-test-{uuid.uuid4()}",
                task_queue=checkpoint_queue(task_queue),
            )
            await temporal_client.get_workflow_handle(await trigger_schedule(schedule)).result()
    finally:
        await schedule.delete()

    stored = await Ledger(sessions).checkpoints()
    assert (made.sealed, made.size) == (1, 1)
    assert [c.size for c in stored] == [1, 1]
    assert all(signature_valid(c, signer.public) for c in stored)

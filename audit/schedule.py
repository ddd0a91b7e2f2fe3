"""The checkpoint Schedule, run on a task queue of its own (`bootstrap.checkpoint_worker` serves it)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule

from workflows.checkpoint import (
    CHECKPOINT_SCHEDULE_ID,
    CHECKPOINT_WORKFLOW,
    CheckpointRun,
)
from workflows.schedules import every as every_interval
from workflows.schedules import one_at_a_time, upsert_schedule


def checkpoint_queue(task_queue: str) -> str:
    """The checkpoint worker's own queue, so item workers never receive its tasks."""
    return f"{task_queue}-audit"


def checkpoint_schedule(task_queue: str, every: timedelta) -> Schedule:
    """A checkpoint every `every`; one still running when the next is due is not doubled."""
    return one_at_a_time(
        CHECKPOINT_SCHEDULE_ID,
        CHECKPOINT_WORKFLOW,
        CheckpointRun(),
        checkpoint_queue(task_queue),
        every_interval(every),
    )


async def ensure_checkpoint_schedule(client: Client, task_queue: str, every: timedelta) -> None:
    """Create the schedule, or bring an existing one up to date (any worker may call this)."""
    await upsert_schedule(client, CHECKPOINT_SCHEDULE_ID, checkpoint_schedule(task_queue, every))

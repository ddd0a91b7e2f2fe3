"""The checkpoint Schedule, run on a task queue of its own (`bootstrap.checkpoint_worker` serves it)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from workflows.checkpoint import (
    CHECKPOINT_SCHEDULE_ID,
    CHECKPOINT_WORKFLOW,
    CheckpointRun,
)
from workflows.schedules import upsert_schedule


def checkpoint_queue(task_queue: str) -> str:
    """The checkpoint worker's own queue, so item workers never receive its tasks."""
    return f"{task_queue}-audit"


def checkpoint_schedule(task_queue: str, every: timedelta) -> Schedule:
    """A checkpoint every `every`; one still running when the next is due is not doubled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CHECKPOINT_WORKFLOW,
            CheckpointRun(),
            id=f"{CHECKPOINT_SCHEDULE_ID}-run",
            task_queue=checkpoint_queue(task_queue),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_checkpoint_schedule(client: Client, task_queue: str, every: timedelta) -> None:
    """Create the schedule, or bring an existing one up to date (any worker may call this)."""
    await upsert_schedule(client, CHECKPOINT_SCHEDULE_ID, checkpoint_schedule(task_queue, every))

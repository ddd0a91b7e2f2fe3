"""Temporal Schedules: one shape for every periodic run, and create-or-update at worker start."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

# Every periodic run is counted on Beijing time.
TIME_ZONE = "Asia/Shanghai"


def daily_at(cron: str) -> ScheduleSpec:
    """Times given by `cron`, read in Beijing time."""
    return ScheduleSpec(cron_expressions=[cron], time_zone_name=TIME_ZONE)


def every(interval: timedelta) -> ScheduleSpec:
    """Once every `interval`."""
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)])


def one_at_a_time(
    schedule_id: str,
    workflow: str,
    run: BaseModel,
    task_queue: str,
    spec: ScheduleSpec,
    *,
    catchup_window: timedelta | None = None,
) -> Schedule:
    """Start `workflow` with `run` on `task_queue` at `spec`'s times, as `<schedule_id>-run`;
    a run still going when the next is due is skipped, never doubled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(workflow, run, id=f"{schedule_id}-run", task_queue=task_queue),
        spec=spec,
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=catchup_window),
    )


async def upsert_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Create the schedule, or bring an existing one up to `schedule` (any worker may call this)."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def _replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(_replace)

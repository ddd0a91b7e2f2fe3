"""The Temporal Schedule that starts DigestWorkflow daily, created or updated at worker start."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from workflows.digest_messages import DIGEST_SCHEDULE_ID, DIGEST_WORKFLOW, DigestRun
from workflows.schedules import upsert_schedule

TIME_ZONE = "Asia/Shanghai"


def digest_schedule(task_queue: str, cron: str) -> Schedule:
    """The daily digest at `cron` (Beijing time); a run still going when the next is due is not doubled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DIGEST_WORKFLOW, DigestRun(), id=f"{DIGEST_SCHEDULE_ID}-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=TIME_ZONE),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_digest_schedule(client: Client, task_queue: str, cron: str) -> None:
    """Create the schedule, or bring it to `cron` and `task_queue` if it exists (any worker may call this)."""
    await upsert_schedule(client, DIGEST_SCHEDULE_ID, digest_schedule(task_queue, cron))

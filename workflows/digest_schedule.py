"""The Temporal Schedule that starts DigestWorkflow daily, created or updated at worker start."""

from __future__ import annotations

from temporalio.client import Client, Schedule

from workflows.digest_messages import DIGEST_SCHEDULE_ID, DIGEST_WORKFLOW, DigestRun
from workflows.schedules import TIME_ZONE, daily_at, one_at_a_time, upsert_schedule

__all__ = ["TIME_ZONE", "digest_schedule", "ensure_digest_schedule"]


def digest_schedule(task_queue: str, cron: str) -> Schedule:
    """The daily digest at `cron` (Beijing time); a run still going when the next is due is not doubled."""
    return one_at_a_time(DIGEST_SCHEDULE_ID, DIGEST_WORKFLOW, DigestRun(), task_queue, daily_at(cron))


async def ensure_digest_schedule(client: Client, task_queue: str, cron: str) -> None:
    """Create the schedule, or bring it to `cron` and `task_queue` if it exists (any worker may call this)."""
    await upsert_schedule(client, DIGEST_SCHEDULE_ID, digest_schedule(task_queue, cron))

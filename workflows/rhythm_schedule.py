"""The Temporal Schedules of the rhythms, created or updated at worker start.

Each fires daily at `cron` (Beijing time); the run itself knows whether its working day has
come and whether the period already ran. Overlaps are skipped; after downtime the schedule
catches up one missed day at most, and any later day's run catches the period up anyway.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule

from domain.rhythms import Rhythm
from workflows.rhythm_messages import RHYTHM_WORKFLOW, SCHEDULE_IDS, RhythmRun
from workflows.schedules import daily_at, one_at_a_time, upsert_schedule


def rhythm_schedule(rhythm: Rhythm, task_queue: str, cron: str) -> Schedule:
    """The daily check of one rhythm at `cron` (Beijing time)."""
    return one_at_a_time(
        SCHEDULE_IDS[rhythm],
        RHYTHM_WORKFLOW,
        RhythmRun(rhythm=rhythm),
        task_queue,
        daily_at(cron),
        catchup_window=timedelta(days=1),
    )


async def ensure_rhythm_schedules(client: Client, task_queue: str, cron: str) -> None:
    """Create every rhythm's schedule, or bring each to `cron` and `task_queue` (any worker may call this)."""
    for rhythm in Rhythm:
        await upsert_schedule(client, SCHEDULE_IDS[rhythm], rhythm_schedule(rhythm, task_queue, cron))

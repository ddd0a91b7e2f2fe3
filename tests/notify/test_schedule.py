"""The daily digest's Temporal Schedule is created once and brought up to date on every worker start."""

from __future__ import annotations

from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleRange

from workflows.digest_messages import DIGEST_SCHEDULE_ID, DIGEST_WORKFLOW
from workflows.digest_schedule import TIME_ZONE, ensure_digest_schedule


async def test_starting_workers_twice_keeps_one_schedule_with_the_latest_settings(
    temporal_client: Client,
) -> None:
    await ensure_digest_schedule(temporal_client, "digest-queue-1", "30 8 * * *")
    await ensure_digest_schedule(temporal_client, "digest-queue-2", "0 9 * * *")

    handle = temporal_client.get_schedule_handle(DIGEST_SCHEDULE_ID)
    try:
        described = await handle.describe()
        ids = [entry.id async for entry in await temporal_client.list_schedules()]
    finally:
        await handle.delete()

    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == (DIGEST_WORKFLOW, "digest-queue-2")
    # The server keeps a cron line as a calendar: 09:00 every day.
    [calendar] = described.schedule.spec.calendars
    assert (list(calendar.hour), list(calendar.minute)) == ([ScheduleRange(9)], [ScheduleRange(0)])
    assert described.schedule.spec.time_zone_name == TIME_ZONE
    assert ids.count(DIGEST_SCHEDULE_ID) <= 1

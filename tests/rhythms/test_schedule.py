"""The rhythms' Temporal Schedules are created once and brought up to date on every worker start."""

from __future__ import annotations

from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy, ScheduleRange

from domain.rhythms import Rhythm
from workflows.digest_schedule import TIME_ZONE
from workflows.rhythm_messages import RHYTHM_WORKFLOW, SCHEDULE_IDS, RhythmRun
from workflows.rhythm_schedule import ensure_rhythm_schedules


async def test_starting_workers_twice_keeps_one_schedule_per_rhythm_that_skips_overlaps(
    temporal_client: Client,
) -> None:
    await ensure_rhythm_schedules(temporal_client, "rhythm-queue-1", "0 9 * * *")
    await ensure_rhythm_schedules(temporal_client, "rhythm-queue-2", "30 8 * * *")

    described = {}
    try:
        for rhythm, schedule_id in SCHEDULE_IDS.items():
            described[rhythm] = await temporal_client.get_schedule_handle(schedule_id).describe()
        ids = [entry.id async for entry in await temporal_client.list_schedules()]
    finally:
        for schedule_id in SCHEDULE_IDS.values():
            await temporal_client.get_schedule_handle(schedule_id).delete()

    for rhythm in Rhythm:
        schedule = described[rhythm].schedule
        action = schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == (RHYTHM_WORKFLOW, "rhythm-queue-2")
        assert action.id == f"{SCHEDULE_IDS[rhythm]}-run"
        assert schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
        [calendar] = schedule.spec.calendars
        assert (list(calendar.hour), list(calendar.minute)) == ([ScheduleRange(8)], [ScheduleRange(30)])
        assert schedule.spec.time_zone_name == TIME_ZONE
        assert ids.count(SCHEDULE_IDS[rhythm]) <= 1
        # Each schedule starts its own rhythm: the workflow's input names it.
        [started] = await temporal_client.data_converter.decode(action.args, [RhythmRun])
        assert started == RhythmRun(rhythm=rhythm)

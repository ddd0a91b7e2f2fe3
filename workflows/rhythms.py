"""RhythmWorkflow: one run of 月督促 or 季调度 on a given Beijing day.

A Temporal Schedule starts it every day (see `workflows.rhythm_schedule`); the activity decides
whether the day is on or after the rhythm's working day and whether the period has already run,
so a missed day is caught up by the next run and a period is never sent twice.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.instants import CHINA
    from workflows.rhythm_messages import RHYTHM_WORKFLOW, RUN_RHYTHM_ACTIVITY, RhythmReport, RhythmRun

RUN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
RUN_TIMEOUT = timedelta(minutes=10)


@workflow.defn(name=RHYTHM_WORKFLOW)
class RhythmWorkflow:
    """Run one rhythm for the day the run starts (or the day given)."""

    @workflow.run
    async def run(self, run: RhythmRun) -> RhythmReport:
        """Hand the day to the activity, which generates the period's requests and documents once."""
        day = run.day or workflow.now().astimezone(CHINA).date().isoformat()
        report: RhythmReport = await workflow.execute_activity(
            RUN_RHYTHM_ACTIVITY,
            RhythmRun(rhythm=run.rhythm, day=day),
            result_type=RhythmReport,
            start_to_close_timeout=RUN_TIMEOUT,
            retry_policy=RUN_RETRY,
        )
        return report

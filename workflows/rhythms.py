"""RhythmWorkflow: one run of 月督促, 季调度 or 年评估 on a given Beijing day.

A Temporal Schedule starts it every day (see `workflows.rhythm_schedule`); the activity decides
whether the day is on or after the rhythm's working day and whether the period has already run,
so a missed day is caught up by the next run and a period is never sent twice.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from domain.instants import CHINA
    from domain.rhythms import Rhythm
    from workflows.messages import DIGEST_OUTCOME_SIGNAL, DigestOutcome, workflow_id_for
    from workflows.rhythm_messages import (
        RHYTHM_WORKFLOW,
        RUN_RHYTHM_ACTIVITY,
        RequestCovered,
        RhythmReport,
        RhythmRun,
    )

RUN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
RUN_TIMEOUT = timedelta(minutes=10)
INBOX_CHANNEL = "inbox"


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
        for item in report.covered:
            await self._record(item, report.period)
        return report

    async def _record(self, item: RequestCovered, period: str) -> None:
        """Record the request in the item's own chain, once per recipient (as the digest records)."""
        handle = workflow.get_external_workflow_handle(workflow_id_for(item.item_id))
        for recipient in item.recipients:
            outcome = DigestOutcome(
                item_id=item.item_id,
                event_seqs=[item.seq],
                recipient=recipient,
                channel=INBOX_CHANNEL,
                day=period,
                delivered=True,
                detail="已送达站内消息 / in the inbox",
                kind=Rhythm.MONTHLY.value,
            )
            try:
                await handle.signal(DIGEST_OUTCOME_SIGNAL, outcome)
            except FailureError:
                # The item's workflow has ended (or never ran here): its chain is closed.
                workflow.logger.info("request not recorded: item ended", extra={"item_id": item.item_id})
                return

"""DigestWorkflow: once a day, one digest per recipient and channel of the routine reminders queued.

A Temporal Schedule starts it (see `workflows.digest_schedule`). Each digest's outcome is
signalled to the workflow of every item it covered, which appends the delivered / failed
event to that item's own audit chain; an item whose workflow has ended is skipped.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from domain.instants import CHINA
    from workflows.digest_messages import (
        COLLECT_DIGESTS_ACTIVITY,
        DIGEST_WORKFLOW,
        SEND_DIGEST_ACTIVITY,
        DigestBatch,
        DigestBatches,
        DigestReport,
        DigestRun,
        DigestSent,
    )
    from workflows.messages import (
        DELIVERY_RETRY,
        DELIVERY_TIMEOUT,
        DIGEST_OUTCOME_SIGNAL,
        DigestOutcome,
        workflow_id_for,
    )

COLLECT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
COLLECT_TIMEOUT = timedelta(minutes=1)


def failure_reason(error: ActivityError) -> str:
    """The reason a failed activity gives (its cause's message), for the audit log."""
    cause = error.cause
    return str(cause.message if isinstance(cause, FailureError) else error.message)


@workflow.defn(name=DIGEST_WORKFLOW)
class DigestWorkflow:
    """Send the day's digests, each with its own retries; report each outcome to the items covered."""

    @workflow.run
    async def run(self, run: DigestRun) -> DigestReport:
        """Claim the day's queued reminders, send the digests side by side, signal the items."""
        day = run.day or workflow.now().astimezone(CHINA).date().isoformat()
        batches = await workflow.execute_activity(
            COLLECT_DIGESTS_ACTIVITY,
            DigestRun(day=day),
            result_type=DigestBatches,
            start_to_close_timeout=COLLECT_TIMEOUT,
            retry_policy=COLLECT_RETRY,
        )
        results = await asyncio.gather(*(self._send(batch) for batch in batches.batches))
        sent = sum(results)
        return DigestReport(day=day, sent=sent, failed=len(results) - sent)

    async def _send(self, batch: DigestBatch) -> bool:
        try:
            outcome = await workflow.execute_activity(
                SEND_DIGEST_ACTIVITY,
                batch,
                result_type=DigestSent,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
            delivered, detail = True, outcome.detail
        except ActivityError as error:
            delivered, detail = False, failure_reason(error)
            workflow.logger.warning(
                "digest failed",
                extra={"recipient": batch.recipient, "channel": batch.channel, "reason": detail},
            )
        for covered in batch.covered:
            signal = DigestOutcome(
                item_id=covered.item_id,
                event_seqs=covered.event_seqs,
                recipient=batch.recipient,
                channel=batch.channel,
                day=batch.day,
                delivered=delivered,
                detail=detail,
            )
            try:
                handle = workflow.get_external_workflow_handle(workflow_id_for(covered.item_id))
                await handle.signal(DIGEST_OUTCOME_SIGNAL, signal)
            except FailureError:
                # The item has ended since its reminder was queued; its chain is closed.
                workflow.logger.info(
                    "digest outcome not recorded: item ended", extra={"item_id": covered.item_id}
                )
        return delivered

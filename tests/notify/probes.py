"""Tiny workflows that stand in for the item workflow's side of the notify seam."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.digest import failure_reason
    from workflows.messages import (
        DELIVERY_RETRY,
        DELIVERY_TIMEOUT,
        DIGEST_OUTCOME_SIGNAL,
        NOTIFY_DELIVER_ACTIVITY,
        DeliveryOutcome,
        DeliveryRequest,
        DigestOutcome,
    )


@workflow.defn(name="DeliveryProbeWorkflow")
class DeliveryProbeWorkflow:
    """Deliver once with the recommended retry policy; a channel that stays dead becomes `failed`."""

    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryOutcome:
        """The delivery's outcome, never an exception."""
        try:
            outcome: DeliveryOutcome = await workflow.execute_activity(
                NOTIFY_DELIVER_ACTIVITY,
                request,
                result_type=DeliveryOutcome,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            return DeliveryOutcome(
                recipient=request.recipient,
                channel=request.channel,
                delivered=False,
                detail=failure_reason(error),
            )
        return outcome


@workflow.defn(name="ItemProbeWorkflow")
class ItemProbeWorkflow:
    """Collects digest outcomes as the item workflow would receive them; ends after `expected` of them."""

    def __init__(self) -> None:
        self._outcomes: list[DigestOutcome] = []

    @workflow.run
    async def run(self, expected: int) -> list[DigestOutcome]:
        """The outcomes signalled, in arrival order."""
        await workflow.wait_condition(lambda: len(self._outcomes) >= expected)
        return self._outcomes

    @workflow.signal(name=DIGEST_OUTCOME_SIGNAL)
    def digest_outcome(self, outcome: DigestOutcome) -> None:
        """Record one digest outcome."""
        self._outcomes.append(outcome)

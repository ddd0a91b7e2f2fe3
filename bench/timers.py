"""Figure 5's baseline: a bare Temporal workflow that sleeps until an instant and reports how late it woke.

It is what the engine alone does for a rung (a durable timer to a recorded instant, then a
workflow task), without the service's planning activity, append or deliveries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow


@workflow.defn(name="BenchTimerWorkflow")
class TimerWorkflow:
    """Sleeps until `target`; returns workflow.now() − target in seconds."""

    @workflow.run
    async def run(self, target: datetime) -> float:
        """Wait on a timer for `target`, then measure the lateness from inside the workflow."""
        delay = target - workflow.now()
        if delay > timedelta(0):
            await workflow.sleep(delay)
        return (workflow.now() - target).total_seconds()

"""CheckpointWorkflow: seal the audit ledger and sign a checkpoint, started by a Temporal Schedule."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict

CHECKPOINT_WORKFLOW = "CheckpointWorkflow"
MAKE_CHECKPOINT_ACTIVITY = "make_checkpoint"
CHECKPOINT_SCHEDULE_ID = "duban-audit-checkpoint"


class CheckpointRun(BaseModel):
    """The schedule's input: nothing yet; a type of its own so fields can be added."""

    model_config = ConfigDict(frozen=True)


class CheckpointMade(BaseModel):
    """The activity's result: the signed checkpoint's size and root, and how many events it sealed."""

    model_config = ConfigDict(frozen=True)

    sealed: int
    size: int
    root: str


@workflow.defn(name=CHECKPOINT_WORKFLOW)
class CheckpointWorkflow:
    """One checkpoint: the activity seals and signs (the key never enters the history)."""

    @workflow.run
    async def run(self, run: CheckpointRun) -> CheckpointMade:
        """Make the checkpoint, retrying while the database is unavailable."""
        made: CheckpointMade = await workflow.execute_activity(
            MAKE_CHECKPOINT_ACTIVITY,
            run,
            result_type=CheckpointMade,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return made

"""KeySweepWorkflow: delete the expired Idempotency-Keys of openings, started hourly by a Schedule.

Without it `idempotency_keys` keeps one row per key ever used. The keys are the API's; the
sweep runs on the item workers' queue, which every deployment serves.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, Schedule
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, Field

    from workflows.schedules import every, one_at_a_time, upsert_schedule

KEY_SWEEP_WORKFLOW = "KeySweepWorkflow"
SWEEP_KEYS_ACTIVITY = "sweep_idempotency_keys"
KEY_SWEEP_SCHEDULE_ID = "duban-idempotency-key-sweep"
KEY_SWEEP_EVERY = timedelta(hours=1)


class KeySweepRun(BaseModel):
    """The schedule's input: the keys' lifetime (IDEMPOTENCY_KEY_TTL_HOURS of the worker that set it)."""

    model_config = ConfigDict(frozen=True)

    ttl_hours: int = Field(ge=1)


class KeysSwept(BaseModel):
    """The activity's result: how many expired keys it deleted."""

    model_config = ConfigDict(frozen=True)

    deleted: int


@workflow.defn(name=KEY_SWEEP_WORKFLOW)
class KeySweepWorkflow:
    """One sweep: the activity deletes, in batches, every key expired by its own clock."""

    @workflow.run
    async def run(self, run: KeySweepRun) -> KeysSwept:
        """Sweep, retrying while the database is unavailable."""
        swept: KeysSwept = await workflow.execute_activity(
            SWEEP_KEYS_ACTIVITY,
            run,
            result_type=KeysSwept,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return swept


def key_sweep_schedule(task_queue: str, ttl_hours: int) -> Schedule:
    """A sweep every KEY_SWEEP_EVERY on `task_queue`; one still running when the next is due is skipped."""
    return one_at_a_time(
        KEY_SWEEP_SCHEDULE_ID,
        KEY_SWEEP_WORKFLOW,
        KeySweepRun(ttl_hours=ttl_hours),
        task_queue,
        every(KEY_SWEEP_EVERY),
    )


async def ensure_key_sweep_schedule(client: Client, task_queue: str, ttl_hours: int) -> None:
    """Create the schedule, or bring it to `task_queue` and `ttl_hours` (any worker may call this)."""
    await upsert_schedule(client, KEY_SWEEP_SCHEDULE_ID, key_sweep_schedule(task_queue, ttl_hours))

"""The one path by which an item's events reach the audit log, shared by actions, timers and deliveries.

Whoever records holds `lock`: events get gapless seqs after the last committed one, the append
activity writes them (idempotently: ids derive from item and seq), and only then does the state
fold them in.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.events import EventBody, RecordedEvent, record
    from domain.fold import evolve
    from domain.people import Actor
    from domain.state import ItemState
    from workflows.messages import APPEND_EVENTS_ACTIVITY, AppendEvents, AppendOutcome

# Event ids are derived from (item, seq): a retried append carries the same id and is a no-op.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2d4e-8a53-4c1e-9d0b-2b7f3a9e5c10")
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["SeqConflict"],
)
STORE_TIMEOUT = timedelta(seconds=30)
# Histories recorded before this patch ran the store's activities through the task queue.
LOCAL_STORE_CALLS = "local-store-activities"
ONE_LOCAL_ATTEMPT = RetryPolicy(maximum_attempts=1)
LOCAL_ATTEMPT_TIMEOUT = timedelta(seconds=10)


T = TypeVar("T")


async def store_call(
    activity: str, arg: Any, *, result_type: type[T], start_to_close: timedelta, retry_policy: RetryPolicy
) -> T:
    """Run a short, idempotent activity on the store: first once as a local activity of this worker.

    A local activity skips the task queue (two server round trips and a poll) and its result is
    recorded with the workflow task that used it. If the worker dies first, the next worker
    replays and runs it again: every activity called this way must be idempotent (the append and
    the item number are; choosing a policy, arming and planning only read). If that one attempt
    fails, the activity goes through the task queue with `retry_policy`, as before the patch:
    retries wait on the server, not inside a workflow task that would stall the item's queries.
    """
    if workflow.patched(LOCAL_STORE_CALLS):
        try:
            result: T = await workflow.execute_local_activity(
                activity,
                arg,
                result_type=result_type,
                start_to_close_timeout=min(start_to_close, LOCAL_ATTEMPT_TIMEOUT),
                retry_policy=ONE_LOCAL_ATTEMPT,
            )
        except (ActivityError, ApplicationError) as error:  # a failed local activity raises either
            workflow.logger.warning(
                "local attempt failed; retrying through the task queue",
                extra={"activity": activity, "error": str(error.cause or error)},
            )
        else:
            return result
    queued: T = await workflow.execute_activity(
        activity,
        arg,
        result_type=result_type,
        start_to_close_timeout=start_to_close,
        retry_policy=retry_policy,
    )
    return queued


def event_id(item_id: str, seq: int) -> str:
    """The deterministic id of the item's `seq`-th event."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{item_id}:{seq}"))


class Journal:
    """The item's committed state and the lock that serializes every append."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        self.state = ItemState(id=item_id)
        self.lock = asyncio.Lock()

    def draft(
        self, bodies: list[EventBody], actor: Actor, after: ItemState | None = None
    ) -> tuple[list[RecordedEvent], ItemState]:
        """Events for `bodies` following `after` (the committed state by default), and the state they lead to.

        Nothing is written: pass the events to `commit`.
        """
        state = after or self.state
        events: list[RecordedEvent] = []
        for body in bodies:
            seq = state.last_seq + 1
            event = record(
                body,
                event_id=event_id(self.item_id, seq),
                item_id=self.item_id,
                seq=seq,
                stage=state.stage,
                actor=actor,
                occurred_at=workflow.now(),
            )
            events.append(event)
            state = evolve(state, event)
        return events, state

    async def commit(self, events: list[RecordedEvent]) -> None:
        """Append drafted events to the audit log, then fold them into the state (hold `lock`)."""
        if not events:
            return
        await store_call(
            APPEND_EVENTS_ACTIVITY,
            AppendEvents(events=events),
            result_type=AppendOutcome,
            start_to_close=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        for event in events:
            self.state = evolve(self.state, event)

    async def record(self, bodies: list[EventBody], actor: Actor) -> list[RecordedEvent]:
        """Take the lock, draft and commit `bodies`; the recorded events."""
        async with self.lock:
            events, _ = self.draft(bodies, actor)
            await self.commit(events)
            return events

"""The one path by which an item's events reach the audit log, shared by actions, timers and deliveries.

Whoever records holds `lock`: events get gapless seqs after the last committed one, the append
activity writes them (idempotently: ids derive from item and seq), and only then does the state
fold them in. The log is the truth: if it already holds other events at the drafted seqs (an
item split by a history written before `QUEUED_STORE_CALLS`), the append answers with them, the
state adopts them and the caller decides again, so workflow and log always converge.
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
# An append takes milliseconds; a worker that died inside one is replaced after this long.
STORE_TIMEOUT = timedelta(seconds=15)
# Histories recorded between these two patches ran the store's activities as local activities,
# whose input is not in the history: a crash, a lost workflow task or a stall past the local
# timeout could write an event the workflow never recorded. Since QUEUED_STORE_CALLS the
# activity is scheduled (input recorded) before it runs, so a retry always writes the same event.
LOCAL_STORE_CALLS = "local-store-activities"
QUEUED_STORE_CALLS = "queued-store-activities"
ONE_LOCAL_ATTEMPT = RetryPolicy(maximum_attempts=1)
LOCAL_ATTEMPT_TIMEOUT = timedelta(seconds=10)


T = TypeVar("T")


async def store_call(
    activity: str, arg: Any, *, result_type: type[T], start_to_close: timedelta, retry_policy: RetryPolicy
) -> T:
    """Run a short, idempotent activity on the store through the task queue, with `retry_policy`.

    Histories recorded under LOCAL_STORE_CALLS (and not QUEUED_STORE_CALLS) replay as they ran:
    one local attempt, then the task queue.
    """
    if not workflow.patched(QUEUED_STORE_CALLS) and workflow.patched(LOCAL_STORE_CALLS):
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

    async def commit(self, events: list[RecordedEvent]) -> bool:
        """Append drafted events to the audit log and fold them into the state (hold `lock`).

        False when the log already held other events at these seqs: the state has adopted them
        instead, and the caller must decide again on it and draft anew.
        """
        if not events:
            return True
        outcome = await store_call(
            APPEND_EVENTS_ACTIVITY,
            AppendEvents(events=events),
            result_type=AppendOutcome,
            start_to_close=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        if outcome.adopted:
            workflow.logger.warning(
                "the audit log held other events at the drafted seqs; adopting them",
                extra={"item_id": self.item_id, "from_seq": events[0].seq, "to_seq": outcome.last_seq},
            )
            for event in outcome.adopted:
                self.state = evolve(self.state, event)
            return False
        for event in events:
            self.state = evolve(self.state, event)
        return True

    async def record(self, bodies: list[EventBody], actor: Actor) -> list[RecordedEvent]:
        """Take the lock, draft and commit `bodies` (after whatever the log already holds); the events."""
        async with self.lock:
            while True:
                events, _ = self.draft(bodies, actor)
                if await self.commit(events):
                    return events

"""Audit activities: append events to the hash-chained log, allocate human item numbers.

Both are idempotent, so Temporal's at-least-once delivery never duplicates a row.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.events import RecordedEvent
from store.event_log import EventLog, SeqConflict
from store.numbers import ItemNumbers
from workflows.messages import (
    ALLOCATE_NUMBER_ACTIVITY,
    APPEND_EVENTS_ACTIVITY,
    AppendEvents,
    AppendOutcome,
    NumberRequest,
)


class AuditActivities:
    """Activities bound to the store they write to (injected by the worker)."""

    def __init__(self, event_log: EventLog, numbers: ItemNumbers) -> None:
        self._event_log = event_log
        self._numbers = numbers

    @activity.defn(name=APPEND_EVENTS_ACTIVITY)
    async def append_events(self, request: AppendEvents) -> AppendOutcome:
        """Append an item's events; those already present (a retry) are left as they are.

        If the log already holds other events at these seqs, nothing is written and the outcome
        carries the logged ones for the workflow to adopt: the log is the truth.
        """
        try:
            receipt = await self._event_log.append(request.events)
        except SeqConflict as conflict:
            return await self._adopt(request, conflict)
        activity.logger.info(
            "audit events appended",
            extra={
                "appended": receipt.appended,
                "already_present": receipt.already_present,
                "last_seq": receipt.last_seq,
            },
        )
        return AppendOutcome(
            appended=receipt.appended,
            already_present=receipt.already_present,
            last_seq=receipt.last_seq,
            last_hash=receipt.last_hash,
            hashes=receipt.hashes,
        )

    async def _adopt(self, request: AppendEvents, conflict: SeqConflict) -> AppendOutcome:
        first = request.events[0]
        logged = await self._event_log.read(first.item_id, from_seq=first.seq)
        if not logged:
            # The workflow is ahead of the log: events it recorded are missing. Corruption, not a fault.
            raise ApplicationError(str(conflict), type="SeqConflict", non_retryable=True) from conflict
        activity.logger.warning(
            "audit log holds other events at the requested seqs; the workflow adopts them",
            extra={"item_id": first.item_id, "from_seq": first.seq, "last_seq": logged[-1].seq},
        )
        return AppendOutcome(
            appended=0,
            already_present=0,
            last_seq=logged[-1].seq,
            last_hash=logged[-1].hash,
            adopted=[RecordedEvent.model_validate(event.canonical()) for event in logged],
        )

    @activity.defn(name=ALLOCATE_NUMBER_ACTIVITY)
    async def allocate_number(self, request: NumberRequest) -> str:
        """The item's human number (DB-YYYY-NNNNNN), the same on every retry."""
        return await self._numbers.allocate(request.item_id, request.year)

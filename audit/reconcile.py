"""Reconcile an item's audit log with its Temporal workflow history.

Matching rule: by event. Every `act` update the workflow accepted and completed returns the
events it recorded (ActionResult.events); every `append_events` activity it scheduled carries
the events it asked for (covering events no update caused, such as timer escalations and
deliveries; still running ones count, their events may already be logged); and every append's
result, from the task queue or from a local-activity marker (histories whose store calls ran
locally record only the result), names the chain hash its events were logged under. A chain
hash covers its event and every one before it, so an append result whose `last_hash` matches
the log at `last_seq` proves the log up to there. Each recorded event must be in the log with
the same content, and each audit event must be recorded or proven. Then the workflow's own
state (its result when finished, else its `state` query) must equal the fold of the audit log
up to the workflow's last seq, and the log may run past it only with events of appends still
running.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from temporalio.api.common.v1 import Payloads
from temporalio.api.history.v1 import HistoryEvent, WorkflowExecutionStartedEventAttributes
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import PayloadConverter

from audit.diff import state_changes
from domain.events import RecordedEvent
from domain.fold import fold
from domain.state import ItemState
from ledger.hashing import canonical_bytes
from store.event_log import EventLog, StoredEvent
from workflows.messages import (
    ACT_UPDATE,
    APPEND_EVENTS_ACTIVITY,
    STATE_QUERY,
    ActionResult,
    AppendEvents,
    AppendOutcome,
    workflow_id_for,
)

LOCAL_ACTIVITY_MARKER = "core_local_activity"
LOOKS = 4
LOOK_APART_SECONDS = 0.5

M = TypeVar("M", bound=BaseModel)


class Reconciliation(BaseModel):
    """The outcome: how much was compared, and every difference found (empty when they agree)."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    updates: int
    history_events: int
    log_events: int
    differences: list[str]

    @property
    def ok(self) -> bool:
        """True when the audit log and the workflow agree."""
        return not self.differences


def _decode(converter: PayloadConverter, payloads: Payloads, kind: type[M]) -> M:
    value: M = converter.from_payloads(payloads.payloads, [kind])[0]
    return value


@dataclass
class HistoryRecord:
    """What a workflow history says the item's workflow recorded."""

    updates: int = 0
    recorded: dict[str, RecordedEvent] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)  # event ids of appends not yet completed
    proven_heads: dict[int, str] = field(default_factory=dict)  # seq → chain hash an append answered
    result: ItemState | None = None

    def append_answered(self, outcome: AppendOutcome) -> None:
        """An append's result: the chain head it left, and any events the workflow adopted."""
        self.proven_heads[outcome.last_seq] = outcome.last_hash
        self.recorded.update((e.id, e) for e in outcome.adopted)


def _local_append_result(event: HistoryEvent, converter: PayloadConverter) -> AppendOutcome | None:
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER or "result" not in marker.details:
        return None
    data = json.loads(marker.details["data"].payloads[0].data)
    if data.get("activity_type") != APPEND_EVENTS_ACTIVITY:
        return None
    return _decode(converter, marker.details["result"], AppendOutcome)


class _HistoryReader:
    """Walks one history in order, pairing accepted updates and scheduled appends with their ends."""

    def __init__(self, converter: PayloadConverter) -> None:
        self.found = HistoryRecord()
        self._converter = converter
        self._act_accepted: set[int] = set()
        self._append_scheduled: dict[int, AppendEvents] = {}

    def feed(self, event: HistoryEvent) -> None:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            accepted = event.workflow_execution_update_accepted_event_attributes
            if accepted.accepted_request.input.name == ACT_UPDATE:
                self._act_accepted.add(event.event_id)
        elif event.HasField("workflow_execution_update_completed_event_attributes"):
            self._update_completed(event)
        elif event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == APPEND_EVENTS_ACTIVITY:
                self._append_scheduled[event.event_id] = _decode(
                    self._converter, scheduled.input, AppendEvents
                )
        elif event.HasField("activity_task_completed_event_attributes"):
            self._append_completed(event)
        elif event.HasField("marker_recorded_event_attributes"):
            if (local := _local_append_result(event, self._converter)) is not None:
                self.found.append_answered(local)
        elif event.HasField("workflow_execution_completed_event_attributes"):
            completed = event.workflow_execution_completed_event_attributes
            self.found.result = _decode(self._converter, completed.result, ItemState)

    def _update_completed(self, event: HistoryEvent) -> None:
        completed = event.workflow_execution_update_completed_event_attributes
        if completed.accepted_event_id in self._act_accepted and completed.outcome.HasField("success"):
            self.found.updates += 1
            result = _decode(self._converter, completed.outcome.success, ActionResult)
            self.found.recorded.update((e.id, e) for e in result.events)

    def _append_completed(self, event: HistoryEvent) -> None:
        completed = event.activity_task_completed_event_attributes
        asked = self._append_scheduled.pop(completed.scheduled_event_id, None)
        if asked is None:
            return
        outcome = _decode(self._converter, completed.result, AppendOutcome)
        self.found.append_answered(outcome)
        if not outcome.adopted:  # adopted: nothing of `asked` was written
            self.found.recorded.update((e.id, e) for e in asked.events)

    def finish(self) -> HistoryRecord:
        """The record; appends never completed (failed, timed out, running) count as asked for."""
        for pending in self._append_scheduled.values():
            self.found.recorded.update((e.id, e) for e in pending.events)
            self.found.in_flight.update(e.id for e in pending.events)
        return self.found


def history_events(events: Sequence[HistoryEvent], converter: PayloadConverter) -> HistoryRecord:
    """From a history: completed `act` updates, the events they and the appends recorded, the result."""
    reader = _HistoryReader(converter)
    for event in events:
        reader.feed(event)
    return reader.finish()


def _proven(logged: Sequence[StoredEvent], heads: dict[int, str]) -> set[str]:
    """Ids of the audit events at or before a chain head that an append result vouches for."""
    by_seq = {event.seq: event for event in logged}
    reach = max(
        (seq for seq, hash_ in heads.items() if seq in by_seq and by_seq[seq].hash == hash_), default=0
    )
    return {event.id for event in logged if event.seq <= reach}


def _label(event: RecordedEvent) -> str:
    return f"seq {event.seq} {event.type}"


def compare(
    item_id: str, found: HistoryRecord, logged: Sequence[StoredEvent], workflow_state: ItemState
) -> Reconciliation:
    """The differences between what the workflow recorded and what the audit log holds."""
    differences: list[str] = []
    recorded = found.recorded
    in_log = {event.id: event for event in logged}
    for event in sorted(recorded.values(), key=lambda e: e.seq):
        held = in_log.get(event.id)
        if held is None:
            if event.id not in found.in_flight:
                differences.append(
                    f"审计日志缺少事件 {_label(event)}（工作流已记录）/ the audit log lacks {_label(event)}"
                    " that the workflow recorded"
                )
        elif canonical_bytes(held) != canonical_bytes(event):
            differences.append(
                f"事件 {_label(event)} 与工作流记录的内容不同 /"
                f" {_label(event)} differs from what the workflow recorded"
            )
    proven = _proven(logged, found.proven_heads)
    differences += [
        f"审计事件 {_label(event)} 在工作流历史中没有来源 / {_label(event)} has no update or append"
        " in the workflow history"
        for event in logged
        if event.id not in recorded and event.id not in proven
    ]
    ahead = [event for event in logged if event.seq > workflow_state.last_seq]
    if any(event.id not in found.in_flight for event in ahead):
        ahead = []  # the log runs past the workflow with events it never asked for: compare in full
    folded = fold(logged[: len(logged) - len(ahead)], ItemState(id=item_id))
    differences += [
        f"工作流状态与审计回放不同 / workflow vs audit log: {line}"
        for line in state_changes(workflow_state, folded)
    ]
    return Reconciliation(
        item_id=item_id,
        updates=found.updates,
        history_events=len(recorded),
        log_events=len(logged),
        differences=differences,
    )


def _started(history: WorkflowHistory) -> WorkflowExecutionStartedEventAttributes:
    return history.events[0].workflow_execution_started_event_attributes


async def run_histories(client: Client, item_id: str) -> list[WorkflowHistory]:
    """The histories of every run of the item's workflow, first run first (runs continue as new)."""
    workflow_id = workflow_id_for(item_id)
    runs = [await client.get_workflow_handle(workflow_id).fetch_history()]
    while (
        previous := runs[-1].events[0].workflow_execution_started_event_attributes.continued_execution_run_id
    ):
        runs.append(await client.get_workflow_handle(workflow_id, run_id=previous).fetch_history())
    return runs[::-1]


async def reconcile(client: Client, log: EventLog, item_id: str) -> Reconciliation:
    """Read the item's audit log, then its workflow histories (all runs) and state, and compare them.

    The log is read first: every event in it was scheduled (or returned) before it was committed,
    so the history fetched afterwards holds it. A live item may still move between the reads
    (its state past the log read); a difference counts only if it outlasts a few looks.
    """
    for look in range(LOOKS):
        if look:
            await asyncio.sleep(LOOK_APART_SECONDS)
        logged = await log.read(item_id)
        reader = _HistoryReader(client.data_converter.payload_converter)
        for history in await run_histories(client, item_id):
            for event in history.events:
                reader.feed(event)
        found = reader.finish()
        state = found.result
        if state is None:
            handle = client.get_workflow_handle(workflow_id_for(item_id))
            state = await handle.query(STATE_QUERY, result_type=ItemState)
        outcome = compare(item_id, found, logged, state)
        if outcome.ok:
            break
    return outcome

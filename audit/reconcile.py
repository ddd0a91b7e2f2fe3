"""Reconcile an item's audit log with its Temporal workflow history.

Matching rule: by event. Every `act` update the workflow accepted and completed returns the
events it recorded (ActionResult.events), and every completed `append_events` activity carries
the events it wrote (covering events no update caused, such as timer escalations). Each of
those events must be in the audit log with the same content, and each audit event must come
from one of them. Then the workflow's own state (its result when finished, else its `state`
query) must equal the fold of the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from temporalio.api.common.v1 import Payloads
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.converter import PayloadConverter

from audit.diff import state_changes
from domain.events import RecordedEvent
from domain.fold import fold
from domain.state import ItemState
from ledger.hashing import canonical_bytes
from store.event_log import EventLog
from workflows.messages import (
    ACT_UPDATE,
    APPEND_EVENTS_ACTIVITY,
    STATE_QUERY,
    ActionResult,
    AppendEvents,
    workflow_id_for,
)

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


def history_events(
    events: Sequence[HistoryEvent], converter: PayloadConverter
) -> tuple[int, dict[str, RecordedEvent], ItemState | None]:
    """From a history: completed `act` updates, the events they and completed appends recorded, the result."""
    act_accepted: set[int] = set()
    append_scheduled: dict[int, AppendEvents] = {}
    recorded: dict[str, RecordedEvent] = {}
    updates = 0
    result: ItemState | None = None
    for event in events:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            accepted = event.workflow_execution_update_accepted_event_attributes
            if accepted.accepted_request.input.name == ACT_UPDATE:
                act_accepted.add(event.event_id)
        elif event.HasField("workflow_execution_update_completed_event_attributes"):
            completed = event.workflow_execution_update_completed_event_attributes
            if completed.accepted_event_id in act_accepted and completed.outcome.HasField("success"):
                updates += 1
                outcome = _decode(converter, completed.outcome.success, ActionResult)
                recorded.update((e.id, e) for e in outcome.events)
        elif event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == APPEND_EVENTS_ACTIVITY:
                append_scheduled[event.event_id] = _decode(converter, scheduled.input, AppendEvents)
        elif event.HasField("activity_task_completed_event_attributes"):
            done = append_scheduled.pop(
                event.activity_task_completed_event_attributes.scheduled_event_id, None
            )
            if done is not None:
                recorded.update((e.id, e) for e in done.events)
        elif event.HasField("workflow_execution_completed_event_attributes"):
            result = _decode(converter, event.workflow_execution_completed_event_attributes.result, ItemState)
    return updates, recorded, result


def _label(event: RecordedEvent) -> str:
    return f"seq {event.seq} {event.type}"


def compare(
    item_id: str,
    updates: int,
    recorded: dict[str, RecordedEvent],
    logged: Sequence[RecordedEvent],
    workflow_state: ItemState,
) -> Reconciliation:
    """The differences between what the workflow recorded and what the audit log holds."""
    differences: list[str] = []
    in_log = {event.id: event for event in logged}
    for event in sorted(recorded.values(), key=lambda e: e.seq):
        held = in_log.get(event.id)
        if held is None:
            differences.append(
                f"审计日志缺少事件 {_label(event)}（工作流已记录）/ the audit log lacks {_label(event)}"
                " that the workflow recorded"
            )
        elif canonical_bytes(held) != canonical_bytes(event):
            differences.append(
                f"事件 {_label(event)} 与工作流记录的内容不同 /"
                f" {_label(event)} differs from what the workflow recorded"
            )
    differences += [
        f"审计事件 {_label(event)} 在工作流历史中没有来源 / {_label(event)} has no update or append"
        " in the workflow history"
        for event in logged
        if event.id not in recorded
    ]
    folded = fold(logged, ItemState(id=item_id))
    differences += [
        f"工作流状态与审计回放不同 / workflow vs audit log: {line}"
        for line in state_changes(workflow_state, folded)
    ]
    return Reconciliation(
        item_id=item_id,
        updates=updates,
        history_events=len(recorded),
        log_events=len(logged),
        differences=differences,
    )


async def reconcile(client: Client, log: EventLog, item_id: str) -> Reconciliation:
    """Fetch the item's workflow history and state, read its audit log, and compare them."""
    handle = client.get_workflow_handle(workflow_id_for(item_id))
    history = await handle.fetch_history()
    converter = client.data_converter.payload_converter
    updates, recorded, result = history_events(history.events, converter)
    if result is None:
        result = await handle.query(STATE_QUERY, result_type=ItemState)
    return compare(item_id, updates, recorded, await log.read(item_id), result)

"""SupervisionItemWorkflow: one durable workflow per tracked item, through all five stages.

Human actions arrive as the `act` update. Its validator runs the pure `decide` and refuses
before anything reaches the history; the handler decides again under a lock (another update
may have moved the item meanwhile), appends the events through an activity, and only then
folds them into the state it reports.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from domain.commands import ACTIONS, Command
    from domain.decide import Context, Decision, MissingDue, decide
    from domain.events import EventBody, RecordedEvent, record
    from domain.fold import evolve
    from domain.refusals import Refusal, invalid
    from domain.state import ItemState
    from workflows.messages import (
        ACT_UPDATE,
        ALLOCATE_NUMBER_ACTIVITY,
        APPEND_EVENTS_ACTIVITY,
        STATE_QUERY,
        ActionRequest,
        ActionResult,
        AppendEvents,
        AppendOutcome,
        ItemStart,
        NumberRequest,
    )
    from workflows.refusal_errors import refusal_error

# Event ids are derived from (item, seq): a retried append carries the same id and is a no-op.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2d4e-8a53-4c1e-9d0b-2b7f3a9e5c10")
# An item whose `open` never arrives (its start raced a refused open) ends after this wait.
OPEN_GRACE = timedelta(hours=1)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["SeqConflict"],
)
STORE_TIMEOUT = timedelta(seconds=30)


def event_id(item_id: str, seq: int) -> str:
    """The deterministic id of the item's `seq`-th event."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{item_id}:{seq}"))


def _parse(request: ActionRequest) -> Command | Refusal:
    command_type = ACTIONS.get(request.action)
    if command_type is None:
        return invalid(f"未知操作 {request.action} / unknown action")
    try:
        return command_type.model_validate(request.body)
    except ValidationError as error:
        return invalid(f"操作内容有误 / malformed {request.action}: {error.errors()[0]['msg']}")


@workflow.defn(name="SupervisionItemWorkflow")
class SupervisionItemWorkflow:
    """The life of one item, from 立项 to 办结归档 or 撤销."""

    @workflow.init
    def __init__(self, start: ItemStart) -> None:
        self._item_id = start.item_id
        self._state = ItemState(id=start.item_id)
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, start: ItemStart) -> ItemState:
        """Wait until the item is closed or cancelled and every update has finished."""
        try:
            await workflow.wait_condition(lambda: self._state.opened, timeout=OPEN_GRACE)
        except TimeoutError:
            workflow.logger.warning("item never opened; ending", extra={"item_id": self._item_id})
            return self._state
        await workflow.wait_condition(
            lambda: not self._state.stage.is_open and workflow.all_handlers_finished()
        )
        return self._state

    @workflow.query(name=STATE_QUERY)
    def state(self) -> ItemState:
        """The item's current state (never mutates)."""
        return self._state

    @workflow.update(name=ACT_UPDATE)
    async def act(self, request: ActionRequest) -> ActionResult:
        """Perform one person's action: decide, append to the audit log, fold."""
        async with self._lock:
            number = self._state.number
            if request.action == "open" and not self._state.opened:
                number = await workflow.execute_activity(
                    ALLOCATE_NUMBER_ACTIVITY,
                    NumberRequest(item_id=self._item_id, year=workflow.now().year),
                    result_type=str,
                    start_to_close_timeout=STORE_TIMEOUT,
                    retry_policy=STORE_RETRY,
                )
            outcome = self._decide(request, number)
            if isinstance(outcome, Refusal):
                raise refusal_error(outcome)
            recorded = self._record(outcome, request)
            await workflow.execute_activity(
                APPEND_EVENTS_ACTIVITY,
                AppendEvents(events=recorded),
                result_type=AppendOutcome,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            for event in recorded:
                self._state = evolve(self._state, event)
            workflow.logger.info(
                "action recorded",
                extra={"item_id": self._item_id, "action": request.action, "seq": self._state.last_seq},
            )
            return ActionResult(state=self._state, events=recorded)

    @act.validator
    def validate_act(self, request: ActionRequest) -> None:
        """Refuse, before anything is written to the history, what the domain refuses."""
        outcome = self._decide(request, self._state.number or "pending")
        if isinstance(outcome, Refusal):
            raise refusal_error(outcome)

    def _decide(self, request: ActionRequest, number: str) -> Decision:
        command = _parse(request)
        if isinstance(command, Refusal):
            return command
        context = Context(actor=request.actor, now=workflow.now(), dues=request.dues, number=number)
        try:
            return decide(self._state, command, context)
        except MissingDue as missing:
            return invalid(f"缺少计算好的期限 {missing} / the caller did not compute the {missing} due")

    def _record(self, bodies: list[EventBody], request: ActionRequest) -> list[RecordedEvent]:
        events: list[RecordedEvent] = []
        stage = self._state.stage
        for offset, body in enumerate(bodies, start=1):
            seq = self._state.last_seq + offset
            events.append(
                record(
                    body,
                    event_id=event_id(self._item_id, seq),
                    item_id=self._item_id,
                    seq=seq,
                    stage=stage,
                    actor=request.actor,
                    occurred_at=workflow.now(),
                )
            )
        return events

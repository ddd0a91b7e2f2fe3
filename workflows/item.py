"""SupervisionItemWorkflow: one durable workflow per tracked item, through all five stages.

Human actions arrive as the `act` update. Its validator runs the pure `decide` and refuses
before anything reaches the history; the handler decides again under the journal's lock
(another update or a timer may have moved the item meanwhile), drafts the events together
with the ladder events they call for, appends them through an activity, and only then
folds them into the state it reports. Deadline timers and deliveries (workflows/ladder.py)
record through the same journal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from domain.commands import ACTIONS, Command
    from domain.decide import Context, Decision, MissingDue, decide
    from domain.dues import ComputedDues
    from domain.events import ItemUrged
    from domain.instants import CHINA
    from domain.people import SYSTEM_ACTOR
    from domain.refusals import Refusal, invalid
    from domain.state import ItemState
    from workflows.journal import STORE_RETRY, STORE_TIMEOUT, Journal, event_id, store_call
    from workflows.ladder import LadderKeeper
    from workflows.messages import (
        ACT_UPDATE,
        ALLOCATE_NUMBER_ACTIVITY,
        COUNT_DUES_ACTIVITY,
        DIGEST_OUTCOME_SIGNAL,
        STATE_QUERY,
        ActionRequest,
        ActionResult,
        DigestOutcome,
        DuesRequest,
        ItemStart,
        NumberRequest,
    )
    from workflows.refusal_errors import refusal_error

__all__ = ["SupervisionItemWorkflow", "event_id"]

# An item whose `open` never arrives (its start raced a refused open) ends after this wait.
OPEN_GRACE = timedelta(hours=1)
# Runs recorded before this patch never continue as new (their replays must not start to).
CONTINUE_AS_NEW = "continue-as-new"
# Since this patch an action's dues are counted from the instant the workflow decides at: a
# request's dues counted from another Beijing date are counted again (`_dues_at`).
DUES_AT_DECISION = "dues-at-decision"
# Counting dues is a pure computation (well under a millisecond): a failure is a bug, not a passing fault.
DUES_TIMEOUT = timedelta(seconds=5)
DUES_RETRY = RetryPolicy(maximum_attempts=3)


def _parse(request: ActionRequest) -> Command | Refusal:
    """The request's typed command; a body that did not parse (sent around the API) is refused."""
    if (command := request.command()) is not None:
        return command
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
        self._journal = Journal(start.item_id)
        if start.carried is not None:
            self._journal.state = start.carried
        self._ladder = LadderKeeper(self._journal)
        self._history_limit = start.history_limit
        self._may_continue = False

    @workflow.run
    async def run(self, start: ItemStart) -> ItemState:
        """Keep the ladders until the item is closed or cancelled, then let updates and deliveries finish.

        A long life is cut into runs: when the history grows past its limit (or the server
        suggests it), the item continues as new with its state once every handler has finished.
        """
        # Decided once per run, at its start: runs recorded before the patch never continue as new.
        self._may_continue = workflow.patched(CONTINUE_AS_NEW)
        if start.carried is None:
            try:
                await workflow.wait_condition(lambda: self._journal.state.opened, timeout=OPEN_GRACE)
            except TimeoutError:
                workflow.logger.warning("item never opened; ending", extra={"item_id": self._item_id})
                return self._journal.state
        await self._ladder.watch(stop=self._history_full)
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._ladder.idle)
        if self._journal.state.stage.is_open:
            workflow.logger.info(
                "continuing as new",
                extra={
                    "item_id": self._item_id,
                    "history_length": workflow.info().get_current_history_length(),
                },
            )
            workflow.continue_as_new(
                ItemStart(
                    item_id=self._item_id, carried=self._journal.state, history_limit=self._history_limit
                )
            )
        return self._journal.state

    def _history_full(self) -> bool:
        info = workflow.info()
        return self._may_continue and (
            info.is_continue_as_new_suggested() or info.get_current_history_length() >= self._history_limit
        )

    @workflow.query(name=STATE_QUERY)
    def state(self) -> ItemState:
        """The item's current state (never mutates)."""
        return self._journal.state

    @workflow.update(name=ACT_UPDATE)
    async def act(self, request: ActionRequest) -> ActionResult:
        """One person's action: decide, arm the ladders it calls for, append to the audit log, fold."""
        async with self._journal.lock:
            dues = request.dues
            while True:  # again only when the log already held other events: decide on them
                number = self._journal.state.number
                if request.action == "open" and not self._journal.state.opened:
                    # Numbered in the Beijing year (01:00 on 1 January is the new year's). Replay
                    # does not compare an activity's input, so runs numbered by the UTC year replay.
                    number = await store_call(
                        ALLOCATE_NUMBER_ACTIVITY,
                        NumberRequest(item_id=self._item_id, year=workflow.now().astimezone(CHINA).year),
                        result_type=str,
                        start_to_close=STORE_TIMEOUT,
                        retry_policy=STORE_RETRY,
                    )
                now = workflow.now()
                dues = await self._dues_at(dues, now)
                outcome = self._decide(request, number, now, dues)
                if isinstance(outcome, Refusal):
                    raise refusal_error(outcome)
                recorded, after = self._journal.draft(outcome, request.actor)
                armed, _ = self._journal.draft(await self._ladder.arming(after), SYSTEM_ACTOR, after=after)
                if await self._journal.commit([*recorded, *armed]):
                    break
            workflow.logger.info(
                "action recorded",
                extra={
                    "item_id": self._item_id,
                    "action": request.action,
                    "seq": self._journal.state.last_seq,
                },
            )
        for event in recorded:
            if event.type == ItemUrged.type_name():
                self._ladder.urged(event)
        return ActionResult(
            state=self._journal.state, events=[*recorded, *armed], fingerprint=request.fingerprint
        )

    @act.validator
    def validate_act(self, request: ActionRequest) -> None:
        """Refuse, before anything is written to the history, what the domain refuses."""
        outcome = self._decide(request, self._journal.state.number or "pending", workflow.now(), request.dues)
        if isinstance(outcome, Refusal):
            raise refusal_error(outcome)

    @workflow.signal(name=DIGEST_OUTCOME_SIGNAL)
    async def digest_outcome(self, outcome: DigestOutcome) -> None:
        """A daily digest carrying this item's notices went out (or failed): record it per notice."""
        await self._ladder.digest_reported(outcome)

    async def _dues_at(self, dues: ComputedDues, now: datetime) -> ComputedDues:
        """`dues` if they were counted from `now`'s Beijing date, else the calendar's dues for `now`.

        The API counts dues at its own clock; a request sent just before midnight, from a skewed
        host or queued behind other updates arrives on another day. The calendar is counted by a
        local activity, never here (its data changes with package upgrades; the result is
        recorded). Runs recorded before DUES_AT_DECISION keep the request's dues.
        """
        if dues.counted_on(now) or not workflow.patched(DUES_AT_DECISION):
            return dues
        counted: ComputedDues = await workflow.execute_local_activity(
            COUNT_DUES_ACTIVITY,
            DuesRequest(at=now),
            result_type=ComputedDues,
            start_to_close_timeout=DUES_TIMEOUT,
            retry_policy=DUES_RETRY,
        )
        return counted

    def _decide(self, request: ActionRequest, number: str, now: datetime, dues: ComputedDues) -> Decision:
        command = _parse(request)
        if isinstance(command, Refusal):
            return command
        context = Context(actor=request.actor, now=now, dues=dues, number=number)
        try:
            return decide(self._journal.state, command, context)
        except MissingDue as missing:
            return invalid(f"缺少计算好的期限 {missing} / the caller did not compute the {missing} due")

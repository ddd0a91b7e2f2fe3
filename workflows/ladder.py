"""The escalation ladder inside an item's workflow: arm, wait on recorded instants, fire, notify.

Arming happens in the same locked append as the action that made a step pending, so the
action and its ladder land together. Firing waits on the instants `LadderArmed` recorded
(never on a clock of its own), records the rung under the journal's lock, and leaves the
deliveries to run beside the item: each outcome is its own audit event, and a dead channel
ends as a `NotificationFailed`, never as a failed workflow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain import events as ev
    from domain.audience import URGE_AUDIENCE, audience_for, step_units
    from domain.instants import CHINA
    from domain.ladder import AppliedPolicy, Audience, Level
    from domain.people import SYSTEM_ACTOR
    from domain.state import ItemState, next_rung, unarmed_steps, waiting_for
    from workflows.journal import Journal, store_call
    from workflows.ladder_messages import (
        ARM_LADDERS_ACTIVITY,
        CHOOSE_POLICY_ACTIVITY,
        ArmedLadders,
        ArmLadders,
        PolicyRequest,
        StepDue,
    )
    from workflows.messages import (
        DELIVERY_RETRY,
        DELIVERY_TIMEOUT,
        NOTIFY_DELIVER_ACTIVITY,
        NOTIFY_PLAN_ACTIVITY,
        OUTCOME_LABELS,
        DeliveryOutcome,
        DeliveryPlan,
        DeliveryRequest,
        DigestOutcome,
        Notice,
        PlanDeliveries,
    )

LADDER_TIMEOUT = timedelta(seconds=30)
LADDER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# Planning reads the org chart; if it stays down the rung is still recorded, with no recipients.
PLAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=5
)


def _reason(error: ActivityError) -> str:
    return str(error.cause or error) or type(error).__name__


class LadderKeeper:
    """Arms, fires and notifies for one item; shares the item's journal."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._deliveries: set[asyncio.Task[None]] = set()

    @property
    def idle(self) -> bool:
        """True when no delivery is still running."""
        return not self._deliveries

    async def arming(self, state: ItemState) -> list[ev.EventBody]:
        """The ladder events `state` needs: its policy once opened, a ladder per newly due step."""
        if not state.opened or not state.stage.is_open:
            return []
        bodies: list[ev.EventBody] = []
        policy = state.policy
        if policy is None:
            assert state.category is not None  # noqa: S101 — ItemOpened sets it
            assert state.priority is not None  # noqa: S101 — ItemOpened sets it
            policy = await store_call(
                CHOOSE_POLICY_ACTIVITY,
                PolicyRequest(category=state.category, priority=state.priority),
                result_type=AppliedPolicy,
                start_to_close=LADDER_TIMEOUT,
                retry_policy=LADDER_RETRY,
            )
            bodies.append(ev.PolicyApplied(policy=policy))
        steps = [StepDue(step=s.step, due=s.due) for s in unarmed_steps(state) if s.due is not None]
        if steps:
            armed = await store_call(
                ARM_LADDERS_ACTIVITY,
                ArmLadders(policy=policy, steps=steps),
                result_type=ArmedLadders,
                start_to_close=LADDER_TIMEOUT,
                retry_policy=LADDER_RETRY,
            )
            bodies.extend(
                ev.LadderArmed(
                    step=ladder.step,
                    due=ladder.due,
                    rungs=ladder.rungs,
                    policy_id=policy.policy_id,
                    policy_version=policy.version,
                    calendar=armed.calendar,
                )
                for ladder in armed.ladders
            )
        return bodies

    async def watch(self, stop: Callable[[], bool]) -> None:
        """Until the item ends or `stop()`: wait for the next rung instant (or any new event), fire."""
        while self._journal.state.stage.is_open and not stop():
            upcoming = next_rung(self._journal.state)
            if upcoming is not None and upcoming[1].at <= workflow.now():
                await self._fire(upcoming[0])
                continue
            timeout = None if upcoming is None else upcoming[1].at - workflow.now()
            try:
                await workflow.wait_condition(
                    self._changed_since(self._journal.state.last_seq, stop), timeout=timeout
                )
            except TimeoutError:
                continue

    def _changed_since(self, seq: int, stop: Callable[[], bool]) -> Callable[[], bool]:
        return lambda: self._journal.state.last_seq != seq or stop()

    async def _fire(self, step: str) -> None:
        """Record the gravest rung now due on `step` (rungs it passed by are superseded), then notify."""
        async with self._journal.lock:
            while True:  # again only when the log already held other events: look at the rung anew
                drafted = await self._draft_rung(step)
                if drafted is None:
                    return
                events, plan = drafted
                if await self._journal.commit(events):
                    break
        workflow.logger.info("ladder rung reached", extra={"item_id": self._journal.item_id, "step": step})
        self._spawn(plan)

    async def _draft_rung(self, step: str) -> tuple[list[ev.RecordedEvent], list[DeliveryRequest]] | None:
        """The events of the rung due now on `step` and its deliveries; None if no rung is due."""
        state = self._journal.state
        ladder = state.ladders.get(step)
        due = [r for r in ladder.unreached() if r.at <= workflow.now()] if ladder is not None else []
        if ladder is None or not due:
            return None
        rung = due[-1]
        label = next((p.label for p in waiting_for(state) if p.step == step), step)
        local_due = ladder.due.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        notice = Notice(
            item_id=state.id,
            number=state.number,
            title=state.title,
            kind=rung.level.value,
            message=f"{rung.level.label}：督办事项 {state.number}「{state.title}」{label}，期限 {local_due}",
            rule=rung.rule,
            due=ladder.due,
            event_seq=state.last_seq + 1,
        )
        audience = audience_for(step, rung.audience)
        plan, failure = await self._plan(
            state, notice, audience, step_units(state, step), routine=rung.level is Level.REMINDER
        )
        kind = ev.ReminderSent if rung.level is Level.REMINDER else ev.EscalationRaised
        raised = kind(
            step=step,
            level=rung.level,
            at=rung.at,
            due=ladder.due,
            rule=rung.rule,
            audience=audience,
            recipients=sorted({d.recipient for d in plan}),
        )
        events, _ = self._journal.draft([raised, *failure], SYSTEM_ACTOR)
        return events, plan

    def urged(self, event: ev.RecordedEvent) -> None:
        """Notify the urged units at once (催办), beside the item."""
        urged = event.body()
        assert isinstance(urged, ev.ItemUrged)  # noqa: S101 — called only with ItemUrged
        state = self._journal.state
        notice = Notice(
            item_id=state.id,
            number=state.number,
            title=state.title,
            kind="urge",
            message=f"催办：督办事项 {state.number}「{state.title}」— {urged.message}",
            event_seq=event.seq,
        )
        self._start(self._urge(state, notice, urged.units))

    async def _urge(self, state: ItemState, notice: Notice, units: list[str]) -> None:
        plan, failure = await self._plan(state, notice, URGE_AUDIENCE, units, routine=False)
        if failure:
            await self._journal.record(failure, SYSTEM_ACTOR)
        self._spawn(plan)

    async def digest_reported(self, outcome: DigestOutcome) -> None:
        """Record a daily digest's result against each notice it carried (or a rhythm's request's)."""
        chinese, english = OUTCOME_LABELS.get(outcome.kind, OUTCOME_LABELS["digest"])
        detail = f"{chinese} {outcome.day} / {english} {outcome.detail}".strip()
        bodies = [
            _outcome_event(
                seq,
                outcome.kind,
                outcome.recipient,
                outcome.channel,
                delivered=outcome.delivered,
                detail=detail,
            )
            for seq in outcome.event_seqs
        ]
        await self._journal.record(bodies, SYSTEM_ACTOR)

    async def _plan(
        self, state: ItemState, notice: Notice, audience: list[Audience], units: list[str], *, routine: bool
    ) -> tuple[list[DeliveryRequest], list[ev.EventBody]]:
        """The deliveries for a notice; when planning fails for good, none and a `NotificationFailed`."""
        request = PlanDeliveries(
            notice=notice,
            audience=audience,
            units=units,
            leader=state.leader,
            supervisor=state.supervisor,
            routine=routine,
        )
        try:
            plan = await store_call(
                NOTIFY_PLAN_ACTIVITY,
                request,
                result_type=DeliveryPlan,
                start_to_close=DELIVERY_TIMEOUT,
                retry_policy=PLAN_RETRY,
            )
        except ActivityError as error:
            failed = ev.NotificationFailed(
                notice_seq=notice.event_seq,
                kind=notice.kind,
                recipient="",
                channel="plan",
                reason=_reason(error),
            )
            return [], [failed]
        return plan.deliveries, []

    def _spawn(self, plan: list[DeliveryRequest]) -> None:
        for delivery in plan:
            self._start(self._deliver(delivery))

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, delivery: DeliveryRequest) -> None:
        """One delivery with the channel's retries; its outcome becomes an audit event."""
        notice = delivery.notice
        try:
            outcome = await workflow.execute_activity(
                NOTIFY_DELIVER_ACTIVITY,
                delivery,
                result_type=DeliveryOutcome,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            outcome = DeliveryOutcome(
                recipient=delivery.recipient, channel=delivery.channel, delivered=False, detail=_reason(error)
            )
        body = _outcome_event(
            notice.event_seq,
            notice.kind,
            delivery.recipient,
            delivery.channel,
            delivered=outcome.delivered,
            detail=outcome.detail,
            queued=outcome.queued,
        )
        await self._journal.record([body], SYSTEM_ACTOR)


def _outcome_event(
    seq: int, kind: str, recipient: str, channel: str, *, delivered: bool, detail: str, queued: bool = False
) -> ev.EventBody:
    """The audit event of one delivery's outcome: queued for the digest, delivered, or failed with why."""
    if queued:
        return ev.NotificationQueued(
            notice_seq=seq, kind=kind, recipient=recipient, channel=channel, detail=detail
        )
    if delivered:
        return ev.NotificationDelivered(
            notice_seq=seq, kind=kind, recipient=recipient, channel=channel, detail=detail
        )
    return ev.NotificationFailed(
        notice_seq=seq,
        kind=kind,
        recipient=recipient,
        channel=channel,
        reason=detail or "未送达 / not delivered",
    )

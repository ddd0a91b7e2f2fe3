"""evolve(state, event) -> state: the one fold used by workflow, projections and replay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from domain import events as ev
from domain.events import EventBody, RecordedEvent
from domain.stages import Stage
from domain.state import (
    Assignment,
    AssignmentStatus,
    ExtensionRequest,
    ItemState,
    Milestone,
    Part,
    Plan,
    PlanStatus,
    ReportStatus,
    StepLadder,
    escalation_light,
    live_ladders,
)

Changes = dict[str, Any]
_Model = TypeVar("_Model", bound=BaseModel)

# The models a fold copies: frozen, no extra fields, no private attributes (what `_copy` relies on).
_COPIED = (ItemState, Assignment, Plan, Milestone, StepLadder, ExtensionRequest)
if any(cls.model_config.get("extra") == "allow" or cls.__private_attributes__ for cls in _COPIED):
    raise TypeError("domain.fold._copy copies only models without extra fields or private attributes")


def _copy(model: _Model, update: Changes) -> _Model:
    """`model.model_copy(update=update)`, without its general machinery (two `copy.copy` calls, the
    extra/private bookkeeping these models do not have): the fold copies the state once or twice
    per event, and this is a third of its time. Same `__dict__`, same fields set, no validation
    (as `model_copy`); tests/unit/test_fold.py holds the two equal over real lives.
    """
    cls = type(model)
    copied = cls.__new__(cls)
    object.__setattr__(copied, "__dict__", {**model.__dict__, **update})
    object.__setattr__(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__ | update.keys())
    object.__setattr__(copied, "__pydantic_extra__", None)
    object.__setattr__(copied, "__pydantic_private__", None)
    return copied


def _assignments(
    units: list[tuple[str, Part]], at: datetime, due: datetime, keep: dict[str, Assignment]
) -> dict[str, Assignment]:
    """Assignments for `units`: a unit already signed or still pending keeps its own clock;
    a new unit, or one that returned the item, is issued a fresh assignment."""
    result: dict[str, Assignment] = {}
    for unit, part in units:
        previous = keep.get(unit)
        if previous is not None and previous.status is not AssignmentStatus.RETURNED:
            result[unit] = _copy(previous, {"part": part})
        else:
            result[unit] = Assignment(unit=unit, part=part, issued_at=at, sign_for_due=due)
    return result


def _opened(s: ItemState, e: ev.ItemOpened, at: datetime) -> Changes:
    units = [(e.lead_unit, Part.LEAD), *((u, Part.CO) for u in e.co_units)]
    return {
        "opened": True,
        "number": e.number,
        "title": e.title,
        "requirements": e.requirements,
        "source": e.source,
        "category": e.category,
        "priority": e.priority,
        "tags": tuple(e.tags),
        "attachments": tuple(e.attachments),
        "supervisor": e.supervisor,
        "leader": e.leader,
        "lead_unit": e.lead_unit,
        "co_units": tuple(e.co_units),
        "assignments": _assignments(units, at, e.sign_for_due, {}),
        "deadline": e.deadline,
        "completion_due": e.deadline,
        "plan_due": e.plan_due,
        "stage": Stage.DEPLOY,
        "opened_at": at,
    }


def _signed(s: ItemState, e: ev.AssignmentSigned, at: datetime) -> Changes:
    signed = _copy(s.assignments[e.unit], {"status": AssignmentStatus.SIGNED, "signed_at": at})
    return {"assignments": {**s.assignments, e.unit: signed}}


def _returned(s: ItemState, e: ev.AssignmentReturned, at: datetime) -> Changes:
    returned = _copy(s.assignments[e.unit], {"status": AssignmentStatus.RETURNED, "return_reason": e.reason})
    return {
        "assignments": {**s.assignments, e.unit: returned},
        "returns": {**s.returns, e.unit: s.returns.get(e.unit, 0) + 1},
    }


def _reassigned(s: ItemState, e: ev.UnitsReassigned, at: datetime) -> Changes:
    units = [(e.lead_unit, Part.LEAD), *((u, Part.CO) for u in e.co_units)]
    changes: Changes = {
        "lead_unit": e.lead_unit,
        "co_units": tuple(e.co_units),
        "assignments": _assignments(units, at, e.sign_for_due, s.assignments),
    }
    if e.plan_due is not None:
        changes["plan_due"] = e.plan_due
    return changes


def _plan_submitted(s: ItemState, e: ev.PlanSubmitted, at: datetime) -> Changes:
    version = s.plan.version + 1 if s.plan else 1
    milestones = tuple(Milestone(name=m.name, due=m.due) for m in e.milestones)
    return {
        "plan": Plan(
            measures=e.measures,
            milestones=milestones,
            status=PlanStatus.SUBMITTED,
            submitted_at=at,
            version=version,
        )
    }


def _plan_approved(s: ItemState, e: ev.PlanApproved, at: datetime) -> Changes:
    assert s.plan is not None  # noqa: S101 — decide() refuses approval without a plan
    return {
        "plan": _copy(s.plan, {"status": PlanStatus.APPROVED}),
        "stage": Stage.IMPLEMENT,
        "completion_due": e.completion_due,
        "plan_due": None,
    }


def _plan_rejected(s: ItemState, e: ev.PlanRejected, at: datetime) -> Changes:
    assert s.plan is not None  # noqa: S101 — decide() refuses rejection without a plan
    return {"plan": _copy(s.plan, {"status": PlanStatus.REJECTED}), "plan_due": e.plan_due}


def _progress(s: ItemState, e: ev.ProgressReported, at: datetime) -> Changes:
    changes: Changes = {"percent": e.percent}
    if s.plan is not None and e.milestones_done:
        done = set(e.milestones_done)
        milestones = tuple(
            _copy(m, {"done_at": at}) if m.name in done and m.done_at is None else m
            for m in s.plan.milestones
        )
        changes["plan"] = _copy(s.plan, {"milestones": milestones})
    return changes


def _extension_requested(s: ItemState, e: ev.ExtensionRequested, at: datetime) -> Changes:
    return {
        "extension": ExtensionRequest(
            unit=e.unit, new_deadline=e.new_deadline, reason=e.reason, requested_at=at
        )
    }


def _extension_approved(s: ItemState, e: ev.ExtensionApproved, at: datetime) -> Changes:
    return {
        "extension": None,
        "deadline": e.new_deadline,
        "completion_due": e.new_deadline,
    }


def _extension_rejected(s: ItemState, e: ev.ExtensionRejected, at: datetime) -> Changes:
    return {"extension": None}


def _completion_claimed(s: ItemState, e: ev.CompletionClaimed, at: datetime) -> Changes:
    return {"stage": Stage.INSPECT, "percent": 100}


def _inspection_passed(s: ItemState, e: ev.InspectionPassed, at: datetime) -> Changes:
    return {"stage": Stage.REPORT, "report_status": ReportStatus.NONE}


def _rectification(s: ItemState, e: ev.RectificationOrdered, at: datetime) -> Changes:
    return {
        "stage": Stage.IMPLEMENT,
        "rectify_rounds": e.round,
        "deadline": e.new_deadline,
        "completion_due": e.new_deadline,
    }


def _report_submitted(s: ItemState, e: ev.ReportSubmitted, at: datetime) -> Changes:
    return {"report_status": ReportStatus.SUBMITTED, "sign_off_due": e.sign_off_due, "report_due": None}


def _report_approved(s: ItemState, e: ev.ReportApproved, at: datetime) -> Changes:
    return {"stage": Stage.EVALUATE, "sign_off_due": None, "evaluation_due": e.evaluation_due}


def _report_sent_back(s: ItemState, e: ev.ReportSentBack, at: datetime) -> Changes:
    return {"report_status": ReportStatus.SENT_BACK, "sign_off_due": None, "report_due": e.report_due}


def _closed(s: ItemState, e: ev.ItemClosed, at: datetime) -> Changes:
    return {"stage": Stage.CLOSED, "closed_at": at, "evaluation_due": None}


def _reopened(s: ItemState, e: ev.ItemReopened, at: datetime) -> Changes:
    return {
        "stage": Stage.IMPLEMENT,
        "reopen_rounds": e.round,
        "deadline": e.new_deadline,
        "completion_due": e.new_deadline,
        "evaluation_due": None,
        "report_status": ReportStatus.NONE,
    }


def _cancelled(s: ItemState, e: ev.ItemCancelled, at: datetime) -> Changes:
    return {"stage": Stage.CANCELLED, "cancel_reason": e.reason, "closed_at": at}


def _policy_applied(s: ItemState, e: ev.PolicyApplied, at: datetime) -> Changes:
    return {"policy": e.policy}


def _ladder_armed(s: ItemState, e: ev.LadderArmed, at: datetime) -> Changes:
    ladder = StepLadder(
        step=e.step,
        due=e.due,
        rungs=tuple(e.rungs),
        policy_id=e.policy_id,
        policy_version=e.policy_version,
        calendar=e.calendar,
    )
    return {"ladders": {**s.ladders, e.step: ladder}}


def _rung_reached(s: ItemState, e: ev.RungReached, at: datetime) -> Changes:
    ladder = _copy(s.ladders[e.step], {"reached": e.level})
    return {"ladders": {**s.ladders, e.step: ladder}}


def _no_change(s: ItemState, e: EventBody, at: datetime) -> Changes:
    return {}


_EVOLVERS: dict[type[EventBody], Callable[[ItemState, Any, datetime], Changes]] = {
    ev.ItemOpened: _opened,
    ev.AssignmentSigned: _signed,
    ev.AssignmentReturned: _returned,
    ev.UnitsReassigned: _reassigned,
    ev.PlanSubmitted: _plan_submitted,
    ev.PlanApproved: _plan_approved,
    ev.PlanRejected: _plan_rejected,
    ev.ProgressReported: _progress,
    ev.ExtensionRequested: _extension_requested,
    ev.ExtensionApproved: _extension_approved,
    ev.ExtensionRejected: _extension_rejected,
    ev.CompletionClaimed: _completion_claimed,
    ev.InspectionPassed: _inspection_passed,
    ev.RectificationOrdered: _rectification,
    ev.ReportSubmitted: _report_submitted,
    ev.ReportApproved: _report_approved,
    ev.ReportSentBack: _report_sent_back,
    ev.ItemClosed: _closed,
    ev.ItemReopened: _reopened,
    ev.ItemUrged: _no_change,
    ev.CommentAdded: _no_change,
    ev.ItemCancelled: _cancelled,
    ev.PolicyApplied: _policy_applied,
    ev.LadderArmed: _ladder_armed,
    ev.ReminderSent: _rung_reached,
    ev.EscalationRaised: _rung_reached,
    ev.NotificationDelivered: _no_change,
    ev.NotificationQueued: _no_change,
    ev.NotificationFailed: _no_change,
}


def evolve(state: ItemState, event: RecordedEvent) -> ItemState:
    """The state after one recorded event."""
    body = event.body()
    changes = _EVOLVERS[type(body)](state, body, event.occurred_at)
    base = {"id": event.item_id} if not state.id else {}
    # The light's fields ride along unchanged, then _with_escalation settles them: one copy
    # per event unless the light rule changes them, with the same fields set as two copies.
    light = {"ladders": state.ladders, "light": state.light, "flagged": state.flagged}
    moved = _copy(state, {**light, **base, **changes, "last_seq": event.seq, "updated_at": event.occurred_at})
    return _with_escalation(moved)


def _with_escalation(state: ItemState) -> ItemState:
    """The one rule of the light: a ladder stops when its step is done or its due moves, and the
    light is the gravest rung reached among the ladders still running."""
    ladders = live_ladders(state)
    light, flagged = escalation_light(ladders)
    # live_ladders keeps a subset of state.ladders: the same size means the same ladders.
    if len(ladders) == len(state.ladders) and light == state.light and flagged == state.flagged:
        return state
    return _copy(state, {"ladders": ladders, "light": light, "flagged": flagged})


def fold(events: Iterable[RecordedEvent], state: ItemState | None = None) -> ItemState:
    """The state after a sequence of events (from an empty item unless `state` is given)."""
    current = state or ItemState()
    for event in events:
        current = evolve(current, event)
    return current

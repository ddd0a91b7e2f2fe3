"""decide(state, command, context) -> events | Refusal: every action's permission and guard.

Checks run in one order so the same mistake always gets the same answer:
item exists and is open → role → unit → stage and pending steps (409) → content (422).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain import access
from domain import commands as cmd
from domain import events as ev
from domain.dues import ComputedDues
from domain.people import Actor, Role
from domain.refusals import DomainError, Refusal, RefusalKind, conflict, forbidden, invalid
from domain.stages import Stage
from domain.state import AssignmentStatus, ItemState, PlanStatus, ReportStatus, describe_waiting

Decision = list[ev.EventBody] | Refusal


class Context(BaseModel):
    """What a decision needs besides state and command: who, when, and computed dues."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    now: datetime
    dues: ComputedDues = ComputedDues()
    number: str = ""


def _role(ctx: Context, *roles: Role) -> Refusal | None:
    return access.role_refusal(ctx.actor, *roles)


def _own_unit(state: ItemState, ctx: Context) -> Refusal | None:
    return access.own_unit_refusal(ctx.actor, state)


def _lead_unit(state: ItemState, ctx: Context) -> Refusal | None:
    if (refusal := _own_unit(state, ctx)) is not None:
        return refusal
    if ctx.actor.unit == state.lead_unit:
        return None
    return forbidden("此操作仅限牵头单位 / only the lead unit may do this")


def _stage(state: ItemState, *stages: Stage) -> Refusal | None:
    if state.stage in stages:
        return None
    return conflict(describe_waiting(state))


def _lead_unit_at(state: ItemState, ctx: Context, stage: Stage) -> Refusal | None:
    """The lead unit's own steps: a unit user, of the lead unit, while the item is in `stage`."""
    return _first(lambda: _role(ctx, Role.UNIT), lambda: _lead_unit(state, ctx), lambda: _stage(state, stage))


def _first(*checks: Callable[[], Refusal | None]) -> Refusal | None:
    for check in checks:
        if (refusal := check()) is not None:
            return refusal
    return None


def _future(moment: datetime, ctx: Context, what: str) -> Refusal | None:
    if moment > ctx.now:
        return None
    return invalid(f"{what}须晚于当前时间 / {what} must be in the future")


def _need(due: datetime | None, what: str) -> datetime:
    if due is None:
        raise MissingDue(what)
    return due


class MissingDue(DomainError):
    """The caller did not compute a due instant this command needs (a programming error)."""


def _open(state: ItemState, c: cmd.OpenItem, ctx: Context) -> Decision:
    if state.opened:
        return conflict(f"事项已立项（{state.number}）/ the item is already open")
    if (
        refusal := _first(
            lambda: _role(ctx, Role.SUPERVISOR), lambda: _future(c.deadline, ctx, "办理期限 deadline")
        )
    ) is not None:
        return refusal
    for m in c.milestones:
        if (refusal := _future(m.due, ctx, f"时间节点「{m.name}」")) is not None:
            return refusal
        if m.due > c.deadline:
            return invalid(f"时间节点「{m.name}」晚于办理期限 / milestone after the deadline")
    return [
        ev.ItemOpened(
            number=ctx.number,
            title=c.title,
            requirements=c.requirements,
            source=c.source,
            category=c.category,
            priority=c.priority,
            lead_unit=c.lead_unit,
            co_units=list(c.co_units),
            supervisor=ctx.actor.id,
            leader=c.leader,
            deadline=c.deadline,
            milestones=list(c.milestones),
            tags=list(c.tags),
            attachments=list(c.attachments),
            sign_for_due=_need(ctx.dues.sign_for, "sign_for"),
            plan_due=_need(ctx.dues.plan, "plan"),
            calendar=ctx.dues.calendar,
        )
    ]


def _assignment_status(state: ItemState, ctx: Context) -> Refusal | None:
    assignment = state.assignments[str(ctx.actor.unit)]
    if assignment.status is AssignmentStatus.PENDING:
        return None
    done = "已签收" if assignment.status is AssignmentStatus.SIGNED else "已退回"
    return conflict(f"本单位{done}该事项 / your unit has already {assignment.status.value} it")


def _sign_for(state: ItemState, c: cmd.SignFor, ctx: Context) -> Decision:
    refusal = _first(
        lambda: _role(ctx, Role.UNIT),
        lambda: _own_unit(state, ctx),
        lambda: _stage(state, Stage.DEPLOY),
        lambda: _assignment_status(state, ctx),
    )
    return refusal or [ev.AssignmentSigned(unit=str(ctx.actor.unit))]


def _return(state: ItemState, c: cmd.ReturnAssignment, ctx: Context) -> Decision:
    refusal = _first(
        lambda: _role(ctx, Role.UNIT),
        lambda: _own_unit(state, ctx),
        lambda: _stage(state, Stage.DEPLOY),
        lambda: _assignment_status(state, ctx),
    )
    return refusal or [ev.AssignmentReturned(unit=str(ctx.actor.unit), reason=c.reason)]


def _reassign(state: ItemState, c: cmd.Reassign, ctx: Context) -> Decision:
    if (
        refusal := _first(lambda: _role(ctx, Role.SUPERVISOR), lambda: _stage(state, Stage.DEPLOY))
    ) is not None:
        return refusal
    if not any(a.status is AssignmentStatus.RETURNED for a in state.assignments.values()):
        return conflict(
            "没有被退回的承办单位，无需改派 / no unit has returned the item; " + describe_waiting(state)
        )
    returned = {u for u, a in state.assignments.items() if a.status is AssignmentStatus.RETURNED}
    again = returned & {c.lead_unit, *c.co_units}
    if again:
        return invalid(
            f"不能改派给已退回的单位：{'、'.join(sorted(again))} / cannot reassign to a unit that returned it"
        )
    return [
        ev.UnitsReassigned(
            lead_unit=c.lead_unit,
            co_units=list(c.co_units),
            reason=c.reason,
            sign_for_due=_need(ctx.dues.sign_for, "sign_for"),
            plan_due=_need(ctx.dues.plan, "plan") if c.lead_unit != state.lead_unit else None,
            calendar=ctx.dues.calendar,
        )
    ]


def _submit_plan(state: ItemState, c: cmd.SubmitPlan, ctx: Context) -> Decision:
    if (refusal := _lead_unit_at(state, ctx, Stage.DEPLOY)) is not None:
        return refusal
    if state.assignments[state.lead_unit].status is not AssignmentStatus.SIGNED:
        return conflict("牵头单位须先签收再报送工作方案 / sign for the item before submitting a plan")
    if state.plan is not None and state.plan.status is PlanStatus.SUBMITTED:
        return conflict("工作方案已报送，正在等待督查室审核 / the plan awaits approval")
    for m in c.milestones:
        if (refusal := _future(m.due, ctx, f"时间节点「{m.name}」")) is not None:
            return refusal
        if state.deadline is not None and m.due > state.deadline:
            return invalid(f"时间节点「{m.name}」晚于办理期限 / milestone after the deadline")
    return [ev.PlanSubmitted(unit=state.lead_unit, measures=c.measures, milestones=list(c.milestones))]


def _submitted_plan(state: ItemState) -> Refusal | None:
    if state.plan is not None and state.plan.status is PlanStatus.SUBMITTED:
        return None
    return conflict("没有待审核的工作方案 / no plan awaits approval; " + describe_waiting(state))


def _approve_plan(state: ItemState, c: cmd.ApprovePlan, ctx: Context) -> Decision:
    if (
        refusal := _first(
            lambda: _role(ctx, Role.SUPERVISOR),
            lambda: _stage(state, Stage.DEPLOY),
            lambda: _submitted_plan(state),
        )
    ) is not None:
        return refusal
    unsigned = [u for u in state.units() if state.assignments[u].status is not AssignmentStatus.SIGNED]
    if unsigned:
        return conflict(
            f"尚有单位未签收：{'、'.join(unsigned)} / units not yet signed for: " + ", ".join(unsigned)
        )
    return [ev.PlanApproved(comment=c.comment, completion_due=_need(state.deadline, "deadline"))]


def _reject_plan(state: ItemState, c: cmd.RejectPlan, ctx: Context) -> Decision:
    refusal = _first(
        lambda: _role(ctx, Role.SUPERVISOR),
        lambda: _stage(state, Stage.DEPLOY),
        lambda: _submitted_plan(state),
    )
    return refusal or [
        ev.PlanRejected(reason=c.reason, plan_due=_need(ctx.dues.plan, "plan"), calendar=ctx.dues.calendar)
    ]


def _signed_unit(state: ItemState, ctx: Context) -> Refusal | None:
    if state.assignments[str(ctx.actor.unit)].status is AssignmentStatus.SIGNED:
        return None
    # An assigned unit may report; what it lacks is a step it owes (sign for first), hence 409.
    return conflict("本单位尚未签收该事项 / your unit has not signed for this item")


def _report_progress(state: ItemState, c: cmd.ReportProgress, ctx: Context) -> Decision:
    # The stage before the unit's signature: in deploy, the answer names what the item waits for.
    if (
        refusal := _first(
            lambda: _role(ctx, Role.UNIT),
            lambda: _own_unit(state, ctx),
            lambda: _stage(state, Stage.IMPLEMENT),
            lambda: _signed_unit(state, ctx),
        )
    ) is not None:
        return refusal
    known = {m.name for m in state.plan.milestones} if state.plan else set()
    unknown = [n for n in c.milestones_done if n not in known]
    if unknown:
        return invalid(f"工作方案中没有时间节点：{'、'.join(unknown)} / unknown milestones")
    return [
        ev.ProgressReported(
            unit=str(ctx.actor.unit),
            summary=c.summary,
            percent=c.percent,
            milestones_done=list(c.milestones_done),
            problems=c.problems,
        )
    ]


def _request_extension(state: ItemState, c: cmd.RequestExtension, ctx: Context) -> Decision:
    if (refusal := _lead_unit_at(state, ctx, Stage.IMPLEMENT)) is not None:
        return refusal
    if state.extension is not None:
        return conflict("已有延期申请待审批 / an extension request is already pending")
    if state.deadline is not None and c.new_deadline <= state.deadline:
        return invalid("新期限须晚于现有办理期限 / the new deadline must be later than the current one")
    return [ev.ExtensionRequested(unit=str(ctx.actor.unit), new_deadline=c.new_deadline, reason=c.reason)]


def _decide_extension(state: ItemState, c: cmd.DecideExtension, ctx: Context) -> Decision:
    if (
        refusal := _first(lambda: _role(ctx, Role.SUPERVISOR), lambda: _stage(state, Stage.IMPLEMENT))
    ) is not None:
        return refusal
    if state.extension is None:
        return conflict("没有待审批的延期申请 / no extension request is pending; " + describe_waiting(state))
    if not c.approve:
        return [ev.ExtensionRejected(comment=c.comment)]
    return [ev.ExtensionApproved(new_deadline=state.extension.new_deadline, comment=c.comment)]


def _claim_completion(state: ItemState, c: cmd.ClaimCompletion, ctx: Context) -> Decision:
    if (refusal := _lead_unit_at(state, ctx, Stage.IMPLEMENT)) is not None:
        return refusal
    if state.extension is not None:
        return conflict("延期申请尚待督查室审批 / an extension request awaits the supervisor")
    open_milestones = [m.name for m in state.plan.milestones if m.done_at is None] if state.plan else []
    if open_milestones:
        return conflict(f"尚有时间节点未完成：{'、'.join(open_milestones)} / milestones not yet done")
    return [ev.CompletionClaimed(unit=str(ctx.actor.unit), summary=c.summary, evidence=list(c.evidence))]


def _inspect(state: ItemState, c: cmd.Inspect, ctx: Context) -> Decision:
    if (
        refusal := _first(lambda: _role(ctx, Role.SUPERVISOR), lambda: _stage(state, Stage.INSPECT))
    ) is not None:
        return refusal
    if c.result == "pass":
        return [ev.InspectionPassed(findings=c.findings)]
    new_deadline = _need(c.new_deadline, "new_deadline")
    if (refusal := _future(new_deadline, ctx, "整改期限 new_deadline")) is not None:
        return refusal
    return [
        ev.RectificationOrdered(
            findings=c.findings,
            requirements=c.requirements,
            new_deadline=new_deadline,
            round=state.rectify_rounds + 1,
        )
    ]


def _submit_report(state: ItemState, c: cmd.SubmitReport, ctx: Context) -> Decision:
    if (
        refusal := _first(lambda: _role(ctx, Role.SUPERVISOR), lambda: _stage(state, Stage.REPORT))
    ) is not None:
        return refusal
    if state.report_status is ReportStatus.SUBMITTED:
        return conflict("报告已报送，正在等待责任领导签批 / the report awaits the leader's sign-off")
    return [
        ev.ReportSubmitted(
            summary=c.summary, sign_off_due=_need(ctx.dues.sign_off, "sign_off"), calendar=ctx.dues.calendar
        )
    ]


def _sign_off(state: ItemState, c: cmd.SignOff, ctx: Context) -> Decision:
    if (refusal := _role(ctx, Role.LEADER)) is not None:
        return refusal
    if ctx.actor.id != state.leader:
        return forbidden("只有该事项的责任领导可以签批 / only the item's responsible leader signs off")
    if (refusal := _stage(state, Stage.REPORT)) is not None:
        return refusal
    if state.report_status is not ReportStatus.SUBMITTED:
        return conflict("没有待签批的报告 / no report awaits sign-off; " + describe_waiting(state))
    if c.approve:
        return [
            ev.ReportApproved(
                instructions=c.instructions,
                evaluation_due=_need(ctx.dues.evaluation, "evaluation"),
                calendar=ctx.dues.calendar,
            )
        ]
    if not c.instructions:
        return invalid("退回报告须写明批示意见 / sending back needs instructions")
    return [
        ev.ReportSentBack(
            instructions=c.instructions,
            report_due=_need(ctx.dues.report, "report"),
            calendar=ctx.dues.calendar,
        )
    ]


def _evaluate(state: ItemState, c: cmd.Evaluate, ctx: Context) -> Decision:
    if (
        refusal := _first(lambda: _role(ctx, Role.SUPERVISOR), lambda: _stage(state, Stage.EVALUATE))
    ) is not None:
        return refusal
    if c.effective:
        return [ev.ItemClosed(rating=c.rating, comment=c.comment)]
    new_deadline = c.new_deadline or _need(ctx.dues.rework, "rework")
    if (refusal := _future(new_deadline, ctx, "新期限 new_deadline")) is not None:
        return refusal
    return [
        ev.ItemReopened(
            rating=c.rating, comment=c.comment, new_deadline=new_deadline, round=state.reopen_rounds + 1
        )
    ]


def _urge(state: ItemState, c: cmd.Urge, ctx: Context) -> Decision:
    if (refusal := _role(ctx, Role.SUPERVISOR)) is not None:
        return refusal
    strangers = [u for u in c.units if u not in state.assignments]
    if strangers:
        return invalid(f"不是该事项的承办单位：{'、'.join(strangers)} / not assigned to this item")
    return [ev.ItemUrged(message=c.message, units=list(c.units) or list(state.units()))]


def _comment(state: ItemState, c: cmd.AddComment, ctx: Context) -> Decision:
    if (refusal := _role(ctx, Role.SUPERVISOR, Role.UNIT, Role.LEADER)) is not None:
        return refusal
    if ctx.actor.role is Role.UNIT and (refusal := _own_unit(state, ctx)) is not None:
        return refusal
    return [ev.CommentAdded(text=c.text)]


def _cancel(state: ItemState, c: cmd.Cancel, ctx: Context) -> Decision:
    refusal = _role(ctx, Role.SUPERVISOR)
    return refusal or [ev.ItemCancelled(reason=c.reason)]


_DECIDERS: dict[type[cmd.Command], Callable[[ItemState, Any, Context], Decision]] = {
    cmd.OpenItem: _open,
    cmd.SignFor: _sign_for,
    cmd.ReturnAssignment: _return,
    cmd.Reassign: _reassign,
    cmd.SubmitPlan: _submit_plan,
    cmd.ApprovePlan: _approve_plan,
    cmd.RejectPlan: _reject_plan,
    cmd.ReportProgress: _report_progress,
    cmd.RequestExtension: _request_extension,
    cmd.DecideExtension: _decide_extension,
    cmd.ClaimCompletion: _claim_completion,
    cmd.Inspect: _inspect,
    cmd.SubmitReport: _submit_report,
    cmd.SignOff: _sign_off,
    cmd.Evaluate: _evaluate,
    cmd.Urge: _urge,
    cmd.AddComment: _comment,
    cmd.Cancel: _cancel,
}


def decide(state: ItemState, command: cmd.Command, ctx: Context) -> Decision:
    """The events a command produces on this state, or why it is refused."""
    if not isinstance(command, cmd.OpenItem):
        refusal = access.open_item_refusal(state) or access.read_only_refusal(ctx.actor)
        if refusal is not None:
            return refusal
    # Subclasses (the API's request schemas) are decided as the command they extend.
    decider = next(_DECIDERS[t] for t in type(command).__mro__ if t in _DECIDERS)
    return decider(state, command, ctx)


_PROBE_TEXT = "probe"

# One stand-in command per action, built without validation: it only has to reach the guards.
# Its content may be wrong for the state (an `invalid` refusal), which says nothing about
# whether the action is open to the actor now: decide checks content only after every guard.
ACTION_PROBES: dict[str, cmd.Command] = {
    "sign_for": cmd.SignFor.model_construct(),
    "return": cmd.ReturnAssignment.model_construct(reason=_PROBE_TEXT),
    "reassign": cmd.Reassign.model_construct(lead_unit="", co_units=[], reason=_PROBE_TEXT),
    "submit_plan": cmd.SubmitPlan.model_construct(measures=_PROBE_TEXT, milestones=[]),
    "approve_plan": cmd.ApprovePlan.model_construct(),
    "reject_plan": cmd.RejectPlan.model_construct(reason=_PROBE_TEXT),
    "report_progress": cmd.ReportProgress.model_construct(summary=_PROBE_TEXT, percent=0),
    "request_extension": cmd.RequestExtension.model_construct(
        new_deadline=datetime.max.replace(tzinfo=UTC), reason=_PROBE_TEXT
    ),
    "decide_extension": cmd.DecideExtension.model_construct(approve=True),
    "claim_completion": cmd.ClaimCompletion.model_construct(summary=_PROBE_TEXT, evidence=[]),
    "inspect": cmd.Inspect.model_construct(result="pass", findings=_PROBE_TEXT),
    "submit_report": cmd.SubmitReport.model_construct(summary=_PROBE_TEXT),
    "sign_off": cmd.SignOff.model_construct(approve=True),
    "evaluate": cmd.Evaluate.model_construct(effective=True, rating="good"),
    "urge": cmd.Urge.model_construct(message=_PROBE_TEXT, units=[]),
    "comment": cmd.AddComment.model_construct(text=_PROBE_TEXT),
    "cancel": cmd.Cancel.model_construct(reason=_PROBE_TEXT),
}


def refusal_of(state: ItemState, action: str, ctx: Context) -> Refusal | None:
    """Why `action` is not open to `ctx.actor` on this state now (None: it is), asked of `decide`.

    The guards (open item, role, unit, stage, pending steps) are decide's own; only a refusal of
    the probe's content (`invalid`) or a due instant the probe lacks is read as "open".
    """
    try:
        decision = decide(state, ACTION_PROBES[action], ctx)
    except MissingDue:
        return None  # raised only while building events, after every guard has passed
    if isinstance(decision, Refusal) and decision.kind is not RefusalKind.INVALID:
        return decision
    return None


def allowed_actions(state: ItemState, ctx: Context) -> list[str]:
    """The actions (API names, in the loop's order) `ctx.actor` may take on the item now."""
    return [action for action in ACTION_PROBES if refusal_of(state, action, ctx) is None]


# Open to their role at almost any time; they answer no pending step, so they fill no queue.
ANYTIME_ACTIONS = frozenset({"comment", "urge", "cancel", "request_extension"})


def waiting_actions(state: ItemState, ctx: Context) -> list[str]:
    """The allowed actions that answer a step the item waits for: what puts it in the actor's queue."""
    return [action for action in allowed_actions(state, ctx) if action not in ANYTIME_ACTIONS]

"""An item's state, as folded from its events, and what it is waiting for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from domain.commands import Attachment
from domain.ladder import AppliedPolicy, ArmedRung, Level
from domain.stages import Light, Stage
from domain.vocabulary import Category, Priority, Source


class Part(StrEnum):
    """A unit's part in an item: 牵头 lead or 协办 co-unit."""

    LEAD = "lead"
    CO = "co"


class AssignmentStatus(StrEnum):
    """待签收 pending, 已签收 signed, 已退回 returned."""

    PENDING = "pending"
    SIGNED = "signed"
    RETURNED = "returned"


class Assignment(BaseModel):
    """One unit's assignment on the item; its sign-for clock starts at `issued_at`."""

    model_config = ConfigDict(frozen=True)

    unit: str
    part: Part
    status: AssignmentStatus = AssignmentStatus.PENDING
    issued_at: datetime
    sign_for_due: datetime
    signed_at: datetime | None = None
    return_reason: str | None = None


class Milestone(BaseModel):
    """A 时间节点 of the approved plan."""

    model_config = ConfigDict(frozen=True)

    name: str
    due: datetime
    done_at: datetime | None = None


class PlanStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class Plan(BaseModel):
    """The lead unit's work plan (工作方案)."""

    model_config = ConfigDict(frozen=True)

    measures: str
    milestones: tuple[Milestone, ...]
    status: PlanStatus
    submitted_at: datetime
    version: int


class ExtensionRequest(BaseModel):
    """A pending request for a later deadline."""

    model_config = ConfigDict(frozen=True)

    unit: str
    new_deadline: datetime
    reason: str
    requested_at: datetime


class ReportStatus(StrEnum):
    NONE = "none"
    SUBMITTED = "submitted"
    SENT_BACK = "sent_back"


class WaitsOn(StrEnum):
    """Who must take a pending step: the office, the item's lead or co-unit, or its leader."""

    SUPERVISOR = "supervisor"
    LEAD_UNIT = "lead_unit"
    CO_UNIT = "co_unit"
    LEADER = "leader"


# Each pending step's words by the step's kind (its name before any ":"): the Chinese, then the
# English with the separator the API has always printed; {unit} and {milestone} are filled in when
# the step is named, so ids stay data until a page names them.
STEP_WORDS: dict[str, tuple[str, str]] = {
    "sign_for": ("签收", " / sign for"),
    "reassign": ("改派（{unit} 已退回）", "/ reassign"),
    "approve_plan": ("审核工作方案", " / plan approval"),
    "submit_plan": ("报送工作方案", " / work plan"),
    "milestone": ("时间节点「{milestone}」", "/ milestone"),
    "decide_extension": ("审批延期申请", " / extension decision"),
    "claim_completion": ("申报办结", " / completion claim"),
    "inspect": ("督查室检查验收", " / inspection"),
    "submit_report": ("督查室报送报告", " / report"),
    "sign_off": ("责任领导审阅签批", " / leader sign-off"),
    "evaluate": ("跟踪问效评估", " / evaluation"),
}
WAITS_ON_WORDS: dict[WaitsOn, tuple[str, str]] = {
    WaitsOn.SUPERVISOR: ("督查室", " / supervisor"),
    WaitsOn.LEAD_UNIT: ("牵头单位 {unit}", ""),
    WaitsOn.CO_UNIT: ("协办单位 {unit}", ""),
    WaitsOn.LEADER: ("责任领导 {leader}", ""),
}

Namer = Callable[[str], str]


def _as_is(identifier: str) -> str:
    return identifier


def _both(words: tuple[str, str]) -> str:
    return words[0] + words[1]


class PendingStep(BaseModel):
    """A step the item waits for: who must act, by when; the unit and leader it names, as ids."""

    model_config = ConfigDict(frozen=True)

    step: str
    due: datetime | None
    # Data for naming the step (pages name them at render time); the state's JSON, the read
    # model's and the API's, keeps the step as it always was: step, label, actor, due.
    waits_on: WaitsOn = Field(exclude=True)
    unit: str = Field(default="", exclude=True)  # the unit to sign for, the one that returned it …
    leader: str = Field(default="", exclude=True)  # the leader who must act (a user id)

    def named(self, unit_name: Namer = _as_is, user_name: Namer = _as_is) -> tuple[str, str]:
        """(what, who) in Chinese, with the unit and leader as `unit_name` / `user_name` name them."""
        what, who = self._words(unit_name, user_name)
        return what[0], who[0]

    def _words(self, unit_name: Namer, user_name: Namer) -> tuple[tuple[str, str], tuple[str, str]]:
        kind, _, milestone = self.step.partition(":")
        fill = {"unit": unit_name(self.unit), "leader": user_name(self.leader), "milestone": milestone}
        what, what_en = STEP_WORDS[kind]
        who, who_en = WAITS_ON_WORDS[self.waits_on]
        return (what.format(**fill), what_en), (who.format(**fill), who_en)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        """What the step is, Chinese / English, ids as they are ("改派（fgw 已退回）/ reassign")."""
        return _both(self._words(_as_is, _as_is)[0])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def actor(self) -> str:
        """Who must take it, ids as they are ("牵头单位 fgw", "督查室 / supervisor")."""
        return _both(self._words(_as_is, _as_is)[1])


class StepLadder(BaseModel):
    """The armed ladder of one waiting step, and the gravest rung it has reached so far."""

    model_config = ConfigDict(frozen=True)

    step: str
    due: datetime
    rungs: tuple[ArmedRung, ...]
    policy_id: str
    policy_version: int
    calendar: str
    reached: Level | None = None

    def unreached(self) -> tuple[ArmedRung, ...]:
        """The rungs above the one reached, in level order."""
        floor = -1 if self.reached is None else self.reached.rank
        return tuple(r for r in self.rungs if r.level.rank > floor)


class ItemState(BaseModel):
    """Everything the loop knows about one item; built only by folding events."""

    model_config = ConfigDict(frozen=True)

    id: str = ""
    number: str = ""
    opened: bool = False
    title: str = ""
    requirements: str = ""
    source: Source | None = None
    category: Category | None = None
    priority: Priority | None = None
    tags: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    supervisor: str = ""
    leader: str = ""
    lead_unit: str = ""
    co_units: tuple[str, ...] = ()
    assignments: dict[str, Assignment] = {}
    returns: dict[str, int] = {}
    stage: Stage = Stage.DEPLOY
    light: Light = Light.GREEN
    flagged: bool = False  # 挂牌督办: some pending step reached the ladder's top
    policy: AppliedPolicy | None = None
    ladders: dict[str, StepLadder] = {}
    deadline: datetime | None = None
    plan: Plan | None = None
    plan_due: datetime | None = None
    percent: int = 0
    extension: ExtensionRequest | None = None
    completion_due: datetime | None = None
    report_status: ReportStatus = ReportStatus.NONE
    report_due: datetime | None = None
    sign_off_due: datetime | None = None
    evaluation_due: datetime | None = None
    rectify_rounds: int = 0
    reopen_rounds: int = 0
    cancel_reason: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    last_seq: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pending(self) -> tuple[PendingStep, ...]:
        """The steps the item is waiting for now, each with its due instant."""
        return waiting_for(self)

    def units(self) -> tuple[str, ...]:
        """Every currently assigned unit, lead first."""
        return (self.lead_unit, *self.co_units)


def _unit_part(state: ItemState, unit: str) -> WaitsOn:
    return WaitsOn.LEAD_UNIT if unit == state.lead_unit else WaitsOn.CO_UNIT


def sign_for_step(unit: str) -> str:
    """The step key of `unit`'s sign-for (签收): the one step that names a unit after its colon."""
    return f"sign_for:{unit}"


def signing_unit(step: str) -> str | None:
    """The unit a sign-for step key names ("sign_for:fgw" → "fgw"); None for every other step
    (after their colon, if any, comes a milestone's own name)."""
    kind, _, unit = step.partition(":")
    return unit if kind == "sign_for" else None


def waiting_for(state: ItemState) -> tuple[PendingStep, ...]:
    """What the item waits for, derived from its state (empty once closed or cancelled)."""
    if not state.opened or not state.stage.is_open:
        return ()
    steps: list[PendingStep] = []
    if state.stage is Stage.DEPLOY:
        steps.extend(_deploy_steps(state))
    elif state.stage is Stage.IMPLEMENT:
        steps.extend(_implement_steps(state))
    elif state.stage is Stage.INSPECT:
        steps.append(PendingStep(step="inspect", waits_on=WaitsOn.SUPERVISOR, due=None))
    elif state.stage is Stage.REPORT:
        if state.report_status is ReportStatus.SUBMITTED:
            steps.append(
                PendingStep(
                    step="sign_off", waits_on=WaitsOn.LEADER, leader=state.leader, due=state.sign_off_due
                )
            )
        else:
            steps.append(PendingStep(step="submit_report", waits_on=WaitsOn.SUPERVISOR, due=state.report_due))
    elif state.stage is Stage.EVALUATE:
        steps.append(PendingStep(step="evaluate", waits_on=WaitsOn.SUPERVISOR, due=state.evaluation_due))
    return tuple(steps)


def _deploy_steps(state: ItemState) -> list[PendingStep]:
    steps: list[PendingStep] = []
    for unit in state.units():
        assignment = state.assignments[unit]
        if assignment.status is AssignmentStatus.PENDING:
            steps.append(
                PendingStep(
                    step=sign_for_step(unit),
                    waits_on=_unit_part(state, unit),
                    unit=unit,
                    due=assignment.sign_for_due,
                )
            )
        elif assignment.status is AssignmentStatus.RETURNED:
            steps.append(PendingStep(step="reassign", waits_on=WaitsOn.SUPERVISOR, unit=unit, due=None))
    if state.plan is not None and state.plan.status is PlanStatus.SUBMITTED:
        steps.append(PendingStep(step="approve_plan", waits_on=WaitsOn.SUPERVISOR, due=None))
    else:
        steps.append(
            PendingStep(
                step="submit_plan", waits_on=WaitsOn.LEAD_UNIT, unit=state.lead_unit, due=state.plan_due
            )
        )
    return steps


def _implement_steps(state: ItemState) -> list[PendingStep]:
    steps: list[PendingStep] = []
    if state.plan is not None:
        steps.extend(
            PendingStep(
                step=f"milestone:{m.name}", waits_on=WaitsOn.LEAD_UNIT, unit=state.lead_unit, due=m.due
            )
            for m in state.plan.milestones
            if m.done_at is None
        )
    if state.extension is not None:
        steps.append(PendingStep(step="decide_extension", waits_on=WaitsOn.SUPERVISOR, due=None))
    steps.append(
        PendingStep(
            step="claim_completion",
            waits_on=WaitsOn.LEAD_UNIT,
            unit=state.lead_unit,
            due=state.completion_due,
        )
    )
    return steps


def live_ladders(state: ItemState) -> dict[str, StepLadder]:
    """The ladders still running: their step is pending with the due instant they were armed for."""
    if not state.ladders:
        return {}
    dues = {step.step: step.due for step in waiting_for(state) if step.due is not None}
    return {step: ladder for step, ladder in state.ladders.items() if dues.get(step) == ladder.due}


def unarmed_steps(state: ItemState) -> list[PendingStep]:
    """Pending steps with a due instant whose ladder is not armed (or was armed for another due)."""
    return [
        step
        for step in waiting_for(state)
        if step.due is not None
        and (step.step not in state.ladders or state.ladders[step.step].due != step.due)
    ]


def next_rung(state: ItemState) -> tuple[str, ArmedRung] | None:
    """The earliest rung not yet reached on any live ladder, with its step (None: nothing to wait for)."""
    upcoming = [
        (rung.at, step, rung) for step, ladder in state.ladders.items() for rung in ladder.unreached()
    ]
    if not upcoming:
        return None
    _, step, rung = min(upcoming, key=lambda entry: (entry[0], entry[1]))
    return step, rung


def escalation_light(ladders: dict[str, StepLadder]) -> tuple[Light, bool]:
    """The item's light and 挂牌督办 flag: the gravest rung reached among live ladders."""
    reached = [ladder.reached for ladder in ladders.values() if ladder.reached is not None]
    if not reached:
        return Light.GREEN, False
    worst = max(reached, key=lambda level: level.rank)
    return worst.light, worst is Level.TOP


def describe_waiting(state: ItemState) -> str:
    """One sentence for a 409: the stage and what the item is waiting for."""
    steps = waiting_for(state)
    if not steps:
        return f"该事项{state.stage.label}，不再等待任何办理 / the item is {state.stage.value}"
    waits = "；".join(f"{s.actor}：{s.label}" for s in steps)
    return f"该事项处于「{state.stage.label}」阶段，正在等待 {waits}"

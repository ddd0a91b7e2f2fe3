"""Request and response bodies of the HTTP API (XCreate / XPublic)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import OpenItem
from domain.ladder import AppliedPolicy, Audience, Level
from domain.people import Actor, Role
from domain.stages import Light, Stage
from domain.state import (
    Assignment,
    AssignmentStatus,
    ExtensionRequest,
    ItemState,
    Part,
    Plan,
    PlanStatus,
    ReportStatus,
    StepLadder,
)
from domain.vocabulary import Category, Priority, Source
from store.items import DEFAULT_SORT, ItemFilter, ItemSort

# Nobody pages a million rows deep by hand; unbounded, SQLite overflowed on OFFSET >= 2^63 (a 500).
MAX_OFFSET = 1_000_000
PageOffset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
"""How many rows a page skips."""
ROW_ID_MAX = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]
"""A database row id (a signed 64-bit key on both back-ends)."""


class ItemCreate(OpenItem):
    """立项: the body of `POST /api/items`."""


@dataclass(frozen=True, slots=True)
class AttachmentPublic:
    """A document held elsewhere, pinned by its content hash."""

    name: str
    sha256: str
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class AssignmentPublic:
    """One unit's assignment: its part (lead / co), whether it signed for it or gave it back."""

    unit: str
    part: Part
    status: AssignmentStatus
    issued_at: datetime
    sign_for_due: datetime
    signed_at: datetime | None = None
    return_reason: str | None = None


@dataclass(frozen=True, slots=True)
class MilestonePublic:
    """A 时间节点 of the plan, done or not."""

    name: str
    due: datetime
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanPublic:
    """The lead unit's work plan (工作方案) and where its review stands."""

    measures: str
    milestones: list[MilestonePublic]
    status: PlanStatus
    submitted_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class ExtensionPublic:
    """A pending request for a later deadline."""

    unit: str
    new_deadline: datetime
    reason: str
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class PendingStepPublic:
    """A step the item waits for: who must act, by when."""

    step: str
    label: str
    actor: str
    due: datetime | None


@dataclass(frozen=True, slots=True)
class RungRulePublic:
    """A rung of the escalation policy: `offset_days` working days from a due instant."""

    level: Level
    offset_days: int
    audience: list[Audience]


@dataclass(frozen=True, slots=True)
class AppliedPolicyPublic:
    """The escalation policy version the item runs under (recorded at opening)."""

    policy_id: str
    version: int
    category: Category
    priority: Priority
    rungs: list[RungRulePublic]


@dataclass(frozen=True, slots=True)
class RungPublic:
    """A rung armed for a waiting step, with the instant it fires."""

    level: Level
    at: datetime
    rule: str
    audience: list[Audience]


@dataclass(frozen=True, slots=True)
class LadderPublic:
    """The escalation ladder armed for one waiting step, and the gravest rung reached so far."""

    step: str
    due: datetime
    rungs: list[RungPublic]
    policy_id: str
    policy_version: int
    calendar: str
    reached: Level | None = None


class ItemPublic(BaseModel):
    """An item as the API shows it: what a client may rely on, mapped from the domain's state.

    The domain's `ItemState` may change shape (it is the workflow's state); this schema changes
    only as an API change. `stage_label` is the stage in Chinese; `overdue` says whether some
    pending step is past its due instant at the time of the answer.
    """

    id: str
    number: str
    opened: bool
    title: str
    requirements: str
    source: Source | None
    category: Category | None
    priority: Priority | None
    tags: list[str]
    attachments: list[AttachmentPublic]
    supervisor: str
    leader: str
    lead_unit: str
    co_units: list[str]
    assignments: dict[str, AssignmentPublic]
    returns: dict[str, int] = Field(description="退回次数 / how many times each unit gave the item back")
    stage: Stage
    stage_label: str
    light: Light
    flagged: bool = Field(description="挂牌督办 / some pending step reached the ladder's top")
    overdue: bool
    policy: AppliedPolicyPublic | None
    ladders: dict[str, LadderPublic]
    deadline: datetime | None
    plan: PlanPublic | None
    plan_due: datetime | None
    percent: int
    extension: ExtensionPublic | None
    completion_due: datetime | None
    report_status: ReportStatus
    report_due: datetime | None
    sign_off_due: datetime | None
    evaluation_due: datetime | None
    rectify_rounds: int
    reopen_rounds: int
    cancel_reason: str | None
    opened_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime | None
    last_seq: int
    pending: list[PendingStepPublic]


def _plan(plan: Plan | None) -> PlanPublic | None:
    if plan is None:
        return None
    return PlanPublic(
        measures=plan.measures,
        milestones=[MilestonePublic(name=m.name, due=m.due, done_at=m.done_at) for m in plan.milestones],
        status=plan.status,
        submitted_at=plan.submitted_at,
        version=plan.version,
    )


def _ladder(ladder: StepLadder) -> LadderPublic:
    return LadderPublic(
        step=ladder.step,
        due=ladder.due,
        rungs=[
            RungPublic(level=r.level, at=r.at, rule=r.rule, audience=list(r.audience)) for r in ladder.rungs
        ],
        policy_id=ladder.policy_id,
        policy_version=ladder.policy_version,
        calendar=ladder.calendar,
        reached=ladder.reached,
    )


def _policy(policy: AppliedPolicy | None) -> AppliedPolicyPublic | None:
    if policy is None:
        return None
    return AppliedPolicyPublic(
        policy_id=policy.policy_id,
        version=policy.version,
        category=policy.category,
        priority=policy.priority,
        rungs=[
            RungRulePublic(level=r.level, offset_days=r.offset_days, audience=list(r.audience))
            for r in policy.rungs
        ],
    )


def _assignment(a: Assignment) -> AssignmentPublic:
    return AssignmentPublic(
        unit=a.unit,
        part=a.part,
        status=a.status,
        issued_at=a.issued_at,
        sign_for_due=a.sign_for_due,
        signed_at=a.signed_at,
        return_reason=a.return_reason,
    )


def _extension(e: ExtensionRequest | None) -> ExtensionPublic | None:
    if e is None:
        return None
    return ExtensionPublic(
        unit=e.unit, new_deadline=e.new_deadline, reason=e.reason, requested_at=e.requested_at
    )


def item_public(state: ItemState, now: datetime) -> ItemPublic:
    """The public view of `state` at `now` (overdue: some pending step is past its due instant).

    Built without validation (the state was validated when folded), its parts plain frozen
    dataclasses: a page builds 50 of them.
    """
    pending = state.pending
    return ItemPublic.model_construct(
        id=state.id,
        number=state.number,
        opened=state.opened,
        title=state.title,
        requirements=state.requirements,
        source=state.source,
        category=state.category,
        priority=state.priority,
        tags=list(state.tags),
        attachments=[AttachmentPublic(name=a.name, sha256=a.sha256, uri=a.uri) for a in state.attachments],
        supervisor=state.supervisor,
        leader=state.leader,
        lead_unit=state.lead_unit,
        co_units=list(state.co_units),
        assignments={unit: _assignment(a) for unit, a in state.assignments.items()},
        returns=dict(state.returns),
        stage=state.stage,
        stage_label=state.stage.label,
        light=state.light,
        flagged=state.flagged,
        overdue=any(step.due is not None and step.due < now for step in pending),
        policy=_policy(state.policy),
        ladders={step: _ladder(ladder) for step, ladder in state.ladders.items()},
        deadline=state.deadline,
        plan=_plan(state.plan),
        plan_due=state.plan_due,
        percent=state.percent,
        extension=_extension(state.extension),
        completion_due=state.completion_due,
        report_status=state.report_status,
        report_due=state.report_due,
        sign_off_due=state.sign_off_due,
        evaluation_due=state.evaluation_due,
        rectify_rounds=state.rectify_rounds,
        reopen_rounds=state.reopen_rounds,
        cancel_reason=state.cancel_reason,
        opened_at=state.opened_at,
        closed_at=state.closed_at,
        updated_at=state.updated_at,
        last_seq=state.last_seq,
        pending=[PendingStepPublic(step=p.step, label=p.label, actor=p.actor, due=p.due) for p in pending],
    )


class ItemFilterQuery(BaseModel):
    """Filters of `GET /api/items` and its export; every filter left out matches everything."""

    stage: Stage | None = None
    unit: str | None = Field(default=None, max_length=64)
    light: Light | None = None
    category: Category | None = None
    priority: Priority | None = None
    overdue: bool | None = None
    q: str | None = Field(default=None, max_length=200, description="words in title, number or requirements")
    sort: ItemSort = Field(
        default=DEFAULT_SORT,
        description='排序 / order: number, deadline, stage, light or updated; a leading "-" for descending',
    )

    def item_filter(self, *, limit: int = 50, offset: int = 0) -> ItemFilter:
        """The store's filter for these query parameters."""
        return ItemFilter(
            stage=self.stage,
            unit=self.unit,
            light=self.light,
            category=self.category,
            priority=self.priority,
            overdue=self.overdue,
            text=self.q,
            sort=self.sort,
            limit=limit,
            offset=offset,
        )


class ItemListQuery(ItemFilterQuery):
    """Filters and page of `GET /api/items`."""

    limit: int = Field(default=50, ge=1, le=200)
    offset: PageOffset = 0


class ItemList(BaseModel):
    """One page of items and how many match: exactly, or "at least `total`" when not `total_exact`."""

    items: list[ItemPublic]
    total: int = Field(description="匹配总数 / how many match, counted up to 1,000 or the end of this page")
    total_exact: bool = Field(
        description="总数是否精确 / false when more than `total` match (show it as “1000+”)"
    )
    limit: int
    offset: int


class EventPublic(BaseModel):
    """One audit event with its place in the hash chain."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    item_id: str
    seq: int
    type: str
    stage: Stage
    actor: Actor
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class ChainReportPublic(BaseModel):
    """A verification: ok, or the first bad spot (item and seq, or ledger positions) and its kind."""

    model_config = ConfigDict(from_attributes=True)

    ok: bool
    items_checked: int
    events_checked: int
    item_id: str | None = None
    seq: int | None = None
    kind: str | None = None
    problem: str | None = None
    position: int | None = None
    position_end: int | None = None


class UserPublic(BaseModel):
    """A user of the org chart."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: Role
    unit: str | None
    title: str

"""An item's story told through the pure domain: decide → record → evolve, with a test clock.

`story_at(stage)` drives a fresh item along the straight path to a stage, so a test starts
where its behaviour begins and says only what it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import commands as cmd
from domain.decide import Context, Decision, decide
from domain.dues import compute_dues, weekends_only
from domain.events import EventBody, RecordedEvent, record
from domain.fold import evolve
from domain.people import Actor, Role
from domain.refusals import Refusal, RefusalKind
from domain.stages import Stage
from domain.state import ItemState

ITEM_ID = "item-0001"
NUMBER = "DB-2026-000001"
START = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Beijing
DEADLINE = "2026-12-31"
MILESTONE = "首批开工"

SUPERVISOR = Actor(id="sup-zhang", role=Role.SUPERVISOR, unit="dcs", name="张督查")
LEAD = Actor(id="fgw-li", role=Role.UNIT, unit="fgw", name="李发改")
CO = Actor(id="czj-wu", role=Role.UNIT, unit="czj", name="吴财政")
OUTSIDER = Actor(id="jyj-sun", role=Role.UNIT, unit="jyj", name="孙教育")
LEADER = Actor(id="leader-wang", role=Role.LEADER, name="王副市长")
OTHER_LEADER = Actor(id="leader-liu", role=Role.LEADER, name="刘副市长")
AUDITOR = Actor(id="audit-zhao", role=Role.AUDITOR, name="赵审计")
ADMIN = Actor(id="admin-qian", role=Role.ADMIN, name="钱管理")


def unit_user(unit: str) -> Actor:
    """A user of `unit` (for units that join through a reassignment)."""
    return Actor(id=f"{unit}-user", role=Role.UNIT, unit=unit)


def open_item(**overrides: Any) -> cmd.OpenItem:
    """A valid 立项: lead unit fgw, co-unit czj, leader-wang, deadline at the end of 2026."""
    fields: dict[str, Any] = {
        "title": "推进老旧小区改造",
        "requirements": "年内完成 30 个小区改造并报送成效",
        "source": "meeting_decision",
        "category": "major_project",
        "priority": "high",
        "lead_unit": "fgw",
        "co_units": ["czj"],
        "leader": LEADER.id,
        "deadline": DEADLINE,
        "tags": ["民生"],
    }
    fields.update(overrides)
    return cmd.OpenItem.model_validate(fields)


def plan(*milestones: tuple[str, str]) -> cmd.SubmitPlan:
    """A work plan; with no milestones given, one milestone due in November."""
    specs = milestones or ((MILESTONE, "2026-11-30"),)
    return cmd.SubmitPlan.model_validate(
        {"measures": "分三批推进", "milestones": [{"name": n, "due": d} for n, d in specs]}
    )


def rectify(new_deadline: str = "2027-01-31") -> cmd.Inspect:
    """An inspection that orders 整改."""
    return cmd.Inspect(
        result="rectify", findings="台账不全", requirements="补齐台账", new_deadline=new_deadline
    )


PASS = cmd.Inspect(result="pass", findings="属实")
CLAIM = cmd.ClaimCompletion(summary="全部完成")
REPORT = cmd.SubmitReport(summary="已按期办结")
APPROVE_REPORT = cmd.SignOff(approve=True)
EFFECTIVE = cmd.Evaluate(effective=True, rating="good")
INEFFECTIVE = cmd.Evaluate(effective=False, rating="poor", comment="群众仍有反映")
MILESTONE_DONE = cmd.ReportProgress(summary="首批完成", percent=60, milestones_done=[MILESTONE])


@dataclass
class ItemStory:
    """One item, its events and state; each decision happens an hour after the previous one."""

    now: datetime = START
    state: ItemState = field(default_factory=ItemState)
    events: list[RecordedEvent] = field(default_factory=list)

    def context(self, actor: Actor) -> Context:
        """What `decide` needs besides state and command; dues on the weekends-only calendar."""
        return Context(
            actor=actor,
            now=self.now,
            dues=compute_dues(self.now, weekends_only, "weekends-only (test)"),
            number=NUMBER,
        )

    def decide(self, actor: Actor, command: cmd.Command) -> Decision:
        """Advance the clock and decide, recording nothing."""
        self.now += timedelta(hours=1)
        return decide(self.state, command, self.context(actor))

    def act(self, actor: Actor, command: cmd.Command) -> list[RecordedEvent]:
        """Decide and record; a refusal fails the test with its reason."""
        decision = self.decide(actor, command)
        if isinstance(decision, Refusal):
            pytest.fail(f"{type(command).__name__} by {actor.id} refused: {decision.reason}")
        return self.record(actor, decision)

    def record(self, actor: Actor, bodies: list[EventBody]) -> list[RecordedEvent]:
        """Record decided events now, in order, and evolve the state through them."""
        recorded = []
        for body in bodies:
            seq = self.state.last_seq + 1
            event = record(
                body,
                event_id=f"{ITEM_ID}:{seq}",
                item_id=ITEM_ID,
                seq=seq,
                stage=self.state.stage,
                actor=actor,
                occurred_at=self.now,
            )
            self.state = evolve(self.state, event)
            self.events.append(event)
            recorded.append(event)
        return recorded

    def refused(self, actor: Actor, command: cmd.Command, kind: RefusalKind) -> str:
        """Assert the command is refused with `kind` and changes nothing; return the reason."""
        before = self.state
        decision = self.decide(actor, command)
        assert isinstance(decision, Refusal), f"expected a {kind} refusal, got {decision}"
        assert decision.kind is kind, decision.reason
        assert self.state == before
        return decision.reason

    def types(self) -> list[str]:
        """The recorded event types, in order."""
        return [e.type for e in self.events]


_STRAIGHT_PATH: list[tuple[Stage, Actor, cmd.Command]] = [
    (Stage.DEPLOY, SUPERVISOR, open_item()),
    (Stage.IMPLEMENT, LEAD, cmd.SignFor()),
    (Stage.IMPLEMENT, CO, cmd.SignFor()),
    (Stage.IMPLEMENT, LEAD, plan()),
    (Stage.IMPLEMENT, SUPERVISOR, cmd.ApprovePlan(comment="同意")),
    (Stage.INSPECT, LEAD, MILESTONE_DONE),
    (Stage.INSPECT, LEAD, CLAIM),
    (Stage.REPORT, SUPERVISOR, PASS),
    (Stage.EVALUATE, SUPERVISOR, REPORT),
    (Stage.EVALUATE, LEADER, APPROVE_REPORT),
    (Stage.CLOSED, SUPERVISOR, EFFECTIVE),
]

OPEN_STAGES = (Stage.DEPLOY, Stage.IMPLEMENT, Stage.INSPECT, Stage.REPORT, Stage.EVALUATE)


def story_at(stage: Stage) -> ItemStory:
    """A fresh item driven along the straight path until it reaches `stage`.

    `cancelled` means cancelled while in deploy.
    """
    story = ItemStory()
    if stage is Stage.CANCELLED:
        story.act(SUPERVISOR, open_item())
        story.act(SUPERVISOR, cmd.Cancel(reason="上级决定不再督办"))
        return story
    order = [*OPEN_STAGES, Stage.CLOSED]
    for reached, actor, command in _STRAIGHT_PATH:
        if order.index(reached) > order.index(stage):
            break
        story.act(actor, command)
    assert story.state.stage is stage
    return story

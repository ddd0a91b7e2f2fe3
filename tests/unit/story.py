"""An item's story told through the pure domain: decide → record → evolve, with a test clock.

`story_at(stage)` drives a fresh item along the straight path to a stage, so a test starts
where its behaviour begins and says only what it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain import commands as cmd
from domain.people import Actor, Role
from domain.stages import Stage
from tests import builders
from tests.builders import Story

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
    """A valid 立项 (tests.builders), deadline at the end of 2026."""
    return builders.open_item(**{"deadline": DEADLINE, **overrides})


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
class ItemStory(Story):
    """The shared story (tests.builders) of item `ITEM_ID`, starting at `START`."""

    item_id: str = ITEM_ID
    number: str = NUMBER
    now: datetime = START


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

"""Who may do what: roles, the unit's own items, the lead unit, the item's leader, read-only auditors."""

from __future__ import annotations

import pytest

from domain import commands as cmd
from domain.people import Actor
from domain.refusals import RefusalKind
from domain.stages import Stage
from tests.unit.story import (
    ADMIN,
    APPROVE_REPORT,
    AUDITOR,
    CLAIM,
    CO,
    LEAD,
    LEADER,
    MILESTONE_DONE,
    OPEN_STAGES,
    OTHER_LEADER,
    OUTSIDER,
    PASS,
    REPORT,
    SUPERVISOR,
    ItemStory,
    open_item,
    plan,
    story_at,
)

FORBIDDEN = RefusalKind.FORBIDDEN

# Each supervisor-only action with the stage where it would otherwise be accepted.
SUPERVISOR_ACTIONS: list[tuple[Stage, cmd.Command]] = [
    (Stage.DEPLOY, cmd.Reassign(lead_unit="zjj", reason="职责调整")),
    (Stage.DEPLOY, cmd.ApprovePlan()),
    (Stage.DEPLOY, cmd.RejectPlan(reason="措施不具体")),
    (Stage.IMPLEMENT, cmd.DecideExtension(approve=True)),
    (Stage.INSPECT, PASS),
    (Stage.REPORT, REPORT),
    (Stage.EVALUATE, cmd.Evaluate(effective=True, rating="good")),
    (Stage.IMPLEMENT, cmd.Urge(message="请加快进度")),
    (Stage.IMPLEMENT, cmd.Cancel(reason="不再督办")),
]


@pytest.mark.parametrize("actor", [LEAD, LEADER, AUDITOR, ADMIN], ids=lambda a: a.role.value)
def test_only_a_supervisor_opens_an_item(actor: Actor) -> None:
    story = ItemStory()
    reason = story.refused(actor, open_item(), FORBIDDEN)
    assert "supervisor" in reason or "audit" in reason
    assert not story.state.opened


@pytest.mark.parametrize("actor", [LEAD, CO, LEADER, ADMIN], ids=lambda a: a.id)
@pytest.mark.parametrize(
    ("stage", "command"), SUPERVISOR_ACTIONS, ids=[type(c).__name__ for _, c in SUPERVISOR_ACTIONS]
)
def test_supervisor_actions_are_forbidden_to_other_roles(
    stage: Stage, command: cmd.Command, actor: Actor
) -> None:
    story = story_at(stage)
    assert "supervisor" in story.refused(actor, command, FORBIDDEN)


UNIT_ACTIONS: list[tuple[Stage, cmd.Command]] = [
    (Stage.DEPLOY, cmd.SignFor()),
    (Stage.DEPLOY, cmd.ReturnAssignment(reason="不属于本单位职责")),
    (Stage.DEPLOY, plan()),
    (Stage.IMPLEMENT, MILESTONE_DONE),
    (Stage.IMPLEMENT, cmd.RequestExtension(new_deadline="2027-03-31", reason="资金未到位")),
    (Stage.IMPLEMENT, CLAIM),
]


@pytest.mark.parametrize(("stage", "command"), UNIT_ACTIONS, ids=[type(c).__name__ for _, c in UNIT_ACTIONS])
def test_unit_actions_are_forbidden_to_the_supervisor(stage: Stage, command: cmd.Command) -> None:
    assert "unit" in story_at(stage).refused(SUPERVISOR, command, FORBIDDEN)


@pytest.mark.parametrize(("stage", "command"), UNIT_ACTIONS, ids=[type(c).__name__ for _, c in UNIT_ACTIONS])
def test_unit_cannot_act_on_an_item_of_another_unit(stage: Stage, command: cmd.Command) -> None:
    reason = story_at(stage).refused(OUTSIDER, command, FORBIDDEN)
    assert "not assigned" in reason


def test_unit_cannot_sign_for_an_item_of_another_unit() -> None:
    story = story_at(Stage.DEPLOY)
    story.refused(OUTSIDER, cmd.SignFor(), FORBIDDEN)
    assert "jyj" not in story.state.assignments


def test_unit_cannot_comment_on_an_item_of_another_unit() -> None:
    story_at(Stage.IMPLEMENT).refused(OUTSIDER, cmd.AddComment(text="我们也想参与"), FORBIDDEN)


def test_unit_user_without_a_unit_is_treated_as_not_assigned() -> None:
    nobody = Actor(id="orphan", role=LEAD.role)
    story_at(Stage.DEPLOY).refused(nobody, cmd.SignFor(), FORBIDDEN)


@pytest.mark.parametrize(
    ("stage", "command"),
    [
        (Stage.DEPLOY, plan()),
        (Stage.IMPLEMENT, cmd.RequestExtension(new_deadline="2027-03-31", reason="资金未到位")),
        (Stage.IMPLEMENT, CLAIM),
    ],
    ids=["submit_plan", "request_extension", "claim_completion"],
)
def test_only_the_lead_unit_may_submit_plan_request_extension_or_claim_completion(
    stage: Stage, command: cmd.Command
) -> None:
    story = story_at(stage)
    if stage is Stage.DEPLOY:
        story.act(LEAD, cmd.SignFor())
        story.act(CO, cmd.SignFor())
    assert "lead unit" in story.refused(CO, command, FORBIDDEN)


def test_co_unit_may_report_progress_and_mark_milestones_done() -> None:
    story = story_at(Stage.IMPLEMENT)
    story.act(CO, MILESTONE_DONE)
    assert story.state.plan is not None
    assert all(m.done_at is not None for m in story.state.plan.milestones)


def test_only_the_items_leader_signs_off_the_report() -> None:
    story = story_at(Stage.REPORT)
    story.act(SUPERVISOR, REPORT)
    assert "responsible leader" in story.refused(OTHER_LEADER, APPROVE_REPORT, FORBIDDEN)
    story.refused(SUPERVISOR, APPROVE_REPORT, FORBIDDEN)
    story.refused(LEAD, APPROVE_REPORT, FORBIDDEN)
    story.act(LEADER, APPROVE_REPORT)
    assert story.state.stage is Stage.EVALUATE


def test_leader_may_add_instructions_as_a_comment() -> None:
    story = story_at(Stage.IMPLEMENT)
    (event,) = story.act(LEADER, cmd.AddComment(text="要抓紧推进"))
    assert event.type == "CommentAdded"
    assert event.actor == LEADER


def test_admin_does_not_take_part_in_an_item() -> None:
    story_at(Stage.IMPLEMENT).refused(ADMIN, cmd.AddComment(text="系统维护"), FORBIDDEN)


ANY_ACTION: list[cmd.Command] = [
    cmd.SignFor(),
    cmd.ReturnAssignment(reason="不属于本单位职责"),
    cmd.Reassign(lead_unit="zjj", reason="职责调整"),
    plan(),
    cmd.ApprovePlan(),
    cmd.RejectPlan(reason="措施不具体"),
    MILESTONE_DONE,
    cmd.RequestExtension(new_deadline="2027-03-31", reason="资金未到位"),
    cmd.DecideExtension(approve=False),
    CLAIM,
    PASS,
    REPORT,
    APPROVE_REPORT,
    cmd.Evaluate(effective=True, rating="good"),
    cmd.Urge(message="请加快进度"),
    cmd.AddComment(text="审计意见"),
    cmd.Cancel(reason="审计要求"),
]


@pytest.mark.parametrize("stage", OPEN_STAGES)
@pytest.mark.parametrize("command", ANY_ACTION, ids=lambda c: type(c).__name__)
def test_auditors_are_read_only_at_every_open_stage(stage: Stage, command: cmd.Command) -> None:
    assert "read-only" in story_at(stage).refused(AUDITOR, command, FORBIDDEN)


def test_role_is_checked_before_the_stage() -> None:
    story = story_at(Stage.DEPLOY)
    story.refused(LEAD, PASS, FORBIDDEN)
    story.refused(OUTSIDER, CLAIM, FORBIDDEN)

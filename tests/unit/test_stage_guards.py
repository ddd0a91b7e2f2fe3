"""An action the item is not waiting for is a conflict whose reason says what it is waiting for."""

from __future__ import annotations

import pytest

from domain import commands as cmd
from domain.people import Actor
from domain.refusals import RefusalKind
from domain.stages import Stage
from tests.unit.story import (
    APPROVE_REPORT,
    CLAIM,
    CO,
    EFFECTIVE,
    LEAD,
    LEADER,
    MILESTONE_DONE,
    OPEN_STAGES,
    PASS,
    REPORT,
    SUPERVISOR,
    ItemStory,
    open_item,
    plan,
    story_at,
)

CONFLICT = RefusalKind.CONFLICT

# Every stage-bound action, its rightful actor and the one stage where it belongs.
STAGE_BOUND: list[tuple[Stage, Actor, cmd.Command]] = [
    (Stage.DEPLOY, CO, cmd.SignFor()),
    (Stage.DEPLOY, CO, cmd.ReturnAssignment(reason="不属于本单位职责")),
    (Stage.DEPLOY, SUPERVISOR, cmd.RejectPlan(reason="措施不具体")),
    (Stage.IMPLEMENT, LEAD, MILESTONE_DONE),
    (Stage.IMPLEMENT, LEAD, cmd.RequestExtension(new_deadline="2027-03-31", reason="资金未到位")),
    (Stage.IMPLEMENT, LEAD, CLAIM),
    (Stage.INSPECT, SUPERVISOR, PASS),
    (Stage.REPORT, SUPERVISOR, REPORT),
    (Stage.EVALUATE, SUPERVISOR, EFFECTIVE),
]

WAITING_WORDS = {
    Stage.DEPLOY: "work plan",
    Stage.IMPLEMENT: "completion claim",
    Stage.INSPECT: "inspection",
    Stage.REPORT: "report",
    Stage.EVALUATE: "evaluation",
}


def _misplaced() -> list[tuple[Stage, Actor, cmd.Command]]:
    return [
        (stage, actor, command)
        for home, actor, command in STAGE_BOUND
        for stage in OPEN_STAGES
        if stage is not home
    ]


@pytest.mark.parametrize(
    ("stage", "actor", "command"),
    _misplaced(),
    ids=[f"{type(c).__name__}@{s.value}" for s, _, c in _misplaced()],
)
def test_action_out_of_its_stage_is_a_conflict_naming_what_the_item_waits_for(
    stage: Stage, actor: Actor, command: cmd.Command
) -> None:
    reason = story_at(stage).refused(actor, command, CONFLICT)
    assert stage.label in reason
    assert "正在等待" in reason


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_conflict_reason_names_the_pending_step_of_each_stage(stage: Stage) -> None:
    story = story_at(stage)
    wrong: cmd.Command = CLAIM if stage is not Stage.IMPLEMENT else PASS
    actor = LEAD if isinstance(wrong, cmd.ClaimCompletion) else SUPERVISOR
    assert WAITING_WORDS[stage] in story.refused(actor, wrong, CONFLICT)


def test_claim_in_deploy_names_the_units_still_to_sign_for_and_the_plan() -> None:
    reason = story_at(Stage.DEPLOY).refused(LEAD, CLAIM, CONFLICT)
    assert "牵头单位 fgw" in reason
    assert "协办单位 czj" in reason
    assert "sign for" in reason
    assert "work plan" in reason


def test_nothing_happens_before_an_item_is_opened() -> None:
    reason = ItemStory().refused(LEAD, cmd.SignFor(), CONFLICT)
    assert "not been opened" in reason


def test_an_item_is_opened_only_once() -> None:
    story = story_at(Stage.DEPLOY)
    assert "already open" in story.refused(SUPERVISOR, open_item(), CONFLICT)


def test_a_unit_signs_for_only_once() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    assert "already signed" in story.refused(LEAD, cmd.SignFor(), CONFLICT)
    story.refused(LEAD, cmd.ReturnAssignment(reason="改变主意"), CONFLICT)


def test_a_returned_unit_cannot_then_sign_for() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(CO, cmd.ReturnAssignment(reason="不属于本单位职责"))
    assert "already returned" in story.refused(CO, cmd.SignFor(), CONFLICT)


def test_plan_waits_for_the_lead_unit_to_sign_for() -> None:
    reason = story_at(Stage.DEPLOY).refused(LEAD, plan(), CONFLICT)
    assert "sign for" in reason


def test_a_submitted_plan_awaits_approval_before_another() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    story.act(LEAD, plan())
    assert "awaits approval" in story.refused(LEAD, plan(), CONFLICT)


def test_approve_or_reject_needs_a_submitted_plan() -> None:
    story = story_at(Stage.DEPLOY)
    assert "no plan awaits approval" in story.refused(SUPERVISOR, cmd.ApprovePlan(), CONFLICT)
    story.refused(SUPERVISOR, cmd.RejectPlan(reason="措施不具体"), CONFLICT)


def test_reassign_needs_a_returned_unit() -> None:
    reason = story_at(Stage.DEPLOY).refused(
        SUPERVISOR, cmd.Reassign(lead_unit="zjj", reason="职责调整"), CONFLICT
    )
    assert "no unit has returned" in reason


def test_sign_off_needs_a_submitted_report() -> None:
    story = story_at(Stage.REPORT)
    assert "no report awaits sign-off" in story.refused(LEADER, APPROVE_REPORT, CONFLICT)


def test_a_submitted_report_awaits_sign_off_before_another() -> None:
    story = story_at(Stage.REPORT)
    story.act(SUPERVISOR, REPORT)
    assert "sign-off" in story.refused(SUPERVISOR, REPORT, CONFLICT)


def test_decide_extension_needs_a_pending_request() -> None:
    reason = story_at(Stage.IMPLEMENT).refused(SUPERVISOR, cmd.DecideExtension(approve=True), CONFLICT)
    assert "no extension request is pending" in reason


def test_claim_waits_for_every_milestone_of_the_plan() -> None:
    story = story_at(Stage.IMPLEMENT)
    assert "首批开工" in story.refused(LEAD, CLAIM, CONFLICT)

"""研究部署: opening, sign-for and return, reassignment, the work plan and its approval."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import commands as cmd
from domain.decide import Context, MissingDue, decide
from domain.refusals import RefusalKind
from domain.stages import Light, Stage
from domain.state import AssignmentStatus, Part, PlanStatus
from tests.unit.story import (
    CO,
    LEAD,
    NUMBER,
    SUPERVISOR,
    ItemStory,
    open_item,
    plan,
    story_at,
    unit_user,
)

RETURN = cmd.ReturnAssignment(reason="不属于本单位职责")


def test_opening_assigns_the_lead_and_co_units_each_with_a_sign_for_clock() -> None:
    story = story_at(Stage.DEPLOY)
    state = story.state
    assert (state.number, state.stage, state.light) == (NUMBER, Stage.DEPLOY, Light.GREEN)
    assert state.supervisor == SUPERVISOR.id
    assert state.units() == ("fgw", "czj")
    assert {u: a.part for u, a in state.assignments.items()} == {"fgw": Part.LEAD, "czj": Part.CO}
    assert all(a.status is AssignmentStatus.PENDING for a in state.assignments.values())
    # opened Monday 11:00 Beijing: two working days → Wednesday 18:00 Beijing
    assert state.assignments["fgw"].sign_for_due == datetime(2026, 9, 30, 10, tzinfo=UTC)
    assert state.deadline == datetime(2026, 12, 31, 10, tzinfo=UTC)
    assert [p.step for p in state.pending] == ["sign_for:fgw", "sign_for:czj", "submit_plan"]


def test_opening_without_computed_dues_is_a_programming_error() -> None:
    story = ItemStory()
    with pytest.raises(MissingDue):
        decide(story.state, open_item(), Context(actor=SUPERVISOR, now=story.now))


def test_signing_for_records_the_unit_and_the_time() -> None:
    story = story_at(Stage.DEPLOY)
    (event,) = story.act(CO, cmd.SignFor())
    assert event.payload == {"unit": "czj"}
    assert event.stage is Stage.DEPLOY
    signed = story.state.assignments["czj"]
    assert (signed.status, signed.signed_at) == (AssignmentStatus.SIGNED, story.now)


def test_returning_asks_the_supervisor_to_reassign() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(CO, RETURN)
    assert story.state.assignments["czj"].return_reason == RETURN.reason
    assert story.state.returns == {"czj": 1}
    assert "reassign" in [p.step for p in story.state.pending]


def test_reassign_gives_new_units_a_fresh_sign_for_clock_and_signed_units_keep_their_signature() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    lead_signed_at = story.state.assignments["fgw"].signed_at
    story.act(CO, RETURN)
    story.now = datetime(2026, 10, 2, 1, tzinfo=UTC)  # Friday; the next working days are Mon, Tue
    (event,) = story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["zjj"], reason="改由住建局协办"))

    state = story.state
    assert event.type == "UnitsReassigned"
    assert state.units() == ("fgw", "zjj")
    assert "czj" not in state.assignments
    assert state.assignments["fgw"].status is AssignmentStatus.SIGNED
    assert state.assignments["fgw"].signed_at == lead_signed_at
    fresh = state.assignments["zjj"]
    assert (fresh.status, fresh.part, fresh.issued_at) == (AssignmentStatus.PENDING, Part.CO, story.now)
    assert fresh.sign_for_due == datetime(2026, 10, 6, 10, tzinfo=UTC)
    assert state.returns == {"czj": 1}


def test_a_signed_co_unit_promoted_to_lead_keeps_its_signature() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(CO, cmd.SignFor())
    story.act(LEAD, RETURN)
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="czj", co_units=["zjj"], reason="改由财政局牵头"))
    czj = story.state.assignments["czj"]
    assert (czj.part, czj.status) == (Part.LEAD, AssignmentStatus.SIGNED)
    assert story.state.lead_unit == "czj"
    story.act(CO, plan())  # czj now submits the plan as lead unit


def test_the_unit_dropped_by_a_reassignment_no_longer_acts_on_the_item() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(CO, RETURN)
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["zjj"], reason="改派"))
    story.refused(CO, cmd.AddComment(text="我们已退回"), RefusalKind.FORBIDDEN)
    story.act(unit_user("zjj"), cmd.SignFor())


def test_returns_are_counted_per_unit_across_reassignments() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(CO, RETURN)
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["zjj"], reason="改派住建局"))
    story.act(unit_user("zjj"), RETURN)
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["czj"], reason="仍由财政局协办"))
    story.act(CO, RETURN)
    assert story.state.returns == {"czj": 2, "zjj": 1}


def test_a_new_lead_unit_gets_a_fresh_plan_clock() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, RETURN)
    story.now = datetime(2026, 10, 9, 1, tzinfo=UTC)  # after the original plan due (Mon 5 Oct)
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="zjj", co_units=["czj"], reason="改由住建局牵头"))
    assert story.state.plan_due is not None
    assert story.state.plan_due > story.now


def test_approve_plan_waits_for_every_co_unit_to_sign_for() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    story.act(LEAD, plan())
    reason = story.refused(SUPERVISOR, cmd.ApprovePlan(), RefusalKind.CONFLICT)
    assert "czj" in reason
    story.act(CO, cmd.SignFor())
    story.act(SUPERVISOR, cmd.ApprovePlan(comment="同意"))
    assert story.state.stage is Stage.IMPLEMENT


def test_approve_plan_waits_for_a_unit_brought_in_by_reassignment() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    story.act(CO, RETURN)
    story.act(LEAD, plan())
    story.refused(SUPERVISOR, cmd.ApprovePlan(), RefusalKind.CONFLICT)
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["zjj"], reason="改派"))
    assert "zjj" in story.refused(SUPERVISOR, cmd.ApprovePlan(), RefusalKind.CONFLICT)
    story.act(unit_user("zjj"), cmd.SignFor())
    story.act(SUPERVISOR, cmd.ApprovePlan())
    assert story.state.stage is Stage.IMPLEMENT


def test_a_rejected_plan_is_submitted_again_as_a_new_version() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    story.act(CO, cmd.SignFor())
    story.act(LEAD, plan())
    story.act(SUPERVISOR, cmd.RejectPlan(reason="措施不具体"))
    assert story.state.plan is not None
    assert story.state.plan.status is PlanStatus.REJECTED
    assert story.state.plan_due is not None
    assert story.state.plan_due > story.now
    story.act(LEAD, plan(("首批开工", "2026-11-15"), ("二批开工", "2026-12-15")))
    story.act(SUPERVISOR, cmd.ApprovePlan())
    assert story.state.plan is not None
    assert (story.state.plan.version, story.state.plan.status) == (2, PlanStatus.APPROVED)
    assert [m.name for m in story.state.plan.milestones] == ["首批开工", "二批开工"]


def test_approval_enters_implement_with_the_deadline_as_completion_due() -> None:
    story = story_at(Stage.IMPLEMENT)
    assert story.state.completion_due == story.state.deadline
    assert story.state.plan_due is None
    assert [p.step for p in story.state.pending] == ["milestone:首批开工", "claim_completion"]


def test_a_unit_still_pending_keeps_its_sign_for_clock_through_a_reassignment() -> None:
    story = story_at(Stage.DEPLOY)
    lead_clock = story.state.assignments["fgw"].sign_for_due
    story.act(CO, RETURN)
    story.now = datetime(2026, 10, 2, 1, tzinfo=UTC)
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["zjj"], reason="改派"))
    assert story.state.assignments["fgw"].sign_for_due == lead_clock

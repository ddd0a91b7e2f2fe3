"""狠抓落实 to 办结: extensions, the rectify loop, the report, the reopen loop, cancel and the end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import commands as cmd
from domain.refusals import RefusalKind
from domain.stages import Light, Stage
from domain.state import ReportStatus
from tests.unit.story import (
    APPROVE_REPORT,
    CLAIM,
    CO,
    EFFECTIVE,
    INEFFECTIVE,
    LEAD,
    LEADER,
    OPEN_STAGES,
    PASS,
    REPORT,
    SUPERVISOR,
    ItemStory,
    open_item,
    rectify,
    story_at,
)

EXTEND = cmd.RequestExtension(new_deadline="2027-03-31", reason="资金未到位")
MARCH_END = datetime(2027, 3, 31, 10, tzinfo=UTC)


def test_the_straight_path_records_one_event_per_action() -> None:
    story = story_at(Stage.CLOSED)
    assert story.types() == [
        "ItemOpened",
        "AssignmentSigned",
        "AssignmentSigned",
        "PlanSubmitted",
        "PlanApproved",
        "ProgressReported",
        "CompletionClaimed",
        "InspectionPassed",
        "ReportSubmitted",
        "ReportApproved",
        "ItemClosed",
    ]
    assert [e.seq for e in story.events] == list(range(1, 12))
    assert [e.stage for e in story.events][-1] is Stage.EVALUATE
    assert story.state.closed_at == story.now
    assert story.state.pending == ()


def test_progress_marks_milestones_done_once() -> None:
    story = story_at(Stage.IMPLEMENT)
    story.act(LEAD, cmd.ReportProgress(summary="首批完成", percent=40, milestones_done=["首批开工"]))
    assert story.state.plan is not None
    first_done = story.state.plan.milestones[0].done_at
    story.act(CO, cmd.ReportProgress(summary="再报", percent=55, milestones_done=["首批开工"]))
    assert story.state.plan is not None
    assert story.state.plan.milestones[0].done_at == first_done
    assert story.state.percent == 55


def test_approved_extension_moves_the_deadline_and_rearms_the_clock() -> None:
    story = story_at(Stage.IMPLEMENT)
    story.act(LEAD, EXTEND)
    assert story.state.extension is not None
    assert "decide_extension" in [p.step for p in story.state.pending]
    story.act(SUPERVISOR, cmd.DecideExtension(approve=True, comment="同意延期"))
    assert story.state.extension is None
    assert (story.state.deadline, story.state.completion_due) == (MARCH_END, MARCH_END)
    assert story.state.light is Light.GREEN


def test_rejected_extension_keeps_the_deadline() -> None:
    story = story_at(Stage.IMPLEMENT)
    deadline = story.state.deadline
    story.act(LEAD, EXTEND)
    (event,) = story.act(SUPERVISOR, cmd.DecideExtension(approve=False, comment="理由不充分"))
    assert event.type == "ExtensionRejected"
    assert story.state.extension is None
    assert story.state.deadline == deadline


def test_one_extension_request_at_a_time_and_no_claim_while_it_is_pending() -> None:
    story = story_at(Stage.IMPLEMENT)
    story.act(LEAD, cmd.ReportProgress(summary="完成", percent=100, milestones_done=["首批开工"]))
    story.act(LEAD, EXTEND)
    assert "already pending" in story.refused(LEAD, EXTEND, RefusalKind.CONFLICT)
    assert "extension" in story.refused(LEAD, CLAIM, RefusalKind.CONFLICT)


def test_rectify_sends_the_item_back_to_implement_with_a_new_deadline() -> None:
    story = story_at(Stage.INSPECT)
    (event,) = story.act(SUPERVISOR, rectify("2027-01-31"))
    assert event.type == "RectificationOrdered"
    assert event.payload["round"] == 1
    assert story.state.stage is Stage.IMPLEMENT
    assert story.state.deadline == datetime(2027, 1, 31, 10, tzinfo=UTC)
    assert story.state.completion_due == story.state.deadline


def test_the_rectify_loop_counts_its_rounds_and_ends_in_a_pass() -> None:
    story = story_at(Stage.INSPECT)
    for expected_round in (1, 2):
        story.act(SUPERVISOR, rectify())
        assert story.state.rectify_rounds == expected_round
        story.act(LEAD, CLAIM)
        assert story.state.stage is Stage.INSPECT
    story.act(SUPERVISOR, PASS)
    assert story.state.stage is Stage.REPORT
    assert story.types().count("RectificationOrdered") == 2


def test_sent_back_report_is_submitted_again_before_the_leader_signs_off() -> None:
    story = story_at(Stage.REPORT)
    story.act(SUPERVISOR, REPORT)
    assert story.state.sign_off_due is not None
    story.act(LEADER, cmd.SignOff(approve=False, instructions="补充群众满意度"))
    assert story.state.stage is Stage.REPORT
    assert story.state.report_status is ReportStatus.SENT_BACK
    assert story.state.sign_off_due is None
    assert [p.step for p in story.state.pending] == ["submit_report"]
    assert story.state.pending[0].due == story.state.report_due
    story.act(SUPERVISOR, REPORT)
    story.act(LEADER, APPROVE_REPORT)
    assert story.state.stage is Stage.EVALUATE
    assert story.state.evaluation_due is not None


def test_evaluation_is_due_after_a_thirty_day_follow_up() -> None:
    story = story_at(Stage.EVALUATE)
    approved_at = story.events[-1].occurred_at
    assert story.state.evaluation_due is not None
    assert (story.state.evaluation_due - approved_at).days in (29, 30)


def test_ineffective_evaluation_reopens_the_item_into_implement() -> None:
    story = story_at(Stage.EVALUATE)
    (event,) = story.act(SUPERVISOR, INEFFECTIVE)
    assert event.type == "ItemReopened"
    state = story.state
    assert (state.stage, state.reopen_rounds, state.report_status) == (Stage.IMPLEMENT, 1, ReportStatus.NONE)
    assert state.evaluation_due is None
    assert state.deadline is not None
    assert state.deadline > story.now


def test_the_reopen_loop_runs_the_whole_second_half_again_and_closes() -> None:
    story = story_at(Stage.EVALUATE)
    story.act(SUPERVISOR, cmd.Evaluate(effective=False, rating="fair", new_deadline="2027-06-30"))
    assert story.state.deadline == datetime(2027, 6, 30, 10, tzinfo=UTC)
    story.act(LEAD, CLAIM)
    story.act(SUPERVISOR, rectify("2027-07-31"))
    story.act(LEAD, CLAIM)
    story.act(SUPERVISOR, PASS)
    story.act(SUPERVISOR, REPORT)
    story.act(LEADER, APPROVE_REPORT)
    story.act(SUPERVISOR, INEFFECTIVE)
    assert story.state.reopen_rounds == 2
    story.act(LEAD, CLAIM)
    story.act(SUPERVISOR, PASS)
    story.act(SUPERVISOR, REPORT)
    story.act(LEADER, APPROVE_REPORT)
    story.act(SUPERVISOR, EFFECTIVE)
    assert story.state.stage is Stage.CLOSED
    assert (story.state.rectify_rounds, story.state.reopen_rounds) == (1, 2)


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_supervisor_may_cancel_from_any_open_stage(stage: Stage) -> None:
    story = story_at(stage)
    (event,) = story.act(SUPERVISOR, cmd.Cancel(reason="上级决定不再督办"))
    assert event.stage is stage
    assert story.state.stage is Stage.CANCELLED
    assert story.state.cancel_reason == "上级决定不再督办"
    assert story.state.pending == ()


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_urge_and_comment_are_accepted_at_any_open_stage_and_change_no_stage(stage: Stage) -> None:
    story = story_at(stage)
    before = story.state
    (urged,) = story.act(SUPERVISOR, cmd.Urge(message="请加快进度"))
    assert urged.payload["units"] == ["fgw", "czj"]
    story.act(LEAD, cmd.AddComment(text="收到"))
    assert story.state.stage is stage
    assert story.state.model_dump(exclude={"last_seq", "updated_at"}) == before.model_dump(
        exclude={"last_seq", "updated_at"}
    )


def test_urge_may_name_one_unit() -> None:
    (urged,) = story_at(Stage.DEPLOY).act(SUPERVISOR, cmd.Urge(message="请尽快签收", units=["czj"]))
    assert urged.payload["units"] == ["czj"]


AFTER_THE_END: list[cmd.Command] = [
    cmd.SignFor(),
    CLAIM,
    PASS,
    REPORT,
    APPROVE_REPORT,
    EFFECTIVE,
    cmd.Urge(message="请加快进度"),
    cmd.AddComment(text="补充说明"),
    cmd.Cancel(reason="再撤一次"),
    open_item(),
]


@pytest.mark.parametrize("end", [Stage.CLOSED, Stage.CANCELLED])
@pytest.mark.parametrize("command", AFTER_THE_END, ids=lambda c: type(c).__name__)
def test_nothing_is_accepted_after_closed_or_cancelled(end: Stage, command: cmd.Command) -> None:
    story = story_at(end)
    actor = {cmd.SignFor: LEAD, cmd.ClaimCompletion: LEAD, cmd.SignOff: LEADER}.get(type(command), SUPERVISOR)
    reason = story.refused(actor, command, RefusalKind.CONFLICT)
    assert end.value in reason or "already open" in reason


def test_a_fresh_story_is_not_open() -> None:
    assert ItemStory().state.pending == ()

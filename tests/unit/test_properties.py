"""Property: any sequence of commands by anyone folds to the incremental state and keeps the loop sound."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain import commands as cmd
from domain.decide import decide
from domain.fold import fold
from domain.people import Actor
from domain.refusals import Refusal
from domain.stages import Stage
from domain.state import AssignmentStatus, ItemState, PlanStatus
from tests.unit.story import (
    ADMIN,
    AUDITOR,
    CO,
    LEAD,
    LEADER,
    OTHER_LEADER,
    OUTSIDER,
    SUPERVISOR,
    ItemStory,
    open_item,
    unit_user,
)

ZJJ = unit_user("zjj")
ACTORS = [SUPERVISOR, LEAD, CO, ZJJ, OUTSIDER, LEADER, OTHER_LEADER, AUDITOR, ADMIN]
RECTIFY_DEADLINES = ["2026-09-01", "2027-12-31"]  # one already past, one far ahead

# Each command with the actor who would rightly send it, so that walks also reach the later stages.
RIGHTFUL: list[tuple[Actor, cmd.Command]] = [
    (SUPERVISOR, open_item()),
    (SUPERVISOR, open_item(co_units=[], deadline="2027-03-31")),
    (LEAD, cmd.SignFor()),
    (CO, cmd.SignFor()),
    (ZJJ, cmd.SignFor()),
    (CO, cmd.ReturnAssignment(reason="不属于本单位职责")),
    (LEAD, cmd.ReturnAssignment(reason="不属于本单位职责")),
    (ZJJ, cmd.ReturnAssignment(reason="不属于本单位职责")),
    (SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["zjj"], reason="改派")),
    (SUPERVISOR, cmd.Reassign(lead_unit="zjj", co_units=["czj"], reason="改派")),
    (SUPERVISOR, cmd.Reassign(lead_unit="czj", reason="改派")),
    (SUPERVISOR, cmd.ApprovePlan()),
    (SUPERVISOR, cmd.RejectPlan(reason="措施不具体")),
    (SUPERVISOR, cmd.DecideExtension(approve=True)),
    (SUPERVISOR, cmd.DecideExtension(approve=False)),
    (SUPERVISOR, cmd.Inspect(result="pass", findings="属实")),
    (SUPERVISOR, cmd.SubmitReport(summary="报告")),
    (LEADER, cmd.SignOff(approve=True)),
    (LEADER, cmd.SignOff(approve=False, instructions="补充材料")),
    (SUPERVISOR, cmd.Evaluate(effective=True, rating="good")),
    (SUPERVISOR, cmd.Evaluate(effective=False, rating="poor")),
    (SUPERVISOR, cmd.Urge(message="请加快进度")),
    (SUPERVISOR, cmd.Cancel(reason="不再督办")),
    (LEADER, cmd.AddComment(text="批示")),
    *(
        (unit, command)
        for unit in (LEAD, CO, ZJJ)
        for command in (
            cmd.SubmitPlan(measures="推进", milestones=[cmd.PlannedMilestone(name="节点", due="2026-11-30")]),
            cmd.SubmitPlan(measures="推进"),
            cmd.ReportProgress(summary="进展", percent=50, milestones_done=["节点"]),
            cmd.ReportProgress(summary="进展", percent=20),
            cmd.RequestExtension(new_deadline="2027-12-31", reason="资金未到位"),
            cmd.ClaimCompletion(summary="完成"),
        )
    ),
    *(
        (SUPERVISOR, cmd.Inspect(result="rectify", findings="不足", requirements="整改", new_deadline=d))
        for d in RECTIFY_DEADLINES
    ),
]

NEXT_STAGES: dict[Stage, set[Stage]] = {
    Stage.DEPLOY: {Stage.DEPLOY, Stage.IMPLEMENT, Stage.CANCELLED},
    Stage.IMPLEMENT: {Stage.IMPLEMENT, Stage.INSPECT, Stage.CANCELLED},
    Stage.INSPECT: {Stage.INSPECT, Stage.IMPLEMENT, Stage.REPORT, Stage.CANCELLED},
    Stage.REPORT: {Stage.REPORT, Stage.EVALUATE, Stage.CANCELLED},
    Stage.EVALUATE: {Stage.EVALUATE, Stage.IMPLEMENT, Stage.CLOSED, Stage.CANCELLED},
    Stage.CLOSED: set(),
    Stage.CANCELLED: set(),
}


def _assert_sound(state: ItemState) -> None:
    """What must hold of any state the loop can reach."""
    assert set(state.assignments) == set(state.units())
    assert state.lead_unit not in state.co_units
    if state.stage not in (Stage.DEPLOY, Stage.CANCELLED):
        assert state.plan is not None
        assert state.plan.status is PlanStatus.APPROVED
        assert all(a.status is AssignmentStatus.SIGNED for a in state.assignments.values())
    if state.extension is not None:
        assert state.stage in (Stage.IMPLEMENT, Stage.CANCELLED)
    if not state.stage.is_open:
        assert state.pending == ()
        assert state.closed_at is not None
    else:
        assert state.pending


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_command_sequence_folds_to_the_incremental_state_and_keeps_the_loop_sound(
    data: st.DataObject,
) -> None:
    story = ItemStory()
    story.act(SUPERVISOR, open_item())
    terminal_at: int | None = None
    for _ in range(data.draw(st.integers(min_value=1, max_value=50), label="steps")):
        story.now += timedelta(hours=data.draw(st.integers(min_value=0, max_value=48), label="hours"))
        ctx = story.context(SUPERVISOR)
        before = story.state
        if data.draw(st.integers(min_value=0, max_value=7), label="kind") and (
            welcome := [
                (actor, command)
                for actor, command in RIGHTFUL
                if not isinstance(command, cmd.Cancel)
                and not isinstance(decide(before, command, ctx.model_copy(update={"actor": actor})), Refusal)
            ]
        ):
            actor, command = data.draw(st.sampled_from(welcome), label="welcome move")
        else:
            actor = data.draw(st.sampled_from(ACTORS), label="actor")
            command = data.draw(st.sampled_from(RIGHTFUL), label="command")[1]
        decision = decide(before, command, ctx.model_copy(update={"actor": actor}))
        if isinstance(decision, Refusal):
            assert decision.reason
            continue
        assert terminal_at is None, "an event was accepted after the item was closed or cancelled"
        story.record(actor, decision)
        assert story.state.stage in NEXT_STAGES[before.stage]
        _assert_sound(story.state)
        if not story.state.stage.is_open:
            terminal_at = len(story.events)

    event(f"ended in {story.state.stage.value}")
    event(f"rounds: rectify {min(story.state.rectify_rounds, 2)}, reopen {min(story.state.reopen_rounds, 2)}")
    assert [e.seq for e in story.events] == list(range(1, len(story.events) + 1))
    assert fold(story.events) == story.state
    assert ItemState.model_validate_json(story.state.model_dump_json()) == story.state


@settings(max_examples=50, deadline=None, database=None)
@given(hours=st.lists(st.integers(min_value=0, max_value=500), min_size=11, max_size=11))
def test_the_straight_path_closes_whatever_the_pace_before_the_deadline(hours: list[int]) -> None:
    story = ItemStory()
    path: list[tuple[Actor, cmd.Command]] = [
        (SUPERVISOR, open_item(deadline="2027-12-31")),
        (LEAD, cmd.SignFor()),
        (CO, cmd.SignFor()),
        (LEAD, cmd.SubmitPlan(measures="推进")),
        (SUPERVISOR, cmd.ApprovePlan()),
        (CO, cmd.ReportProgress(summary="进展", percent=90)),
        (LEAD, cmd.ClaimCompletion(summary="完成")),
        (SUPERVISOR, cmd.Inspect(result="pass", findings="属实")),
        (SUPERVISOR, cmd.SubmitReport(summary="报告")),
        (LEADER, cmd.SignOff(approve=True)),
        (SUPERVISOR, cmd.Evaluate(effective=True, rating="excellent")),
    ]
    for pause, (actor, command) in zip(hours, path, strict=True):
        story.now += timedelta(hours=pause)
        story.act(actor, command)
    assert story.state.stage is Stage.CLOSED
    assert fold(story.events) == story.state

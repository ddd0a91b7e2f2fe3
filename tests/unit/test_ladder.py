"""The ladder's pure rules: rung instants in working days, policy checks, the fold's rule of the light."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from adapters.workdays import ChinaWorkdays
from domain import commands as cmd
from domain import events as ev
from domain.audience import audience_for
from domain.dues import shift_working_days, weekends_only
from domain.instants import CHINA
from domain.ladder import (
    DEFAULT_LADDER,
    AppliedPolicy,
    Audience,
    LadderRules,
    Level,
    RungRule,
    arm_rungs,
)
from domain.people import SYSTEM_ACTOR
from domain.stages import Light, Stage
from domain.state import ItemState, next_rung, unarmed_steps
from domain.vocabulary import Category, Priority
from tests.unit.story import CO, LEAD, SUPERVISOR, ItemStory, open_item, story_at

POLICY = AppliedPolicy(
    policy_id="major_project/high",
    version=1,
    category=Category.MAJOR_PROJECT,
    priority=Priority.HIGH,
    rungs=DEFAULT_LADDER.rungs,
)


def beijing(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def arm(story: ItemStory) -> None:
    """Record the policy (once) and a ladder for each unarmed step, on the weekends-only calendar."""
    bodies: list[ev.EventBody] = [] if story.state.policy else [ev.PolicyApplied(policy=POLICY)]
    for step in unarmed_steps(story.state):
        assert step.due is not None
        bodies.append(
            ev.LadderArmed(
                step=step.step,
                due=step.due,
                rungs=arm_rungs(POLICY, step.due, weekends_only),
                policy_id=POLICY.policy_id,
                policy_version=POLICY.version,
                calendar="weekends-only (test)",
            )
        )
    story.record(SYSTEM_ACTOR, bodies)


def reach(story: ItemStory, step: str, level: Level) -> ItemState:
    """Record that `step`'s ladder reached `level`."""
    rung = next(r for r in story.state.ladders[step].rungs if r.level is level)
    kind = ev.ReminderSent if level is Level.REMINDER else ev.EscalationRaised
    story.record(
        SYSTEM_ACTOR,
        [
            kind(
                step=step,
                level=level,
                at=rung.at,
                due=story.state.ladders[step].due,
                rule=rung.rule,
                audience=rung.audience,
                recipients=[],
            )
        ],
    )
    return story.state


def test_rungs_count_working_days_across_national_day_and_its_make_up_saturday() -> None:
    due = beijing("2026-10-10 18:00")  # a 调休 Saturday: a working day
    calendar = ChinaWorkdays()

    rungs = arm_rungs(POLICY, due, calendar.is_workday)

    assert [(r.level, r.at) for r in rungs] == [
        (Level.REMINDER, beijing("2026-10-08 18:00")),
        (Level.WARNING, due),
        (Level.OVERDUE, beijing("2026-10-14 18:00")),
        (Level.TOP, beijing("2026-10-20 18:00")),
    ]
    assert rungs[2].rule == "major_project/high v1 overdue: due+3 working days"
    assert calendar.label.startswith("chinesecalendar")


def test_a_reminder_before_the_holiday_counts_back_over_it() -> None:
    assert shift_working_days(beijing("2026-10-09 18:00"), -2, ChinaWorkdays().is_workday) == beijing(
        "2026-09-30 18:00"
    )


@pytest.mark.parametrize(
    "rungs",
    [
        [],
        [*DEFAULT_LADDER.rungs, DEFAULT_LADDER.rungs[0]],
        [
            RungRule(level=Level.WARNING, offset_days=0, audience=[Audience.UNIT_LEADER]),
            RungRule(level=Level.OVERDUE, offset_days=0, audience=[Audience.RESPONSIBLE_LEADER]),
        ],
    ],
    ids=["empty", "a level twice", "overdue not after warning"],
)
def test_a_ladder_needs_distinct_levels_in_strictly_later_order(rungs: list[RungRule]) -> None:
    with pytest.raises(ValidationError):
        LadderRules(rungs=rungs)


def test_a_ladder_is_kept_in_level_order_whatever_order_it_was_written_in() -> None:
    shuffled = LadderRules(rungs=list(reversed(DEFAULT_LADDER.rungs)))
    assert shuffled == DEFAULT_LADDER


def test_steps_no_unit_owns_tell_the_supervisor_or_the_leader_instead() -> None:
    warning = [Audience.UNIT_HANDLERS, Audience.UNIT_LEADER]
    assert audience_for("sign_off", warning) == [Audience.RESPONSIBLE_LEADER]
    assert audience_for("evaluate", [*warning, Audience.DISCIPLINE]) == [
        Audience.SUPERVISOR,
        Audience.DISCIPLINE,
    ]
    assert audience_for("sign_for:czj", warning) == warning


def test_every_waiting_step_with_a_due_instant_gets_a_ladder_and_the_earliest_rung_comes_first() -> None:
    story = ItemStory()
    story.act(SUPERVISOR, open_item())
    assert {s.step for s in unarmed_steps(story.state)} == {"sign_for:fgw", "sign_for:czj", "submit_plan"}

    arm(story)

    assert unarmed_steps(story.state) == []
    step, rung = next_rung(story.state) or ("", None)
    assert rung is not None
    assert rung.level is Level.REMINDER
    assert step.startswith("sign_for:")


def test_the_light_is_the_gravest_rung_reached_on_a_pending_step_and_doing_the_step_clears_it() -> None:
    story = ItemStory()
    story.act(SUPERVISOR, open_item())
    arm(story)

    assert reach(story, "sign_for:czj", Level.WARNING).light is Light.YELLOW
    assert reach(story, "sign_for:fgw", Level.OVERDUE).light is Light.RED
    top = reach(story, "sign_for:czj", Level.TOP)
    assert (top.light, top.flagged) == (Light.RED, True)

    story.act(CO, cmd.SignFor())
    assert (story.state.light, story.state.flagged) == (Light.RED, False)
    story.act(LEAD, cmd.SignFor())
    assert story.state.light is Light.GREEN
    assert set(story.state.ladders) == {"submit_plan"}


def test_an_approved_extension_drops_the_completion_ladder_so_it_is_armed_again_and_the_light_is_green() -> (
    None
):
    story = story_at(Stage.IMPLEMENT)
    story.act(LEAD, cmd.ReportProgress(summary="首批完成", percent=60, milestones_done=["首批开工"]))
    arm(story)
    assert reach(story, "claim_completion", Level.OVERDUE).light is Light.RED

    story.act(LEAD, cmd.RequestExtension(new_deadline="2027-03-31", reason="资金到位晚"))
    story.act(SUPERVISOR, cmd.DecideExtension(approve=False))
    assert story.state.light is Light.RED
    story.act(LEAD, cmd.RequestExtension(new_deadline="2027-03-31", reason="补充材料"))
    story.act(SUPERVISOR, cmd.DecideExtension(approve=True))

    assert story.state.light is Light.GREEN
    assert "claim_completion" not in story.state.ladders
    assert [s.step for s in unarmed_steps(story.state)] == ["claim_completion"]


def test_a_reassignment_arms_fresh_clocks_only_for_the_new_units() -> None:
    story = ItemStory()
    story.act(SUPERVISOR, open_item())
    arm(story)
    story.act(CO, cmd.ReturnAssignment(reason="不属于本单位职责"))
    assert story.state.returns == {"czj": 1}
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=["jtj"], reason="改派"))

    assert [s.step for s in unarmed_steps(story.state)] == ["sign_for:jtj"]
    assert "sign_for:czj" not in story.state.ladders

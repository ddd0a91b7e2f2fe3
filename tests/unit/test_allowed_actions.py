"""allowed_actions asks decide itself: each role sees exactly the steps the item waits for from it."""

from __future__ import annotations

import pytest

from domain import commands as cmd
from domain.decide import ACTION_PROBES, allowed_actions
from domain.stages import Stage
from domain.vocabulary import ACTION_LABELS
from tests.unit.story import AUDITOR, CO, LEAD, LEADER, OUTSIDER, REPORT, SUPERVISOR, story_at


def test_every_action_but_open_has_a_probe_and_a_label() -> None:
    assert set(ACTION_PROBES) == set(cmd.ACTIONS) - {"open"}
    assert set(ACTION_LABELS) == set(cmd.ACTIONS)


def test_a_fresh_item_waits_for_the_units_to_sign_for() -> None:
    story = story_at(Stage.DEPLOY)
    assert allowed_actions(story.state, story.context(LEAD)) == ["sign_for", "return", "comment"]
    assert allowed_actions(story.state, story.context(SUPERVISOR)) == ["urge", "comment", "cancel"]
    assert allowed_actions(story.state, story.context(LEADER)) == ["comment"]
    assert allowed_actions(story.state, story.context(OUTSIDER)) == []
    assert allowed_actions(story.state, story.context(AUDITOR)) == []


def test_the_report_stage_waits_for_the_supervisor_then_the_leader() -> None:
    story = story_at(Stage.REPORT)
    assert "submit_report" in allowed_actions(story.state, story.context(SUPERVISOR))
    assert "sign_off" not in allowed_actions(story.state, story.context(LEADER))
    story.act(SUPERVISOR, REPORT)
    assert "submit_report" not in allowed_actions(story.state, story.context(SUPERVISOR))
    assert allowed_actions(story.state, story.context(LEADER)) == ["sign_off", "comment"]


@pytest.mark.parametrize("stage", [Stage.IMPLEMENT, Stage.INSPECT, Stage.EVALUATE])
def test_a_listed_action_is_never_refused_for_role_unit_or_stage(stage: Stage) -> None:
    story = story_at(stage)
    for actor in (SUPERVISOR, LEAD, CO, LEADER):
        for action in allowed_actions(story.state, story.context(actor)):
            decision = story.decide(actor, ACTION_PROBES[action])
            assert isinstance(decision, list) or decision.kind.value == "invalid", (actor.id, action)

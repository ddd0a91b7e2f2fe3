"""Content that cannot make sense: refused as invalid by decide, or earlier when the command is parsed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from domain import commands as cmd
from domain.refusals import RefusalKind
from domain.stages import Stage
from tests.unit.story import (
    CLAIM,
    CO,
    LEAD,
    LEADER,
    PASS,
    REPORT,
    SUPERVISOR,
    ItemStory,
    open_item,
    plan,
    story_at,
)

INVALID = RefusalKind.INVALID

DESIGN_ACTIONS = {
    "open", "sign_for", "return", "reassign", "submit_plan", "approve_plan", "reject_plan",
    "report_progress", "request_extension", "decide_extension", "claim_completion", "inspect",
    "submit_report", "sign_off", "evaluate", "urge", "comment", "cancel",
}  # fmt: skip


def test_every_action_of_the_design_has_a_command() -> None:
    assert set(cmd.ACTIONS) == DESIGN_ACTIONS


def test_open_refuses_a_deadline_in_the_past() -> None:
    story = ItemStory()
    reason = story.refused(SUPERVISOR, open_item(deadline="2026-01-31"), INVALID)
    assert "deadline" in reason
    assert not story.state.opened


def test_open_refuses_a_milestone_after_the_deadline() -> None:
    command = open_item(milestones=[{"name": "验收", "due": "2027-01-15"}])
    assert "milestone after the deadline" in ItemStory().refused(SUPERVISOR, command, INVALID)


def test_open_refuses_a_milestone_already_past() -> None:
    command = open_item(milestones=[{"name": "摸底", "due": "2026-09-01"}])
    ItemStory().refused(SUPERVISOR, command, INVALID)


def test_plan_refuses_a_milestone_after_the_deadline() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    reason = story.refused(LEAD, plan(("验收", "2027-02-01")), INVALID)
    assert "验收" in reason


def test_plan_refuses_a_milestone_in_the_past() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    assert "future" in story.refused(LEAD, plan(("摸底", "2026-09-01")), INVALID)


def test_progress_refuses_an_unknown_milestone() -> None:
    story = story_at(Stage.IMPLEMENT)
    progress = cmd.ReportProgress(summary="进展", percent=30, milestones_done=["不存在的节点"])
    assert "不存在的节点" in story.refused(LEAD, progress, INVALID)


def test_extension_must_be_later_than_the_current_deadline() -> None:
    story = story_at(Stage.IMPLEMENT)
    earlier = cmd.RequestExtension(new_deadline="2026-12-01", reason="想提前")
    assert "later than the current" in story.refused(LEAD, earlier, INVALID)


def test_rectify_deadline_must_be_in_the_future() -> None:
    story = story_at(Stage.INSPECT)
    rectify = cmd.Inspect(result="rectify", findings="f", requirements="r", new_deadline="2026-01-01")
    story.refused(SUPERVISOR, rectify, INVALID)


def test_reopen_deadline_must_be_in_the_future() -> None:
    story = story_at(Stage.EVALUATE)
    late = cmd.Evaluate(effective=False, rating="poor", new_deadline="2026-01-01")
    story.refused(SUPERVISOR, late, INVALID)


def test_reassign_cannot_hand_the_item_back_to_the_unit_that_returned_it() -> None:
    story = story_at(Stage.DEPLOY)
    story.act(CO, cmd.ReturnAssignment(reason="不属于本单位职责"))
    again = cmd.Reassign(lead_unit="fgw", co_units=["czj"], reason="再议")
    assert "czj" in story.refused(SUPERVISOR, again, INVALID)


def test_sending_a_report_back_needs_instructions() -> None:
    story = story_at(Stage.REPORT)
    story.act(SUPERVISOR, REPORT)
    assert "instructions" in story.refused(LEADER, cmd.SignOff(approve=False), INVALID)


def test_urge_names_only_assigned_units() -> None:
    story = story_at(Stage.IMPLEMENT)
    assert "jyj" in story.refused(SUPERVISOR, cmd.Urge(message="抓紧", units=["jyj"]), INVALID)


def test_refused_commands_leave_the_story_untouched() -> None:
    story = story_at(Stage.IMPLEMENT)
    before = list(story.events)
    story.refused(LEAD, cmd.RequestExtension(new_deadline="2026-10-01", reason="x"), INVALID)
    story.refused(CO, CLAIM, RefusalKind.FORBIDDEN)
    story.refused(SUPERVISOR, PASS, RefusalKind.CONFLICT)
    assert story.events == before


# Command-parse level: these never reach decide.


@pytest.mark.parametrize(
    "fields",
    [
        {"result": "rectify", "findings": "台账不全"},
        {"result": "rectify", "findings": "台账不全", "requirements": "补齐台账"},
        {"result": "rectify", "findings": "台账不全", "new_deadline": "2027-01-31"},
    ],
    ids=["no-terms", "no-deadline", "no-requirements"],
)
def test_rectify_without_terms_is_rejected_when_parsed(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="rectify needs requirements and new_deadline"):
        cmd.Inspect.model_validate(fields)


def test_pass_needs_no_terms() -> None:
    assert cmd.Inspect.model_validate({"result": "pass", "findings": "属实"}).new_deadline is None


def test_inspect_result_is_pass_or_rectify() -> None:
    with pytest.raises(ValidationError):
        cmd.Inspect.model_validate({"result": "maybe", "findings": "?"})


def test_commands_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="extra"):
        cmd.SignFor.model_validate({"unit": "fgw"})


def test_a_unit_cannot_be_both_lead_and_co_unit() -> None:
    with pytest.raises(ValidationError, match="duplicate"):
        open_item(co_units=["fgw"])


def test_milestone_names_are_distinct_within_a_plan() -> None:
    with pytest.raises(ValidationError, match="duplicate"):
        plan(("节点", "2026-11-01"), ("节点", "2026-11-15"))


@pytest.mark.parametrize("percent", [-1, 101])
def test_progress_percent_is_between_0_and_100(percent: int) -> None:
    with pytest.raises(ValidationError):
        cmd.ReportProgress(summary="进展", percent=percent)


@pytest.mark.parametrize("blank", ["", "   "])
def test_reasons_may_not_be_blank(blank: str) -> None:
    with pytest.raises(ValidationError):
        cmd.ReturnAssignment(reason=blank)


def test_open_refuses_a_naive_deadline() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        open_item(deadline="2026-12-31T18:00:00")


def test_attachments_are_pinned_by_a_sha256() -> None:
    with pytest.raises(ValidationError):
        cmd.Attachment(name="方案.pdf", sha256="not-a-hash")
    assert cmd.Attachment(name="方案.pdf", sha256="0" * 64).uri is None

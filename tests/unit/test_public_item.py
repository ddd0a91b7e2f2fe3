"""The API's public item: its own schema, mapped field by field from the domain's state.

`ItemPublic` is no longer the domain's `ItemState` with two fields added; these tests hold the
mapping to what the API promised before the split: every field of the state, in the same JSON,
plus `stage_label` and `overdue`, and nothing the OpenAPI schema does not describe.
"""

from __future__ import annotations

from datetime import timedelta

import jsonschema_rs
import pytest
from pydantic import TypeAdapter

from api.schemas import ItemPublic, item_public
from domain.dues import weekends_only
from domain.ladder import DEFAULT_LADDER, AppliedPolicy, Level, arm_rungs
from domain.stages import Stage
from domain.state import ItemState, StepLadder
from domain.vocabulary import Category, Priority
from tests.unit.story import OPEN_STAGES, START, story_at


def _with_ladder(state: ItemState) -> ItemState:
    """The state with a policy and an armed ladder, as the workflow's ladder events leave it."""
    policy = AppliedPolicy(
        policy_id="other/normal",
        version=1,
        category=Category.OTHER,
        priority=Priority.NORMAL,
        rungs=DEFAULT_LADDER.rungs,
    )
    due = START + timedelta(days=10)
    ladder = StepLadder(
        step="submit_plan",
        due=due,
        rungs=tuple(arm_rungs(policy, due, weekends_only)),
        policy_id=policy.policy_id,
        policy_version=1,
        calendar="weekends-only",
        reached=Level.REMINDER,
    )
    return state.model_copy(update={"policy": policy, "ladders": {"submit_plan": ladder}})


STATES = {
    **{stage.value: story_at(stage).state for stage in (*OPEN_STAGES, Stage.CLOSED, Stage.CANCELLED)},
    "deploy_with_ladder": _with_ladder(story_at(Stage.DEPLOY).state),
    "never_opened": ItemState(id="x"),
}


@pytest.mark.parametrize("name", STATES)
def test_the_public_item_carries_every_field_of_the_state_as_before(name: str) -> None:
    state = STATES[name]
    now = START + timedelta(days=400)  # everything pending is overdue by then
    public = item_public(state, now).model_dump(mode="json")
    overdue = any(step.due is not None for step in state.pending)
    assert public == {**state.model_dump(mode="json"), "stage_label": state.stage.label, "overdue": overdue}


@pytest.mark.parametrize("name", STATES)
def test_the_public_item_validates_against_its_own_json_schema(name: str) -> None:
    public = item_public(STATES[name], START).model_dump(mode="json")
    jsonschema_rs.validate(TypeAdapter(ItemPublic).json_schema(mode="serialization"), public)
    assert ItemPublic.model_validate(public).model_dump(mode="json") == public


def test_the_public_item_is_not_the_domain_state() -> None:
    assert not issubclass(ItemPublic, ItemState)
    assert set(ItemPublic.model_fields) == {*ItemState.model_fields, "pending", "stage_label", "overdue"}

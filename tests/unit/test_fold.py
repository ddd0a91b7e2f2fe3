"""One fold for workflow, projections and replay: folding stored events gives the state built step by step."""

from __future__ import annotations

import json

import pytest

import domain.fold
from domain import commands as cmd
from domain.events import EVENT_TYPES, RecordedEvent
from domain.fold import evolve, fold
from domain.stages import Stage
from domain.state import ItemState
from tests.unit.story import CO, INEFFECTIVE, ITEM_ID, LEAD, SUPERVISOR, ItemStory, rectify, story_at


def _looped_story() -> ItemStory:
    """An item that went through a return, a reassignment, an extension, a rectify and a reopen."""
    story = story_at(Stage.DEPLOY)
    story.act(LEAD, cmd.SignFor())
    story.act(CO, cmd.ReturnAssignment(reason="不属于本单位职责"))
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=[], reason="由发改委单独承办"))
    story.act(LEAD, cmd.SubmitPlan(measures="一次性推进"))
    story.act(SUPERVISOR, cmd.ApprovePlan())
    story.act(LEAD, cmd.RequestExtension(new_deadline="2027-02-28", reason="资金未到位"))
    story.act(SUPERVISOR, cmd.DecideExtension(approve=True))
    story.act(LEAD, cmd.ClaimCompletion(summary="完成"))
    story.act(SUPERVISOR, rectify("2027-03-31"))
    story.act(LEAD, cmd.ClaimCompletion(summary="整改完成"))
    story.act(SUPERVISOR, cmd.Inspect(result="pass", findings="属实"))
    story.act(SUPERVISOR, cmd.SubmitReport(summary="报告"))
    story.act(SUPERVISOR.model_copy(update={"id": "x"}), cmd.AddComment(text="督查室补充"))
    return story


STORIES = {
    "closed": lambda: story_at(Stage.CLOSED),
    "cancelled": lambda: story_at(Stage.CANCELLED),
    "looped": _looped_story,
}


@pytest.fixture(params=sorted(STORIES))
def story(request: pytest.FixtureRequest) -> ItemStory:
    return STORIES[request.param]()


def test_fold_of_the_events_equals_the_incrementally_evolved_state(story: ItemStory) -> None:
    assert fold(story.events) == story.state


def test_fold_of_events_read_back_from_json_equals_the_state(story: ItemStory) -> None:
    stored = [json.dumps(e.canonical(), ensure_ascii=False, sort_keys=True) for e in story.events]
    replayed = fold(RecordedEvent.model_validate_json(line) for line in stored)
    assert replayed == story.state


def test_folding_a_prefix_then_the_rest_equals_folding_everything(story: ItemStory) -> None:
    for cut in range(len(story.events) + 1):
        assert fold(story.events[cut:], fold(story.events[:cut])) == story.state


def test_state_as_of_any_event_is_the_fold_up_to_it(story: ItemStory) -> None:
    replayed = ItemState()
    for i, event in enumerate(story.events, start=1):
        replayed = evolve(replayed, event)
        assert replayed == fold(story.events[:i])
        assert (replayed.last_seq, replayed.updated_at) == (event.seq, event.occurred_at)


def test_item_state_round_trips_through_json(story: ItemStory) -> None:
    assert ItemState.model_validate_json(story.state.model_dump_json()) == story.state
    assert ItemState.model_validate(story.state.model_dump(mode="json")) == story.state


def test_every_event_carries_the_item_id_and_its_typed_body(story: ItemStory) -> None:
    for event in story.events:
        assert event.item_id == ITEM_ID
        assert type(event.body()) is EVENT_TYPES[event.type]
        assert event.body().model_dump(mode="json") == event.payload


def test_the_looped_story_ends_where_expected() -> None:
    state = _looped_story().state
    assert (state.stage, state.units(), state.rectify_rounds) == (Stage.REPORT, ("fgw",), 1)
    assert state.returns == {"czj": 1}


def test_a_reopened_item_folds_like_it_evolved() -> None:
    story = story_at(Stage.EVALUATE)
    story.act(SUPERVISOR, INEFFECTIVE)
    assert fold(story.events) == story.state


def test_the_folds_own_copy_gives_what_pydantics_model_copy_gives(
    story: ItemStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """domain.fold copies models without model_copy's machinery: the same state at every step,
    down to which fields are set (what exclude_unset dumps), nested models included."""
    ours = [fold(story.events[:cut]) for cut in range(1, len(story.events) + 1)]
    monkeypatch.setattr(domain.fold, "_copy", lambda model, update: model.model_copy(update=update))
    pydantics = [fold(story.events[:cut]) for cut in range(1, len(story.events) + 1)]

    for mine, theirs in zip(ours, pydantics, strict=True):
        assert mine == theirs
        assert mine.model_dump(exclude_unset=True) == theirs.model_dump(exclude_unset=True)
        assert mine.model_dump_json() == theirs.model_dump_json()

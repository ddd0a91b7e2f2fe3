"""The field-by-field difference of two states of one item."""

from __future__ import annotations

from audit.diff import state_changes
from domain.fold import fold
from tests.store.stories import ItemStory


def test_diff_names_each_changed_field_with_old_and_new_values() -> None:
    story = ItemStory("item-d")
    story.open()
    opened = fold(story.events)
    story.into_implementation()
    approved = fold(story.events)

    changes = state_changes(opened, approved)

    assert 'stage: "deploy" → "implement"' in changes
    assert any(line.startswith('assignments.zjj.status: "pending" → "signed"') for line in changes)
    assert any(line.startswith("plan.measures: ∅ → ") for line in changes)
    assert state_changes(approved, approved) == []

"""Deploy safety: the current workflow code replays every recorded history without nondeterminism.

Histories live in tests/histories/*.json (recorded by `python -m tests.histories.record`). A
change to SupervisionItemWorkflow that would break items already running fails here; make such
a change behind `workflow.patched` (README, "Workflow histories").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.item import SupervisionItemWorkflow

HISTORIES = {
    path.stem: path.read_text(encoding="utf-8")
    for path in sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))
}


def test_there_are_recorded_histories_to_replay() -> None:
    assert len(HISTORIES) >= 3


@pytest.mark.parametrize("name", HISTORIES)
async def test_the_current_workflow_replays_a_recorded_history(name: str) -> None:
    history = WorkflowHistory.from_json(f"item-history-{name}", HISTORIES[name])
    replayer = Replayer(workflows=[SupervisionItemWorkflow], data_converter=pydantic_data_converter)

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None, f"{name}.json: {result.replay_failure}"

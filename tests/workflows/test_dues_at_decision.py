"""An action's dues are counted from the instant the workflow decides at, not the API's clock.

The API counts dues at its own `now` and sends them with the request; a request counted on
another Beijing date than the workflow's instant (just before midnight, a skewed host clock, an
update queued behind others) has its dues counted again, on the Chinese calendar, by a local
activity whose result the history records. Dues counted on the workflow's own date are used as
sent, with nothing added to the history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from adapters.workdays import dues_at
from domain.dues import ComputedDues, compute_dues, weekends_only
from domain.events import RecordedEvent
from domain.people import Actor
from store.event_log import EventLog
from tests.fixtures.temporal import run_item_worker
from tests.workflows.driver import CO, LEAD, SUPERVISOR, ItemDriver
from workflows.item import SupervisionItemWorkflow
from workflows.messages import ActionRequest, workflow_id_for

LOCAL_ACTIVITY_MARKER = "core_local_activity"
TEST_CALENDAR = "weekends-only (test)"  # the driver's


class UndatedDuesDriver(ItemDriver):
    """An item driver whose dues do not say which day they were counted from, as an API from
    before `ComputedDues.counted_from` sent them (still signed and verified the same way)."""

    def request(self, action: str, actor: Actor, body: dict[str, Any] | None = None) -> ActionRequest:
        """The action with dues counted now, their day left out."""
        sent = super().request(action, actor, body)
        undated = ComputedDues.model_validate(sent.dues.model_dump(exclude={"counted_from"}))
        return sent.model_copy(update={"dues": undated})


@pytest.fixture
async def server_and_queue(
    time_skipping_server: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[WorkflowEnvironment, str]]:
    async with run_item_worker(time_skipping_server.client, sessions) as task_queue:
        yield time_skipping_server, task_queue


async def _open_and_reject_plan(item: ItemDriver) -> None:
    """立项, both units sign for, the plan is submitted and sent back: two actions that record dues."""
    await item.open()
    await item.act("sign_for", LEAD)
    await item.act("sign_for", CO)
    await item.act("submit_plan", LEAD, {"measures": "分三批推进", "milestones": []})
    await item.act("reject_plan", SUPERVISOR, {"reason": "措施不具体"})


def _one(events: Sequence[RecordedEvent], event_type: str) -> RecordedEvent:
    [event] = [e for e in events if e.type == event_type]
    return event


async def _history(item: ItemDriver) -> WorkflowHistory:
    return await item.client.get_workflow_handle(workflow_id_for(item.item_id)).fetch_history()


def _markers(history: WorkflowHistory) -> list[str]:
    return [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]


async def _replays(history: WorkflowHistory) -> None:
    replayer = Replayer(workflows=[SupervisionItemWorkflow], data_converter=pydantic_data_converter)
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None, replayed.replay_failure


@pytest.mark.parametrize(
    "skew",
    [timedelta(days=-1), timedelta(days=1), None],
    ids=["api-a-day-behind", "api-a-day-ahead", "dues-without-their-day"],
)
async def test_dues_counted_on_another_day_are_counted_again_from_the_workflows_instant(
    server_and_queue: tuple[WorkflowEnvironment, str],
    sessions: async_sessionmaker[AsyncSession],
    skew: timedelta | None,
) -> None:
    env, task_queue = server_and_queue
    if skew is None:
        item: ItemDriver = UndatedDuesDriver(env.client, task_queue)
    else:
        item = ItemDriver(env.client, task_queue, clock_skew=skew)

    await _open_and_reject_plan(item)

    events = await EventLog(sessions).read(item.item_id)
    opened, rejected = _one(events, "ItemOpened"), _one(events, "PlanRejected")
    at_opening, at_rejection = dues_at(opened.occurred_at), dues_at(rejected.occurred_at)
    assert opened.payload["calendar"] == at_opening.calendar != TEST_CALENDAR
    assert datetime.fromisoformat(opened.payload["sign_for_due"]) == at_opening.sign_for
    assert datetime.fromisoformat(opened.payload["plan_due"]) == at_opening.plan
    assert datetime.fromisoformat(rejected.payload["plan_due"]) == at_rejection.plan
    assert rejected.payload["calendar"] == at_rejection.calendar
    history = await _history(item)
    # One count per action (five), each recorded in the history; the validator never counts.
    assert _markers(history).count(LOCAL_ACTIVITY_MARKER) == 5
    await _replays(history)


async def test_dues_counted_on_the_workflows_day_are_recorded_as_sent_with_nothing_counted_again(
    server_and_queue: tuple[WorkflowEnvironment, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    env, task_queue = server_and_queue
    item = ItemDriver(env.client, task_queue)

    await _open_and_reject_plan(item)

    events = await EventLog(sessions).read(item.item_id)
    opened, rejected = _one(events, "ItemOpened"), _one(events, "PlanRejected")
    sent = compute_dues(opened.occurred_at, weekends_only, TEST_CALENDAR)
    assert opened.payload["calendar"] == rejected.payload["calendar"] == TEST_CALENDAR
    assert datetime.fromisoformat(opened.payload["sign_for_due"]) == sent.sign_for
    assert datetime.fromisoformat(opened.payload["plan_due"]) == sent.plan
    history = await _history(item)
    assert LOCAL_ACTIVITY_MARKER not in _markers(history)
    await _replays(history)

"""SupervisionItemWorkflow on the time-skipping server, with the real store behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.audit import AuditActivities
from domain.events import SYSTEM_EVENT_TYPES, RecordedEvent
from domain.fold import fold
from domain.stages import Stage
from store.event_log import EventLog
from store.numbers import ItemNumbers
from tests.fixtures.temporal import run_item_worker
from tests.workflows.driver import (
    CO,
    LEAD,
    LEADER,
    SUPERVISOR,
    ItemDriver,
    drive_to_closed,
    drive_to_implement,
    future,
)
from workflows.item import SupervisionItemWorkflow
from workflows.messages import APPEND_EVENTS_ACTIVITY, AppendEvents, AppendOutcome, workflow_id_for


@pytest.fixture
async def item(
    time_skipping_server: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[ItemDriver]:
    async with run_item_worker(time_skipping_server.client, sessions) as task_queue:
        yield ItemDriver(time_skipping_server.client, task_queue)


def actions(events: Sequence[RecordedEvent]) -> list[str]:
    """The types of the events people's actions recorded (ladder and delivery events left out)."""
    return [e.type for e in events if e.type not in SYSTEM_EVENT_TYPES]


def refusal_type(error: WorkflowUpdateFailedError) -> str | None:
    cause = error.cause
    return cause.type if isinstance(cause, ApplicationError) else None


async def test_item_runs_from_open_to_closed_and_its_workflow_ends(
    item: ItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await drive_to_closed(item)

    final = await item.client.get_workflow_handle_for(
        SupervisionItemWorkflow.run, workflow_id_for(item.item_id)
    ).result()
    events = await EventLog(sessions).read(item.item_id)
    assert actions(events) == [
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
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert final.stage is Stage.CLOSED
    assert fold(events) == final
    assert (await EventLog(sessions).verify_item(item.item_id)).ok
    assert final.number.startswith("DB-")


async def test_rectify_and_ineffective_evaluation_send_the_item_back_to_implement(
    item: ItemDriver,
) -> None:
    await drive_to_implement(item)
    await item.act(
        "report_progress", LEAD, {"summary": "完成", "percent": 90, "milestones_done": ["首批开工"]}
    )
    await item.act("claim_completion", LEAD, {"summary": "完成"})
    rectified = await item.act(
        "inspect",
        SUPERVISOR,
        {"result": "rectify", "findings": "台账不全", "requirements": "补齐台账", "new_deadline": future(60)},
    )
    assert rectified.state.stage is Stage.IMPLEMENT
    assert rectified.state.rectify_rounds == 1

    await item.act("claim_completion", LEAD, {"summary": "已整改"})
    await item.act("inspect", SUPERVISOR, {"result": "pass", "findings": "整改到位"})
    await item.act("submit_report", SUPERVISOR, {"summary": "报告"})
    await item.act("sign_off", LEADER, {"approve": True, "instructions": "持续跟踪"})
    reopened = await item.act("evaluate", SUPERVISOR, {"effective": False, "rating": "fair"})

    assert reopened.state.stage is Stage.IMPLEMENT
    assert reopened.state.reopen_rounds == 1
    assert reopened.events[0].type == "ItemReopened"


async def test_refused_actions_reach_neither_the_history_nor_the_audit_log(
    item: ItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await item.open()

    with pytest.raises(WorkflowUpdateFailedError) as wrong_role:
        await item.act("sign_for", SUPERVISOR)
    with pytest.raises(WorkflowUpdateFailedError) as wrong_stage:
        await item.act("claim_completion", LEAD, {"summary": "完成"})
    with pytest.raises(WorkflowUpdateFailedError) as malformed:
        await item.act("report_progress", LEAD, {"summary": "x", "percent": 150})

    assert refusal_type(wrong_role.value) == "forbidden"
    assert refusal_type(wrong_stage.value) == "conflict"
    assert "正在等待" in str(wrong_stage.value.cause)
    assert refusal_type(malformed.value) == "invalid"
    assert actions(await EventLog(sessions).read(item.item_id)) == ["ItemOpened"]
    history = await item.client.get_workflow_handle(workflow_id_for(item.item_id)).fetch_history()
    accepted = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert len(accepted) == 1


async def test_opening_the_same_item_twice_records_one_opening(
    item: ItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await item.open()

    with pytest.raises(WorkflowUpdateFailedError) as again:
        await item.open()

    assert refusal_type(again.value) == "conflict"
    assert actions(await EventLog(sessions).read(item.item_id)) == ["ItemOpened"]
    assert (await item.state()).number == first.state.number


async def test_both_units_signing_for_at_once_get_consecutive_seqs(
    item: ItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await item.open()

    await asyncio.gather(item.act("sign_for", LEAD), item.act("sign_for", CO))

    events = await EventLog(sessions).read(item.item_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert actions(events) == ["ItemOpened", "AssignmentSigned", "AssignmentSigned"]
    assert {e.actor.unit for e in events if e.type == "AssignmentSigned"} == {"fgw", "czj"}
    assert (await EventLog(sessions).verify_item(item.item_id)).ok


class CommitThenFailOnce(AuditActivities):
    """The append commits, then the activity dies before reporting success — once."""

    def __init__(self, event_log: EventLog, numbers: ItemNumbers) -> None:
        super().__init__(event_log, numbers)
        self.outcomes: list[AppendOutcome] = []
        self.failed = False

    @activity.defn(name=APPEND_EVENTS_ACTIVITY)
    async def append_events(self, request: AppendEvents) -> AppendOutcome:
        outcome = await super().append_events(request)
        self.outcomes.append(outcome)
        if not self.failed:
            self.failed = True
            raise RuntimeError("连接在提交后中断 / connection lost after commit")
        return outcome


async def test_append_retried_after_a_committed_attempt_leaves_one_row_per_event(
    time_skipping_server: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    flaky = CommitThenFailOnce(EventLog(sessions), ItemNumbers(sessions))
    async with run_item_worker(time_skipping_server.client, sessions, audit=flaky) as task_queue:
        item = ItemDriver(time_skipping_server.client, task_queue)
        await item.open()

    events = await EventLog(sessions).read(item.item_id)
    # The opening and its ladders are one append: retried whole, written once.
    assert [(o.appended, o.already_present) for o in flaky.outcomes] == [(len(events), 0), (0, len(events))]
    assert actions(events) == ["ItemOpened"]


async def test_a_new_worker_picks_up_a_running_item_where_the_old_one_stopped(
    dev_server: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # On the dev server: on the time-skipping server the update after the restart was seen to hang.
    client = dev_server.client
    async with run_item_worker(client, sessions) as task_queue:
        item = ItemDriver(client, task_queue)
        await item.open()
        await item.act("sign_for", LEAD)

    async with run_item_worker(client, sessions, task_queue=task_queue):
        result = await item.act("sign_for", CO)

    assert actions(await EventLog(sessions).read(item.item_id)) == [
        "ItemOpened",
        "AssignmentSigned",
        "AssignmentSigned",
    ]
    assert fold(await EventLog(sessions).read(item.item_id)) == result.state

"""One item through every stage and both loops, over HTTP, on the Temporal dev server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client

from domain.events import SYSTEM_EVENT_TYPES, RecordedEvent
from domain.fold import fold
from domain.state import ItemState
from tests.api.conftest import AUDITOR, CO, LEAD, LEADER, SUPERVISOR, Api
from workflows.item import SupervisionItemWorkflow
from workflows.messages import workflow_id_for

pytestmark = pytest.mark.e2e


def later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def step(api: Api, item_id: str, action: str, user: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.act(item_id, action, user, body)
    assert response.status_code == 200, f"{action}: {response.text}"
    result: dict[str, Any] = response.json()
    return result


async def finish_implementation(api: Api, item_id: str, summary: str) -> None:
    await step(api, item_id, "report_progress", LEAD, {"summary": summary, "percent": 100})
    await step(api, item_id, "claim_completion", LEAD, {"summary": summary})


async def report_and_sign_off(api: Api, item_id: str) -> None:
    await step(api, item_id, "inspect", SUPERVISOR, {"result": "pass", "findings": "现场核查属实"})
    await step(api, item_id, "submit_report", SUPERVISOR, {"summary": "办理情况报告"})
    await step(api, item_id, "sign_off", LEADER, {"approve": True, "instructions": "同意，继续跟踪"})


async def test_item_goes_through_both_loops_to_closed_and_its_log_replays_to_the_workflow_state(
    api: Api, temporal_client: Client
) -> None:
    item = await api.open()
    item_id = item["id"]
    assert item["stage"] == "deploy"

    await step(api, item_id, "sign_for", LEAD, {})
    await step(api, item_id, "sign_for", CO, {})
    await step(
        api,
        item_id,
        "submit_plan",
        LEAD,
        {"measures": "成立专班，分三批推进", "milestones": [{"name": "首批开工", "due": later(30)}]},
    )
    approved = await step(api, item_id, "approve_plan", SUPERVISOR, {"comment": "同意"})
    assert approved["stage"] == "implement"
    await step(
        api,
        item_id,
        "report_progress",
        LEAD,
        {"summary": "首批开工", "percent": 40, "milestones_done": ["首批开工"], "problems": "资金到位慢"},
    )
    await step(api, item_id, "claim_completion", LEAD, {"summary": "已完成"})
    rectify = await step(
        api,
        item_id,
        "inspect",
        SUPERVISOR,
        {"result": "rectify", "findings": "台账缺失", "requirements": "补齐台账", "new_deadline": later(90)},
    )
    assert rectify["stage"] == "implement"
    await finish_implementation(api, item_id, "已整改")
    await report_and_sign_off(api, item_id)
    reopened = await step(
        api,
        item_id,
        "evaluate",
        SUPERVISOR,
        {"effective": False, "rating": "fair", "comment": "群众满意度不高", "new_deadline": later(120)},
    )
    assert reopened["stage"] == "implement"
    await finish_implementation(api, item_id, "再次整改完成")
    await report_and_sign_off(api, item_id)
    closed = await step(api, item_id, "evaluate", SUPERVISOR, {"effective": True, "rating": "good"})
    assert closed["stage"] == "closed"

    response = await api.get(f"/api/items/{item_id}/events", AUDITOR)
    assert response.status_code == 200
    events = [RecordedEvent.model_validate(e) for e in response.json()]
    assert [e.type for e in events if e.type not in SYSTEM_EVENT_TYPES] == [
        "ItemOpened",
        "AssignmentSigned",
        "AssignmentSigned",
        "PlanSubmitted",
        "PlanApproved",
        "ProgressReported",
        "CompletionClaimed",
        "RectificationOrdered",
        "ProgressReported",
        "CompletionClaimed",
        "InspectionPassed",
        "ReportSubmitted",
        "ReportApproved",
        "ItemReopened",
        "ProgressReported",
        "CompletionClaimed",
        "InspectionPassed",
        "ReportSubmitted",
        "ReportApproved",
        "ItemClosed",
    ]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))

    verification = (await api.get(f"/api/items/{item_id}/verify", AUDITOR)).json()
    assert verification["ok"] is True
    assert verification["events_checked"] == len(events)

    handle = temporal_client.get_workflow_handle_for(SupervisionItemWorkflow.run, workflow_id_for(item_id))
    workflow_state: ItemState = await handle.result()
    assert fold(events) == workflow_state
    read_model = (await api.get(f"/api/items/{item_id}", SUPERVISOR)).json()
    assert ItemState.model_validate(read_model) == workflow_state

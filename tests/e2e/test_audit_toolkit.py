"""The auditor's toolkit on a real item: replay at chosen instants and reconciliation with Temporal.

The item goes from 立项 to 办结 over HTTP on the dev server with a real worker; the auditor then
replays it at five instants and reconciles its audit log with the workflow's history.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from temporalio.client import Client

import cli
from audit.reconcile import reconcile
from domain.events import CommentAdded, record
from store.event_log import EventLog, StoredEvent
from store.schema import audit_events
from tests.api.conftest import AUDITOR, CO, LEAD, LEADER, SUPERVISOR, Api
from tests.store.tampering import tamper
from workflows.journal import event_id

pytestmark = pytest.mark.e2e


async def _step(api: Api, item_id: str, action: str, user: str, body: dict[str, Any] | None = None) -> None:
    response = await api.act(item_id, action, user, body)
    assert response.status_code == 200, f"{action}: {response.text}"


async def closed_item(api: Api) -> str:
    """One item along the straight path to 办结归档; returns its id."""
    item_id: str = (await api.open())["id"]
    milestone_due = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    await _step(api, item_id, "sign_for", LEAD)
    await _step(api, item_id, "sign_for", CO)
    plan = {"measures": "分三批推进", "milestones": [{"name": "首批开工", "due": milestone_due}]}
    await _step(api, item_id, "submit_plan", LEAD, plan)
    await _step(api, item_id, "approve_plan", SUPERVISOR, {"comment": "同意"})
    await _step(
        api,
        item_id,
        "report_progress",
        LEAD,
        {"summary": "首批完成", "percent": 100, "milestones_done": ["首批开工"]},
    )
    await _step(api, item_id, "claim_completion", LEAD, {"summary": "全部完成"})
    await _step(api, item_id, "inspect", SUPERVISOR, {"result": "pass", "findings": "属实"})
    await _step(api, item_id, "submit_report", SUPERVISOR, {"summary": "办理情况报告"})
    await _step(api, item_id, "sign_off", LEADER, {"approve": True})
    await _step(api, item_id, "evaluate", SUPERVISOR, {"effective": True, "rating": "good"})
    return item_id


async def test_as_of_replay_returns_the_stage_the_item_was_in_at_five_instants(api: Api) -> None:
    item_id = await closed_item(api)
    events = (await api.get(f"/api/items/{item_id}/events", AUDITOR)).json()
    at = {event["type"]: event["occurred_at"] for event in events}
    before_open = (datetime.fromisoformat(at["ItemOpened"]) - timedelta(seconds=1)).isoformat()
    chosen = {
        at["ItemOpened"]: "deploy",
        at["PlanApproved"]: "implement",
        at["CompletionClaimed"]: "inspect",
        at["InspectionPassed"]: "report",
        at["ReportApproved"]: "evaluate",
    }

    stages = {}
    for instant in chosen:
        response = await api.get(f"/api/items/{item_id}/state", AUDITOR, params={"as_of": instant})
        assert response.status_code == 200, response.text
        stages[instant] = response.json()["stage"]
    unopened = (await api.get(f"/api/items/{item_id}/state", AUDITOR, params={"as_of": before_open})).json()

    assert stages == chosen
    assert unopened["opened"] is False
    assert (await api.get(f"/api/items/{item_id}", AUDITOR)).json()["stage"] == "closed"


async def test_reconcile_agrees_on_a_finished_item_and_reports_a_missing_audit_row(
    api: Api, temporal_client: Client, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    item_id = await closed_item(api)
    log = EventLog(api.sessions)

    agreed = await reconcile(temporal_client, log, item_id)
    assert agreed.differences == []
    assert agreed.updates == 11
    assert agreed.history_events == agreed.log_events

    monkeypatch.setenv("DATABASE_URL", api.settings.database_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_client.service_client.config.target_host)
    capfd.readouterr()
    assert await asyncio.to_thread(cli.main, ["audit", "reconcile", item_id]) == 0
    assert "in agreement" in capfd.readouterr().out

    async with api.sessions() as session:
        last = await session.scalar(
            select(func.max(audit_events.c.seq)).where(audit_events.c.item_id == item_id)
        )
    await tamper(
        api.sessions,
        [delete(audit_events).where(audit_events.c.item_id == item_id, audit_events.c.seq == last)],
    )
    differing = await reconcile(temporal_client, log, item_id)
    code = await asyncio.to_thread(cli.main, ["audit", "reconcile", item_id])
    out, err = capfd.readouterr()

    assert any(f"lacks seq {last} ItemClosed" in line for line in differing.differences)
    assert any('stage: "closed" → "evaluate"' in line for line in differing.differences)
    assert code == 1
    assert f"seq {last} ItemClosed" in out
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def _settled(log: EventLog, item_id: str) -> StoredEvent:
    """The item's last event once its deliveries have stopped appending (nothing new for a second)."""
    events = await log.read(item_id)
    for _ in range(30):
        await asyncio.sleep(1)
        latest = await log.read(item_id)
        if len(latest) == len(events):
            return latest[-1]
        events = latest
    pytest.fail("the item kept appending")


async def test_verify_reports_a_workflow_parted_from_its_log_until_the_next_action_heals_it(
    api: Api, temporal_client: Client, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    item_id: str = (await api.open())["id"]
    await _step(api, item_id, "sign_for", LEAD)
    log = EventLog(api.sessions)
    head = await _settled(log, item_id)
    # What a lost workflow task under the old local store calls left behind: a logged event the
    # workflow never recorded.
    stray = record(
        CommentAdded(text="工作流不知道的评论"),
        event_id=event_id(item_id, head.seq + 1),
        item_id=item_id,
        seq=head.seq + 1,
        stage=head.stage,
        actor=head.actor,
        occurred_at=datetime.now(UTC),
    )
    await log.append([stray])
    monkeypatch.setenv("DATABASE_URL", api.settings.database_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_client.service_client.config.target_host)

    report = (await api.get(f"/api/items/{item_id}/verify", AUDITOR)).json()
    assert (report["ok"], report["kind"], report["seq"]) == (False, "workflow_split", head.seq + 1)
    assert f"log at seq {head.seq + 1}" in report["problem"]
    capfd.readouterr()
    assert await asyncio.to_thread(cli.main, ["audit", "verify"]) == 1
    assert "[workflow_split]" in capfd.readouterr().err
    assert (await api.get("/api/audit/verify", AUDITOR)).json()["ok"] is True  # the chain itself is intact

    await _step(api, item_id, "sign_for", CO)
    assert (await api.get(f"/api/items/{item_id}/verify", AUDITOR)).json()["ok"] is True
    capfd.readouterr()
    assert await asyncio.to_thread(cli.main, ["audit", "verify"]) == 0
    assert "workflows agree" in capfd.readouterr().out

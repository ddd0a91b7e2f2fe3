"""A 月督促 request is recorded in the chain of every item it listed, as the daily digest records its
notices: one delivered event per recipient, the chain still verifies, and a second trigger adds nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from temporalio.client import Client

from adapters.workdays import ChinaWorkdays
from domain.instants import CHINA
from domain.rhythms import Rhythm, nth_workday
from store.event_log import EventLog, StoredEvent
from store.verification import verify_audit_trail
from tests.api.conftest import Api, running_api
from workflows.rhythm_messages import RhythmReport, RhythmRun
from workflows.rhythms import RhythmWorkflow


@pytest.fixture
async def api(database_url: str, temporal_client: Client) -> AsyncIterator[Api]:
    """The app with a real worker (items, digest and rhythms) on the dev server."""
    async with running_api(database_url, temporal_client) as served:
        yield served


def run_day() -> date:
    """Today in Beijing, or this month's 5th working day if that is still to come: the request is due."""
    today = datetime.now(UTC).astimezone(CHINA).date()
    return max(today, nth_workday(today.year, today.month, 5, ChinaWorkdays().is_workday))


def requested(events: list[StoredEvent]) -> list[StoredEvent]:
    """The item's records of 月督促 requests."""
    return [e for e in events if e.type == "NotificationDelivered" and e.payload["kind"] == "monthly"]


async def monthly_run(client: Client, api: Api, day: date) -> RhythmReport:
    """The monthly rhythm's workflow for `day`, on the API's worker (which serves the rhythms too)."""
    report: RhythmReport = await client.execute_workflow(
        RhythmWorkflow.run,
        RhythmRun(rhythm=Rhythm.MONTHLY, day=day.isoformat()),
        id=f"rhythm-audit-{day}-{api.settings.task_queue}",
        task_queue=api.settings.task_queue,
    )
    return report


async def test_the_request_is_recorded_in_each_listed_items_chain_once(
    api: Api, temporal_client: Client
) -> None:
    item = await api.open()
    log = EventLog(api.sessions)
    day = run_day()
    report = await monthly_run(temporal_client, api, day)
    assert report.ran
    [covered] = [c for c in report.covered if c.item_id == item["id"]]
    assert sorted(covered.recipients) == ["fgw-li", "fgw-zhou"]

    for _ in range(200):  # the item's workflow appends on its own time
        records = requested(list(await log.read(item["id"])))
        if len(records) == 2:
            break
        await asyncio.sleep(0.05)
    assert sorted(r.payload["recipient"] for r in records) == ["fgw-li", "fgw-zhou"]
    period = f"{day.year}-{day.month:02d}"
    for record in records:
        assert record.payload["notice_seq"] == covered.seq
        assert record.payload["detail"].startswith(f"月督促 {period} / monthly progress request")
        assert record.payload["channel"] == "inbox"

    again = await monthly_run(temporal_client, api, day)
    assert (again.ran, again.covered) == (False, [])
    await asyncio.sleep(0.5)
    assert len(requested(list(await log.read(item["id"])))) == 2
    report_ok = await verify_audit_trail(api.sessions, item_id=item["id"])
    assert report_ok.ok, report_ok.one_line()

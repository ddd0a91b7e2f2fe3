"""An API whose clock runs a day behind the workflow's: the deadlines recorded are counted from the
workflow's own day, through the real API, gateway, signature check, worker and store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client

from adapters.workdays import dues_at
from api import item_actions
from api.opening import open_one
from api.schemas import ItemCreate
from api.services import Services
from bootstrap import api_services
from domain.events import RecordedEvent
from domain.people import Actor
from store.db import make_engine
from store.event_log import EventLog
from tests.api.conftest import SUPERVISOR, Api
from tests.builders import open_body

LEAD, CO = "fgw-li", "czj-wu"


def _a_day_behind() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)


@pytest.fixture
async def services(api: Api, temporal_client: Client) -> AsyncIterator[Services]:
    """The API's own services on the app's database and worker's task queue."""
    engine = make_engine(api.settings.resolved_database_url)
    try:
        yield api_services(api.settings, engine, temporal_client)
    finally:
        await engine.dispose()


def _one(events: Sequence[RecordedEvent], event_type: str) -> RecordedEvent:
    [event] = [e for e in events if e.type == event_type]
    return event


async def test_an_item_opened_and_acted_on_by_an_api_a_day_behind_records_the_workflows_dues(
    api: Api, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await services.org.user(SUPERVISOR)
    assert user is not None
    supervisor = Actor(id=user.id, role=user.role, unit=user.unit, name=user.name)
    opened = await open_one(services, supervisor, ItemCreate(**open_body()), None, now=_a_day_behind())
    monkeypatch.setattr(item_actions, "_now", _a_day_behind)  # the API host's clock, a day slow
    item_id = opened.item.id
    for unit in (LEAD, CO):
        assert (await api.act(item_id, "sign_for", unit)).status_code == 200
    plan = {"measures": "分三批推进", "milestones": []}
    assert (await api.act(item_id, "submit_plan", LEAD, plan)).status_code == 200
    rejected = await api.act(item_id, "reject_plan", SUPERVISOR, {"reason": "措施不具体"})
    assert rejected.status_code == 200, rejected.text

    events = await EventLog(api.sessions).read(item_id)
    opening, rejection = _one(events, "ItemOpened"), _one(events, "PlanRejected")
    at_opening, at_rejection = dues_at(opening.occurred_at), dues_at(rejection.occurred_at)
    assert datetime.fromisoformat(opening.payload["sign_for_due"]) == at_opening.sign_for
    assert datetime.fromisoformat(opening.payload["plan_due"]) == at_opening.plan
    assert datetime.fromisoformat(rejection.payload["plan_due"]) == at_rejection.plan
    [plan_step] = [step for step in rejected.json()["pending"] if step["step"] == "submit_plan"]
    assert datetime.fromisoformat(plan_step["due"]) == at_rejection.plan

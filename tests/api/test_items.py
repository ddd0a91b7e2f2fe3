"""The happy paths of the API: open, list, read, act, history, replay, verification."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import update

from domain.events import SYSTEM_EVENT_TYPES
from store.schema import idempotency_keys
from tests.api.conftest import (
    AUDITOR,
    CO,
    LEAD,
    LEADER,
    OTHER_UNIT,
    SUPERVISOR,
    SUPERVISOR_2,
    Api,
    open_body,
)


async def test_open_list_get_act_and_read_the_events(api: Api) -> None:
    item = await api.open()
    assert item["stage"] == "deploy"
    assert item["number"].startswith("DB-")
    assert item["lead_unit"] == "fgw"
    assert {step["step"] for step in item["pending"]} >= {"sign_for:fgw", "sign_for:czj", "submit_plan"}

    listed = (await api.get("/api/items", SUPERVISOR)).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == item["id"]

    fetched = await api.get(f"/api/items/{item['id']}", LEAD)
    assert fetched.status_code == 200
    assert fetched.json()["number"] == item["number"]

    signed = await api.act(item["id"], "sign_for", LEAD)
    assert signed.status_code == 200, signed.text
    assert signed.json()["assignments"]["fgw"]["status"] == "signed"

    events = (await api.get(f"/api/items/{item['id']}/events", AUDITOR)).json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events if e["type"] not in SYSTEM_EVENT_TYPES] == [
        "ItemOpened",
        "AssignmentSigned",
    ]
    # Deliveries run beside the item and may append after the action: read the action's own event.
    assert [e["actor"]["id"] for e in events if e["type"] == "AssignmentSigned"] == [LEAD]
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in pairwise(events))
    assert set(events[0]) >= {"id", "seq", "type", "stage", "actor", "occurred_at", "recorded_at", "payload"}


async def test_a_loop_through_plan_approval_enters_implementation(api: Api) -> None:
    item = await api.open()
    for user in (LEAD, CO):
        assert (await api.act(item["id"], "sign_for", user)).status_code == 200
    plan = {"measures": "分片包干，月度调度", "milestones": [{"name": "完成摸底", "due": "2027-03-31"}]}
    assert (await api.act(item["id"], "submit_plan", LEAD, plan)).status_code == 200
    approved = await api.act(item["id"], "approve_plan", SUPERVISOR, {"comment": "同意"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["stage"] == "implement"
    assert len(await api.action_types(item["id"])) == 5


async def test_the_same_idempotency_key_opens_one_item(api: Api) -> None:
    key, body = {"Idempotency-Key": "meeting-2026-07-item-3"}, open_body()
    first = await api.post("/api/items", SUPERVISOR, json=body, headers=key)
    again = await api.post("/api/items", SUPERVISOR, json=body, headers=key)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert await api.action_types(first.json()["id"]) == ["ItemOpened"]

    other_user = await api.post("/api/items", SUPERVISOR_2, json=body, headers=key)
    assert other_user.status_code == 201
    assert other_user.json()["id"] != first.json()["id"]
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 2


async def test_an_idempotency_key_reused_with_another_body_is_422(api: Api) -> None:
    key = {"Idempotency-Key": "k-1"}
    first = await api.post("/api/items", SUPERVISOR, json=open_body(), headers=key)
    other = await api.post("/api/items", SUPERVISOR, json=open_body(title="另一件事"), headers=key)
    assert first.status_code == 201
    assert other.status_code == 422
    assert (
        other.json()["detail"]
        == "Idempotency-Key 已用于不同的请求内容 / the key was used with a different request body"
    )
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 1


async def test_two_requests_with_one_key_at_once_open_one_item(api: Api) -> None:
    key, body = {"Idempotency-Key": "k-race"}, open_body()
    answers = await asyncio.gather(
        *(api.post("/api/items", SUPERVISOR, json=body, headers=key) for _ in range(3))
    )
    assert sorted(answer.status_code for answer in answers) == [200, 200, 201], [a.text for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 1


async def test_an_expired_idempotency_key_opens_a_new_item(api: Api) -> None:
    key = {"Idempotency-Key": "k-yesterday"}
    first = await api.post("/api/items", SUPERVISOR, json=open_body(), headers=key)
    ttl = timedelta(hours=api.settings.idempotency_key_ttl_hours)
    async with api.sessions() as session, session.begin():
        await session.execute(update(idempotency_keys).values(created_at=datetime.now(UTC) - ttl))
    renewed = await api.post("/api/items", SUPERVISOR, json=open_body(title="另一件事"), headers=key)
    assert (first.status_code, renewed.status_code) == (201, 201), renewed.text
    assert renewed.json()["id"] != first.json()["id"]


async def test_list_filters_and_what_each_role_sees(api: Api) -> None:
    housing = await api.open(title="老旧小区改造", lead_unit="fgw", co_units=["czj"])
    roads = await api.open(
        title="农村公路养护", lead_unit="jtj", co_units=[], category="other", priority="normal"
    )

    async def ids(user: str, query: str = "") -> set[str]:
        response = await api.get(f"/api/items{query}", user)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    both = {housing["id"], roads["id"]}
    assert await ids(SUPERVISOR) == both
    assert await ids(LEADER) == both
    assert await ids(AUDITOR) == both
    assert await ids(LEAD) == {housing["id"]}
    assert await ids(CO) == {housing["id"]}
    assert await ids(OTHER_UNIT) == {roads["id"]}

    assert await ids(SUPERVISOR, "?unit=jtj") == {roads["id"]}
    assert await ids(SUPERVISOR, "?category=other") == {roads["id"]}
    assert await ids(SUPERVISOR, "?priority=high") == {housing["id"]}
    assert await ids(SUPERVISOR, "?stage=deploy") == both
    assert await ids(SUPERVISOR, "?stage=implement") == set()
    assert await ids(SUPERVISOR, "?light=green") == both
    assert await ids(SUPERVISOR, "?overdue=false") == both
    assert await ids(SUPERVISOR, "?q=公路") == {roads["id"]}
    assert await ids(LEAD, "?unit=jtj") == set()

    page = (await api.get("/api/items?limit=1&offset=1", SUPERVISOR)).json()
    assert (page["total"], page["total_exact"]) == (2, True)
    assert len(page["items"]) == 1


async def test_state_as_of_replays_only_what_had_happened(api: Api) -> None:
    item = await api.open()
    await api.act(item["id"], "sign_for", LEAD)
    events = (await api.get(f"/api/items/{item['id']}/events", SUPERVISOR)).json()
    opened_at = events[0]["occurred_at"]

    then = await api.get(f"/api/items/{item['id']}/state", AUDITOR, params={"as_of": opened_at})
    assert then.status_code == 200, then.text
    assert then.json()["assignments"]["fgw"]["status"] == "pending"
    assert then.json()["last_seq"] == 1

    before = await api.get(
        f"/api/items/{item['id']}/state", AUDITOR, params={"as_of": "2000-01-01T00:00:00Z"}
    )
    assert before.json()["opened"] is False

    now = await api.get(f"/api/items/{item['id']}/state", SUPERVISOR, params={"as_of": "2100-01-01"})
    assert now.json()["assignments"]["fgw"]["status"] == "signed"


async def test_auditor_verifies_one_chain_and_the_whole_log(api: Api) -> None:
    item = await api.open()
    await api.act(item["id"], "sign_for", LEAD)

    before = await api.event_count(item["id"])
    one = await api.get(f"/api/items/{item['id']}/verify", AUDITOR)
    assert one.status_code == 200
    assert one.json()["ok"] is True
    # Deliveries may still be appending beside the item: the check saw every event there was.
    assert before <= one.json()["events_checked"] <= await api.event_count(item["id"])

    everything = await api.get("/api/audit/verify", AUDITOR)
    assert everything.json()["ok"] is True
    assert everything.json()["items_checked"] == 1


async def test_me_is_the_callers_user_record(api: Api) -> None:
    me = await api.get("/api/me", LEAD)
    assert me.status_code == 200
    assert me.json() == {"id": LEAD, "name": "李强", "role": "unit", "unit": "fgw", "title": "主任"}

"""Every refusal answers with its status and a reason a person understands, and writes no event."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client

from tests.api.conftest import ADMIN, AUDITOR, LEAD, LEADER, OTHER_UNIT, SUPERVISOR, Api, open_body


async def _refused(api: Api, item_id: str, action: str, user: str, body: object, *, status: int) -> str:
    # People's events only: deliveries of earlier notices may still be appending beside the item.
    before = await api.action_types(item_id)
    response = await api.post(f"/api/items/{item_id}/actions/{action}", user, json=body)
    assert response.status_code == status, response.text
    assert await api.action_types(item_id) == before
    detail: str = response.json()["detail"]
    assert isinstance(detail, str)
    return detail


async def test_a_unit_may_not_do_the_supervisors_work(api: Api) -> None:
    item = await api.open()
    detail = await _refused(api, item["id"], "approve_plan", LEAD, {}, status=403)
    assert "supervisor" in detail


async def test_a_unit_may_not_touch_another_units_item_nor_learn_that_it_exists(api: Api) -> None:
    item = await api.open()
    detail = await _refused(api, item["id"], "sign_for", OTHER_UNIT, {}, status=404)
    assert detail == f"督办事项不存在 / no such item: {item['id']}"
    assert (await api.get(f"/api/items/{item['id']}", OTHER_UNIT)).status_code == 404


@pytest.mark.parametrize("user", [LEAD, LEADER, AUDITOR, ADMIN])
async def test_only_a_supervisor_opens_items(api: Api, user: str) -> None:
    response = await api.post("/api/items", user, json=open_body())
    assert response.status_code == 403
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "user"), [("/events", LEAD), ("/state?as_of=2030-01-01", LEADER), ("/verify", SUPERVISOR)]
)
async def test_history_is_for_supervisors_and_auditors(api: Api, path: str, user: str) -> None:
    item = await api.open()
    assert (await api.get(f"/api/items/{item['id']}{path}", user)).status_code == 403
    assert (await api.get("/api/audit/verify", SUPERVISOR)).status_code == 403


async def test_an_admin_does_not_read_items(api: Api) -> None:
    assert (await api.get("/api/items", ADMIN)).status_code == 403


async def test_unknown_item_is_404_everywhere(api: Api) -> None:
    missing = str(uuid.uuid4())
    for path in ("", "/events", "/verify"):
        user = AUDITOR if path else SUPERVISOR
        response = await api.get(f"/api/items/{missing}{path}", user)
        assert response.status_code == 404, path
        assert "不存在" in response.json()["detail"]
    acted = await api.act(missing, "urge", SUPERVISOR, {"message": "抓紧"})
    assert acted.status_code == 404
    assert await api.event_count(missing) == 0


@pytest.mark.parametrize("action", ["fly", "open"])
async def test_unknown_action_is_404_listing_the_valid_ones(api: Api, action: str) -> None:
    item = await api.open()
    detail = await _refused(api, item["id"], action, SUPERVISOR, {}, status=404)
    assert "sign_for" in detail
    assert "submit_plan" in detail


async def test_an_action_out_of_stage_is_409_saying_what_the_item_waits_for(api: Api) -> None:
    item = await api.open()
    detail = await _refused(api, item["id"], "claim_completion", LEAD, {"summary": "已完成"}, status=409)
    assert "研究部署" in detail
    assert "签收" in detail


async def test_a_cancelled_item_refuses_further_actions_with_409(api: Api) -> None:
    item = await api.open()
    cancelled = await api.act(item["id"], "cancel", SUPERVISOR, {"reason": "重复立项"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["stage"] == "cancelled"
    detail = await _refused(api, item["id"], "urge", SUPERVISOR, {"message": "抓紧"}, status=409)
    assert "已撤销" in detail


@pytest.mark.parametrize(
    ("action", "user", "body", "field"),
    [
        ("return", LEAD, {}, "reason"),
        ("report_progress", LEAD, {"summary": "进展", "percent": 150}, "percent"),
        ("sign_for", LEAD, {"unexpected": 1}, "unexpected"),
        ("urge", SUPERVISOR, ["not", "an", "object"], "body"),
    ],
)
async def test_a_malformed_body_is_422_naming_the_field(
    api: Api, action: str, user: str, body: object, field: str
) -> None:
    item = await api.open()
    detail = await _refused(api, item["id"], action, user, body, status=422)
    assert field in detail
    assert "\n" not in detail


async def test_reassign_to_an_unknown_unit_is_422(api: Api) -> None:
    item = await api.open()
    await api.act(item["id"], "return", LEAD, {"reason": "不属于本单位职责"})
    body = {"lead_unit": "nowhere", "co_units": [], "reason": "改派"}
    detail = await _refused(api, item["id"], "reassign", SUPERVISOR, body, status=422)
    assert "未知单位 nowhere" in detail


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"lead_unit": "nowhere"}, "未知单位"),
        ({"co_units": ["czj", "elsewhere"]}, "elsewhere"),
        ({"leader": LEAD}, "不是责任领导"),
        ({"deadline": "2026-13-45"}, "deadline"),
    ],
)
async def test_opening_with_bad_content_is_422_and_opens_nothing(
    api: Api, overrides: dict[str, object], words: str
) -> None:
    response = await api.post("/api/items", SUPERVISOR, json=open_body(**overrides))
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert (await api.get("/api/items", SUPERVISOR)).json()["total"] == 0


@pytest.mark.parametrize("as_of", ["yesterday", "2026-10-01T12:00:00"])
async def test_a_bad_or_naive_as_of_is_422(api: Api, as_of: str) -> None:
    item = await api.open()
    response = await api.get(f"/api/items/{item['id']}/state", AUDITOR, params={"as_of": as_of})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("请求内容有误")
    assert "as_of" in response.json()["detail"]


async def test_an_opening_with_a_past_deadline_is_refused_before_any_workflow_starts_or_key_is_taken(
    api: Api, temporal_client: Client
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    response = await api.post("/api/items", SUPERVISOR, json=open_body(deadline="2020-01-01"), headers=key)

    assert response.status_code == 422
    assert "deadline" in response.json()["detail"]
    started = [wf async for wf in temporal_client.list_workflows(f"TaskQueue = '{api.settings.task_queue}'")]
    assert started == []
    corrected = await api.post("/api/items", SUPERVISOR, json=open_body(), headers=key)
    assert corrected.status_code == 201, corrected.text


@pytest.mark.parametrize(
    ("action", "user", "body", "status"),
    [
        ("urge", AUDITOR, {}, 403),  # auditors only read: refused before the empty body is looked at
        ("sign_off", "leader-chen", {}, 403),  # a leader, but not this item's
        ("cancel", ADMIN, {}, 403),  # a role that works with no items
        ("sign_for", OTHER_UNIT, {"unexpected": 1}, 404),  # another unit's item: not even its existence
        ("urge", None, {}, 401),  # no token at all
    ],
)
async def test_who_may_act_is_answered_before_the_body(
    api: Api, action: str, user: str | None, body: object, status: int
) -> None:
    item = await api.open()
    if user is None:
        response = await api.http.post(f"/api/items/{item['id']}/actions/{action}", json=body)
        assert response.status_code == status, response.text
        return
    detail = await _refused(api, item["id"], action, user, body, status=status)
    assert "请求内容有误" not in detail  # not the body's 422 summary


async def test_every_422_has_the_documented_shape(api: Api) -> None:
    item = await api.open()
    schema = await api.post(f"/api/items/{item['id']}/actions/return", LEAD, json={})
    content = await api.post(
        f"/api/items/{item['id']}/actions/urge", SUPERVISOR, json={"message": "催", "units": ["jtj"]}
    )
    assert schema.status_code == content.status_code == 422
    missing = {"loc": ["body", "reason"], "msg": "Field required", "type": "missing"}
    assert schema.json()["errors"] == [missing]
    assert content.json() == {"detail": content.json()["detail"], "errors": []}
    assert "jtj" in content.json()["detail"]

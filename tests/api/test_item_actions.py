"""GET /api/items/{id}/actions: the page and any client ask decide what the caller may do now."""

from __future__ import annotations

from tests.api.conftest import AUDITOR, CO, LEAD, LEADER, OTHER_UNIT, SUPERVISOR, Api


async def _actions(api: Api, item_id: str, user: str) -> list[str]:
    response = await api.get(f"/api/items/{item_id}/actions", user)
    assert response.status_code == 200, response.text
    return [entry["action"] for entry in response.json()["actions"]]


async def test_each_role_is_offered_only_what_the_item_waits_for_from_it(api: Api) -> None:
    item = await api.open()
    assert await _actions(api, item["id"], LEAD) == ["sign_for", "return", "comment"]
    assert await _actions(api, item["id"], SUPERVISOR) == ["urge", "comment", "cancel"]
    assert await _actions(api, item["id"], LEADER) == ["comment"]
    assert await _actions(api, item["id"], AUDITOR) == []

    assert (await api.act(item["id"], "sign_for", LEAD)).status_code == 200
    assert await _actions(api, item["id"], LEAD) == ["submit_plan", "comment"]
    assert "sign_for" in await _actions(api, item["id"], CO)


async def test_labels_are_chinese_and_another_units_item_is_not_found(api: Api) -> None:
    item = await api.open()
    body = (await api.get(f"/api/items/{item['id']}/actions", LEAD)).json()
    assert body["actions"][0] == {"action": "sign_for", "label": "签收"}
    assert body["stage"] == "deploy"
    # Another unit's item is answered as if it did not exist: its existence is not revealed.
    assert (await api.get(f"/api/items/{item['id']}/actions", OTHER_UNIT)).status_code == 404
    assert (await api.get("/api/items/no-such-item/actions", SUPERVISOR)).status_code == 404


async def test_a_cancelled_item_offers_nothing(api: Api) -> None:
    item = await api.open()
    assert (await api.act(item["id"], "cancel", SUPERVISOR, {"reason": "重复立项"})).status_code == 200
    assert await _actions(api, item["id"], SUPERVISOR) == []

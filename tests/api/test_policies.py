"""Escalation policies over HTTP: the seeded default, who may edit, malformed ladders, and versions.

Items opened after an edit run under the new version; a running item keeps the version it was
opened under, even for ladders it arms after the edit.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ADMIN, AUDITOR, CO, LEAD, SUPERVISOR, Api

DESIGN_TABLE = [
    {"level": "reminder", "offset_days": -2, "audience": ["unit_handlers"]},
    {"level": "warning", "offset_days": 0, "audience": ["unit_handlers", "unit_leader"]},
    {"level": "overdue", "offset_days": 3, "audience": ["responsible_leader"]},
    {"level": "top", "offset_days": 7, "audience": ["top_leader", "discipline"]},
]
TIGHTER = [
    {"level": "reminder", "offset_days": -1, "audience": ["unit_handlers"]},
    {"level": "warning", "offset_days": 0, "audience": ["unit_handlers", "unit_leader"]},
    {"level": "overdue", "offset_days": 2, "audience": ["responsible_leader", "unit_leader"]},
    {"level": "top", "offset_days": 5, "audience": ["top_leader", "discipline"]},
]
POLICY = "/api/policies/major_project/high"


async def test_every_category_and_priority_starts_with_the_design_table(api: Api) -> None:
    response = await api.get("/api/policies", ADMIN)

    assert response.status_code == 200, response.text
    policies = response.json()
    assert len(policies) == 4 * 3
    assert {p["policy_id"] for p in policies} >= {"major_project/high", "other/normal"}
    assert all(p["version"] == 1 and p["rungs"] == DESIGN_TABLE for p in policies)
    assert (await api.get("/api/policies", AUDITOR)).status_code == 200
    assert (await api.get("/api/policies", LEAD)).status_code == 403


@pytest.mark.parametrize(
    ("rungs", "why"),
    [
        ([*DESIGN_TABLE, DESIGN_TABLE[0]], "a level twice"),
        ([{**DESIGN_TABLE[0], "offset_days": 1}, *DESIGN_TABLE[1:]], "a reminder after the warning"),
        ([{**DESIGN_TABLE[0], "audience": []}, *DESIGN_TABLE[1:]], "nobody told"),
        ([{**DESIGN_TABLE[0], "audience": ["the_mayor"]}], "an unknown audience"),
        ([], "no rung"),
    ],
)
async def test_a_malformed_ladder_is_refused_and_publishes_nothing(
    api: Api, rungs: list[dict[str, Any]], why: str
) -> None:
    response = await api.http.put(POLICY, headers=api.auth(ADMIN), json={"rungs": rungs})

    assert response.status_code == 422, why
    versions = (await api.get(f"{POLICY}/versions", ADMIN)).json()
    assert [v["version"] for v in versions] == [1]


async def test_only_admins_publish_a_policy(api: Api) -> None:
    refused = await api.http.put(POLICY, headers=api.auth(SUPERVISOR), json={"rungs": TIGHTER})
    unknown = await api.http.put(
        "/api/policies/secret_projects/high", headers=api.auth(ADMIN), json={"rungs": TIGHTER}
    )

    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    assert unknown.status_code == 422


async def test_items_opened_after_an_edit_use_the_new_version_and_running_items_keep_theirs(api: Api) -> None:
    running = await api.open()
    assert (running["policy"]["policy_id"], running["policy"]["version"]) == ("major_project/high", 1)

    published = await api.http.put(
        POLICY, headers=api.auth(ADMIN), json={"rungs": TIGHTER, "note": "重大项目从严 / stricter"}
    )
    assert published.status_code == 200, published.text
    assert (published.json()["version"], published.json()["created_by"]) == (2, ADMIN)

    opened_after = await api.open()
    assert opened_after["policy"]["version"] == 2
    assert opened_after["policy"]["rungs"] == TIGHTER
    plan_rules = [r["rule"] for r in opened_after["ladders"]["submit_plan"]["rungs"]]
    assert plan_rules[2] == "major_project/high v2 overdue: due+2 working days"

    # The running item arms a new unit's sign-for ladder after the edit: still under version 1.
    assert (await api.act(running["id"], "return", CO, {"reason": "不属于本单位职责"})).status_code == 200
    reassigned = await api.act(
        running["id"],
        "reassign",
        SUPERVISOR,
        {"lead_unit": "fgw", "co_units": ["jtj"], "reason": "改派交通局"},
    )
    assert reassigned.status_code == 200, reassigned.text
    item = reassigned.json()
    assert item["policy"]["version"] == 1
    new_ladder = item["ladders"]["sign_for:jtj"]
    assert new_ladder["policy_version"] == 1
    assert [r["rule"] for r in new_ladder["rungs"]][2] == "major_project/high v1 overdue: due+3 working days"

    versions = (await api.get(f"{POLICY}/versions", AUDITOR)).json()
    assert [(v["version"], v["rungs"]) for v in versions] == [(1, DESIGN_TABLE), (2, TIGHTER)]

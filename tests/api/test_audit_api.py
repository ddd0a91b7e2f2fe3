"""The auditor's HTTP views: everything one person did, and verification that names the kind of damage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from store.schema import audit_events
from tests.api.conftest import AUDITOR, LEAD, SUPERVISOR, Api
from tests.store.tampering import tamper


async def test_an_auditor_lists_what_one_person_did_across_items_in_pages(api: Api) -> None:
    first = await api.open()
    second = await api.open(title="整治背街小巷")
    assert (await api.act(first["id"], "sign_for", LEAD)).status_code == 200

    everything = await api.get("/api/audit/events", AUDITOR, params={"actor": SUPERVISOR})
    page = await api.get("/api/audit/events", AUDITOR, params={"actor": SUPERVISOR, "limit": 1, "offset": 1})
    lead = await api.get("/api/audit/events", AUDITOR, params={"actor": LEAD})
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    none_after = await api.get("/api/audit/events", AUDITOR, params={"actor": SUPERVISOR, "from": later})
    none_before = await api.get(
        "/api/audit/events", AUDITOR, params={"actor": SUPERVISOR, "to": "2020-01-01T00:00:00+08:00"}
    )

    body = everything.json()
    assert everything.status_code == 200
    assert body["total"] == 2
    assert [(e["item_id"], e["type"]) for e in body["events"]] == [
        (first["id"], "ItemOpened"),
        (second["id"], "ItemOpened"),
    ]
    assert (page.json()["total"], [e["item_id"] for e in page.json()["events"]]) == (2, [second["id"]])
    assert [e["type"] for e in lead.json()["events"]] == ["AssignmentSigned"]
    assert none_after.json()["total"] == 0
    assert none_before.json()["total"] == 0
    assert (await api.get("/api/audit/events", SUPERVISOR, params={"actor": SUPERVISOR})).status_code == 403
    assert (await api.get("/api/audit/events", AUDITOR)).status_code == 422


async def test_verification_over_http_names_the_kind_of_failure(api: Api) -> None:
    item = await api.open()
    await api.act(item["id"], "sign_for", LEAD)
    assert (await api.get("/api/audit/verify", AUDITOR)).json()["ok"] is True

    await tamper(
        api.sessions,
        [delete(audit_events).where(audit_events.c.item_id == item["id"], audit_events.c.seq == 1)],
    )
    whole = (await api.get("/api/audit/verify", AUDITOR)).json()
    one = (await api.get(f"/api/items/{item['id']}/verify", AUDITOR)).json()

    assert (whole["ok"], whole["item_id"], whole["seq"], whole["kind"]) == (False, item["id"], 2, "seq_gap")
    assert (one["ok"], one["seq"], one["kind"]) == (False, 2, "seq_gap")

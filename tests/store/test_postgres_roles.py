"""The production role set-up: the app runs as a role that can read and append the audit trail only.

A fresh database is migrated by the owner; `store/postgres_roles.sql` (the README's script) grants
the app role its rights; the store and the HTTP API then run under that role, and UPDATE,
DELETE and TRUNCATE of the audit log, the ledger and the checkpoints are refused to it by the
grants alone, with the owner's triggers disabled.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from temporalio.client import Client

from api.auth import issue_token
from bootstrap import create_app
from ledger.checkpoint import Signer
from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.event_log import EventLog
from store.ledger import Ledger
from store.org import OrgDirectory
from store.verification import verify_audit_trail
from tests.api.conftest import AUDITOR, app_settings
from tests.fixtures.databases import POSTGRES_HOST, POSTGRES_PORT, fresh_postgres_url
from tests.store.stories import ItemStory

pytestmark = pytest.mark.postgres

ROLES_SQL = Path(__file__).resolve().parents[2] / "store" / "postgres_roles.sql"
GUARDED = ("audit_events", "ledger", "checkpoints")


async def _connect(url: str, user: str) -> asyncpg.Connection:
    database = make_url(url).database
    return await asyncpg.connect(host=POSTGRES_HOST, port=POSTGRES_PORT, user=user, database=database)


@pytest.fixture
async def app_role_url() -> AsyncIterator[tuple[str, str]]:
    """(owner URL, app-role URL) of a fresh database with the README's grants applied."""
    role = f"duban_app_{uuid.uuid4().hex[:12]}"
    async with fresh_postgres_url() as owner_url:
        owner = await _connect(owner_url, "postgres")
        try:
            await owner.execute(f'CREATE ROLE "{role}" LOGIN')
            await owner.execute(ROLES_SQL.read_text(encoding="utf-8").replace("duban_app", f'"{role}"'))
            url = make_url(owner_url).set(username=role).render_as_string(hide_password=False)
            yield owner_url, url
        finally:
            await owner.execute(f'DROP OWNED BY "{role}"')
            await owner.close()
            # The database goes first (fresh_postgres_url), then the role it no longer references.
    admin = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database="postgres"
    )
    try:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await admin.close()


async def test_the_app_role_appends_reads_seals_and_verifies_and_serves_the_api(
    app_role_url: tuple[str, str], temporal_client: Client
) -> None:
    _, url = app_role_url
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        await OrgDirectory(sessions).load(DEMO_ORG)
        story = ItemStory("item-r")
        story.open()
        story.sign_all()
        receipt = await EventLog(sessions).append(story.events)
        checkpoint = await Ledger(sessions).checkpoint(signer := Signer.generate())
        report = await verify_audit_trail(sessions, public_key=signer.public)

        settings = app_settings(url, "unused-queue")
        app = create_app(settings, temporal_client=temporal_client)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://duban.test") as http,
        ):
            auth = {"Authorization": f"Bearer {issue_token(settings, AUDITOR)}"}
            events = await http.get("/api/items/item-r/events", headers=auth)
            verified = await http.get("/api/audit/verify", headers=auth)
    finally:
        await engine.dispose()

    assert (receipt.appended, checkpoint.size) == (3, 3)
    assert (report.ok, report.events_checked) == (True, 3)
    assert [e["seq"] for e in events.json()] == [1, 2, 3]
    assert verified.json()["ok"] is True


@pytest.mark.parametrize("table", GUARDED)
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET item_id = item_id", "DELETE FROM {table}", "TRUNCATE {table}"]
)
async def test_the_app_role_may_not_change_the_audit_trail_even_with_the_triggers_off(
    app_role_url: tuple[str, str], table: str, statement: str
) -> None:
    owner_url, url = app_role_url
    engine = make_engine(url)
    try:
        story = ItemStory("item-r")
        story.open()
        await EventLog(make_sessions(engine)).append(story.events)
        await Ledger(make_sessions(engine)).checkpoint(Signer.generate())
    finally:
        await engine.dispose()
    owner = await _connect(owner_url, "postgres")
    app = await _connect(url, make_url(url).username or "")
    try:
        await owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        sql = (
            statement.format(table=table).replace("item_id = item_id", "size = size")
            if table == "checkpoints"
            else statement.format(table=table)
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await app.execute(sql)
        assert await app.fetchval(f"SELECT count(*) FROM {table}") == 1  # noqa: S608 — fixed table names
    finally:
        await app.close()
        await owner.close()

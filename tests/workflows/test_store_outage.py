"""The database dropping the worker's connections costs a retry, never an audit event.

The worker's engine does not test connections before use (bootstrap.run_worker: its activities retry), so
the first append after the drop fails on a dead connection; the append is retried and lands
exactly once. Run on PostgreSQL with the dev server (real time: the retry waits its backoff).
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event
from temporalio.testing import WorkflowEnvironment

from domain.fold import fold
from store.db import make_engine, make_sessions
from store.event_log import EventLog
from store.items import ItemQueries
from tests.fixtures.databases import POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, fresh_postgres_url
from tests.fixtures.temporal import run_item_worker
from tests.workflows.driver import CO, LEAD, SUPERVISOR, ItemDriver
from tests.workflows.test_item_workflow import actions

pytestmark = pytest.mark.postgres


async def _drop_connections(database: str) -> int:
    """Terminate every server process connected to `database`, as a restart would; how many."""
    admin = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres"
    )
    try:
        rows = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", database
        )
    finally:
        await admin.close()
    return len(rows)


async def test_dropped_database_connections_cost_a_retry_not_an_event(
    dev_server: WorkflowEnvironment,
) -> None:
    async with fresh_postgres_url() as url:
        engine = make_engine(url, pre_ping=False)  # as bootstrap.run_worker makes it
        sessions = make_sessions(engine)
        invalidated: list[object] = []  # connections the pool threw away as broken
        event.listen(engine.sync_engine.pool, "invalidate", lambda *args: invalidated.append(args))
        try:
            async with run_item_worker(dev_server.client, sessions) as task_queue:
                item = ItemDriver(dev_server.client, task_queue)
                await item.open()
                await item.act("sign_for", LEAD)
                assert await _drop_connections(url.rsplit("/", 1)[1]) >= 1

                await item.act("sign_for", CO)
                result = await item.act("comment", SUPERVISOR, {"text": "连接断开后继续办理"})

            assert invalidated  # the worker did meet a dead connection
            log = EventLog(sessions)
            events = await log.read(item.item_id)
            assert actions(events) == ["ItemOpened", "AssignmentSigned", "AssignmentSigned", "CommentAdded"]
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert (await log.verify_item(item.item_id)).ok
            assert fold(events) == result.state == await ItemQueries(sessions).get(item.item_id)
        finally:
            await engine.dispose()

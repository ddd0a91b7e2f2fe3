"""An item is numbered in the Beijing year it is opened in, not the UTC year."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.demo_org import DEMO_ORG
from store.org import OrgDirectory
from tests.fixtures.temporal import run_item_worker
from tests.workflows.ladder_support import CalendarItemDriver, time_skipping_server_from

# 01:30 on 1 January 2027 in Beijing, still 31 December 2026 in UTC.
NEW_YEARS_NIGHT = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)


async def test_an_item_opened_after_midnight_in_beijing_on_new_years_day_takes_the_new_years_number(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await OrgDirectory(sessions).load(DEMO_ORG)
    async with (
        time_skipping_server_from(NEW_YEARS_NIGHT) as env,
        run_item_worker(env.client, sessions) as task_queue,
    ):
        item = CalendarItemDriver(env.client, task_queue, env=env)
        opened = await item.open()
        assert item.now is not None
        assert item.now.year == 2026  # the server's clock, in UTC

    assert opened.state.number.startswith("DB-2027-"), opened.state.number

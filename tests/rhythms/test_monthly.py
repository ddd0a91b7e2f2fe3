"""月督促 on the time-skipping server over both back-ends: one request per unit, report once and reuse,
never twice per period, and a year of daily runs (月督促, 季调度, 年评估) that catch up on holidays'
shifted days."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from adapters.workdays import ChinaWorkdays
from bootstrap import build_worker
from domain.dues import weekends_only
from domain.events import RecordedEvent
from domain.rhythms import Rhythm, nth_workday
from settings import TEST_ACTION_KEY
from store.demo_org import DEMO_ORG
from store.event_log import EventLog
from store.inbox import Inbox
from store.org import OrgDirectory
from store.rhythm_tables import documents, rhythm_runs
from store.rhythms import RhythmStore
from tests.rhythms.stories import rhythm_stories, run


async def seed(sessions: async_sessionmaker[AsyncSession], events: Sequence[RecordedEvent] = ()) -> None:
    """The demo org and the stories' events (all of them unless `events` is given)."""
    await OrgDirectory(sessions).load(DEMO_ORG)
    log = EventLog(sessions)
    for story in rhythm_stories():
        await log.append(story.events)
    if events:
        await log.append(events)


async def monthly_inbox(sessions: async_sessionmaker[AsyncSession], user: str) -> list[str]:
    """The 月督促 messages in a user's inbox."""
    page = await Inbox(sessions).page(user, unread_only=False, limit=100, offset=0)
    return [entry.message for entry in page.entries if entry.kind == "monthly"]


def test_the_working_day_moves_with_the_chinese_holidays() -> None:
    calendar = ChinaWorkdays()
    # National Day 2026: the 5th working day of October comes a week after the weekday count.
    october = nth_workday(2026, 10, 5, calendar.is_workday)
    assert october == date(2026, 10, 13)
    assert nth_workday(2026, 10, 5, weekends_only) == date(2026, 10, 7)
    assert nth_workday(2026, 11, 5, calendar.is_workday) == date(2026, 11, 6)


async def test_one_request_per_unit_leaves_out_what_was_reported_and_never_sends_twice(
    sessions: async_sessionmaker[AsyncSession], time_skipping_server: WorkflowEnvironment
) -> None:
    await seed(sessions)
    queue = f"rhythm-{uuid.uuid4()}"
    async with build_worker(time_skipping_server.client, queue, sessions, action_key=TEST_ACTION_KEY):
        early = await run(time_skipping_server, queue, Rhythm.MONTHLY, "2026-11-05")
        first = await run(time_skipping_server, queue, Rhythm.MONTHLY, "2026-11-06")
        again = await run(time_skipping_server, queue, Rhythm.MONTHLY, "2026-11-06")
        later = await run(time_skipping_server, queue, Rhythm.MONTHLY, "2026-11-20")

    assert (early.ran, early.period) == (False, "2026-11")  # the 5th working day is 11-06
    assert (first.ran, first.requests, len(first.documents)) == (True, 2, 2)
    assert (again.ran, again.detail) == (False, "本期已执行 / already ran")
    assert not later.ran
    store = RhythmStore(sessions)
    requests = {
        r.unit_id: [i["item_id"] for i in r.items] for r in await store.requests("monthly", "2026-11")
    }
    # fgw reported on r-fgw-2 this month: asked only about r-fgw-1. czj reported in October: asked.
    # zjj reported this month on its only item, jtj has nothing open: neither is asked.
    assert requests == {"fgw": ["r-fgw-1"], "czj": ["r-czj-1"]}
    for user in ("fgw-li", "fgw-zhou", "czj-wu", "czj-xu"):
        [message] = await monthly_inbox(sessions, user)
        assert "月督促 2026-11" in message
    assert "DB-2026-000201" in (await monthly_inbox(sessions, "fgw-li"))[0]
    assert "DB-2026-000202" not in (await monthly_inbox(sessions, "fgw-li"))[0]
    for user in ("zjj-he", "jtj-ma"):
        assert await monthly_inbox(sessions, user) == []
    recorded = await store.run("monthly", "2026-11")
    assert recorded is not None
    assert recorded.record["requests"] == {"czj": ["DB-2026-000203"], "fgw": ["DB-2026-000201"]}
    assert sorted(recorded.record["recipients"]["fgw"]) == ["fgw-li", "fgw-zhou"]
    # The 通报 of October went with it, its hash recorded with the run.
    kinds = {(d["kind"], d["period"]) for d in recorded.record["documents"]}
    assert kinds == {("monthly_bulletin", "2026-10"), ("monthly_figures", "2026-10")}
    assert {d["hash"] for d in recorded.record["documents"]} == {recorded.figures_hash}


@pytest.mark.timeout(900)  # 1,095 workflow runs: minutes on a loaded machine
async def test_a_year_of_daily_runs_sends_each_period_once_on_its_working_day(
    sessions: async_sessionmaker[AsyncSession], time_skipping_server: WorkflowEnvironment
) -> None:
    await seed(sessions)
    queue = f"rhythm-{uuid.uuid4()}"
    ran: dict[Rhythm, list[date]] = {rhythm: [] for rhythm in Rhythm}

    async def every_day(rhythm: Rhythm) -> None:
        day = date(2026, 1, 1)
        while day.year == 2026:
            report = await run(time_skipping_server, queue, rhythm, day.isoformat())
            if report.ran:
                ran[rhythm].append(day)
            day += timedelta(days=1)

    # The three schedules fire at the same minute in production; here each rhythm walks the year
    # in order while the others walk beside it, as their daily runs would. The runs wait on no
    # timer, so the server's clock stays put (skipping it under concurrent runs times them out).
    async with build_worker(time_skipping_server.client, queue, sessions, action_key=TEST_ACTION_KEY):
        with time_skipping_server.auto_time_skipping_disabled():
            await asyncio.gather(*(every_day(rhythm) for rhythm in Rhythm))

    calendar = ChinaWorkdays()
    assert ran[Rhythm.MONTHLY] == [nth_workday(2026, m, 5, calendar.is_workday) for m in range(1, 13)]
    assert ran[Rhythm.QUARTERLY] == [nth_workday(2026, m, 5, calendar.is_workday) for m in (1, 4, 7, 10)]
    # The 年评估 of 2025 once, on January's working day; the rest of the year finds it ran.
    assert ran[Rhythm.ANNUAL] == [nth_workday(2026, 1, 5, calendar.is_workday)]
    async with sessions() as session:
        runs = Counter(
            (
                await session.execute(
                    select(rhythm_runs.c.rhythm, func.count()).group_by(rhythm_runs.c.rhythm)
                )
            ).all()
        )
        stored = await session.scalar(select(func.count()).select_from(documents))
    assert runs == Counter({("monthly", 12): 1, ("quarterly", 4): 1, ("annual", 1): 1})
    assert stored == 2 * 12 + 2 * 4 + 2
    # The items opened by 08-07 (August's day): fgw asked once a month from August to December.
    assert len(await monthly_inbox(sessions, "fgw-li")) == 5
    # zjj reported in November: asked in August, September, October and December only.
    assert [m[:11] for m in await monthly_inbox(sessions, "zjj-he")] == [
        f"月督促 2026-{month}" for month in ("12", "10", "09", "08")
    ]

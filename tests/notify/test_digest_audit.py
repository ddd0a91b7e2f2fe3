"""A routine reminder of a real item goes out in the next day's digest, and the item's chain records it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.reconcile import reconcile
from bootstrap import build_worker, notify_activities
from domain.fold import fold
from settings import TEST_ACTION_KEY
from store.demo_org import DEMO_ORG
from store.event_log import EventLog, StoredEvent
from store.org import OrgDirectory
from tests.notify.conftest import Mailbox, channels
from tests.workflows.driver import CO, LEAD, open_body
from tests.workflows.ladder_support import CalendarItemDriver, beijing, skip_to, time_skipping_server_from
from workflows.digest import DigestWorkflow
from workflows.digest_messages import DigestReport, DigestRun


async def events_once(
    sessions: async_sessionmaker[AsyncSession], item_id: str, ready: Callable[[list[StoredEvent]], bool]
) -> list[StoredEvent]:
    """The item's events once `ready` holds (the signal handlers append on their own time); bounded."""
    for _ in range(200):
        events = list(await EventLog(sessions).read(item_id))
        if ready(events):
            return events
        await asyncio.sleep(0.05)
    return events


def digest_count(events: list[StoredEvent]) -> int:
    """How many digest outcomes the item's chain holds."""
    return sum(1 for e in events if e.type.startswith("Notification") and e.payload["kind"] == "digest")


OPENED = beijing("2026-09-28 09:00")
REMINDER = beijing("2026-10-08 18:00")  # the plan's reminder rung (due 2026-10-10 18:00 less 2 working days)
FGW_HANDLERS = ["fgw-li", "fgw-zhou"]


async def test_the_digest_of_a_reminder_is_recorded_in_the_items_chain_which_still_verifies(
    sessions: async_sessionmaker[AsyncSession], smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    await OrgDirectory(sessions).load(DEMO_ORG)
    task_queue = f"digest-audit-{uuid.uuid4()}"
    async with (
        httpx.AsyncClient() as http,
        time_skipping_server_from(OPENED) as env,
        build_worker(
            env.client,
            task_queue,
            sessions,
            notify=notify_activities(sessions, channels(port, webhooks=False), http),
            action_key=TEST_ACTION_KEY,
        ),
    ):
        item = CalendarItemDriver(env.client, task_queue, env=env)
        await item.open(open_body(deadline="2026-12-31"))
        await item.act("sign_for", LEAD)
        await item.act("sign_for", CO)
        await skip_to(env, REMINDER.replace(minute=1))

        events = list(await EventLog(sessions).read(item.item_id))
        (reminder,) = [e for e in events if e.type == "ReminderSent"]
        queued = sorted(
            (e.payload["recipient"], e.payload["channel"])
            for e in events
            if e.type == "NotificationQueued" and e.payload["notice_seq"] == reminder.seq
        )
        assert queued == [(user, "email") for user in FGW_HANDLERS]
        assert mailbox.messages == []

        report = await env.client.execute_workflow(
            DigestWorkflow.run,
            DigestRun(day="2026-10-09"),
            id=f"digest-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        events = await events_once(sessions, item.item_id, lambda found: digest_count(found) == 2)
        state = await item.state()
        # The digest's outcomes arrive by signal and are appended by the item: reconcile sees them.
        agreed = await reconcile(env.client, EventLog(sessions), item.item_id)

    assert report == DigestReport(day="2026-10-09", sent=2, failed=0)
    assert agreed.ok, agreed.differences
    assert sorted(to[0] for to, _ in mailbox.messages) == [f"{user}@duban.example" for user in FGW_HANDLERS]
    digested = sorted(
        (e.payload["recipient"], e.payload["channel"], e.payload["kind"])
        for e in events
        if e.type == "NotificationDelivered"
        and e.payload["notice_seq"] == reminder.seq
        and e.seq > reminder.seq
        and e.payload["kind"] == "digest"
    )
    assert digested == [(user, "email", "digest") for user in FGW_HANDLERS]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert (await EventLog(sessions).verify_item(item.item_id)).ok
    assert fold(events) == state

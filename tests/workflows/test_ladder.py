"""The escalation ladder on the time-skipping server, from a clock started on 2026-09-28 (a Monday).

The 2026 National Day holiday runs 10-01..10-07 with 10-10 (a Saturday) a make-up workday,
so a five-working-day plan opened that Monday at 09:00 is due on 10-10 at 18:00 Beijing time.
The real notify activities deliver to the inbox of users of the demo org chart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities.notify import ChannelSettings, NotifyActivities
from audit.reconcile import reconcile
from bootstrap import build_worker
from domain.events import RecordedEvent
from domain.fold import fold
from domain.stages import Light, Stage
from settings import TEST_ACTION_KEY
from store.demo_org import DEMO_ORG
from store.digest_queue import DigestQueue
from store.event_log import EventLog
from store.inbox import Inbox
from store.org import OrgDirectory
from tests.fixtures.temporal import run_item_worker
from tests.workflows.driver import CO, LEAD, SUPERVISOR, open_body
from tests.workflows.ladder_support import (
    ONE_MINUTE,
    CalendarItemDriver,
    after,
    beijing,
    rungs,
    skip_to,
    time_skipping_server_from,
)
from workflows.ladder import PLAN_RETRY
from workflows.messages import (
    DELIVERY_RETRY,
    NOTIFY_DELIVER_ACTIVITY,
    NOTIFY_PLAN_ACTIVITY,
    DeliveryOutcome,
    DeliveryPlan,
    DeliveryRequest,
    PlanDeliveries,
)

OPENED = beijing("2026-09-28 09:00")
FGW_HANDLERS = ["fgw-li", "fgw-zhou"]
TOP = ["jjw-sun", "leader-top"]  # 纪检 and 一把手


@pytest.fixture
async def item(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[CalendarItemDriver]:
    await OrgDirectory(sessions).load(DEMO_ORG)
    async with (
        time_skipping_server_from(OPENED) as env,
        run_item_worker(env.client, sessions) as task_queue,
    ):
        yield CalendarItemDriver(env.client, task_queue, env=env)


def server(item: CalendarItemDriver) -> WorkflowEnvironment:
    assert item.env is not None
    return item.env


async def log(sessions: async_sessionmaker[AsyncSession], item: CalendarItemDriver) -> list[RecordedEvent]:
    return list(await EventLog(sessions).read(item.item_id))


async def assert_chain_holds(sessions: async_sessionmaker[AsyncSession], item: CalendarItemDriver) -> None:
    events = await log(sessions, item)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert (await EventLog(sessions).verify_item(item.item_id)).ok
    assert fold(events) == await item.state()
    # Rungs, urges and deliveries are appends no update returned: reconcile finds them in the history.
    agreed = await reconcile(item.client, EventLog(sessions), item.item_id)
    assert agreed.ok, agreed.differences


async def test_plan_deadline_across_national_day_reaches_each_rung_at_its_instant_and_tells_its_people(
    item: CalendarItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await item.open(open_body(deadline="2026-12-31"))
    await item.act("sign_for", LEAD)
    await item.act("sign_for", CO)

    state = await item.state()
    assert state.opened_at is not None
    assert state.opened_at.astimezone(OPENED.tzinfo).date() == OPENED.date()
    assert state.plan_due == beijing("2026-10-10 18:00")
    ladder = state.ladders["submit_plan"]
    assert ladder.calendar.startswith("chinesecalendar")
    assert (ladder.policy_id, ladder.policy_version) == ("major_project/high", 1)
    expected = [
        ("reminder", beijing("2026-10-08 18:00"), FGW_HANDLERS, Light.GREEN),
        ("warning", beijing("2026-10-10 18:00"), FGW_HANDLERS, Light.YELLOW),
        ("overdue", beijing("2026-10-14 18:00"), ["leader-wang"], Light.RED),
        ("top", beijing("2026-10-20 18:00"), TOP, Light.RED),
    ]
    assert [(r.level.value, r.at) for r in ladder.rungs] == [(level, at) for level, at, _, _ in expected]

    for level, at, recipients, light in expected:
        await skip_to(server(item), at - ONE_MINUTE)
        assert level not in {reached for _, reached, _, _ in rungs(await log(sessions, item))}

        await skip_to(server(item), at + ONE_MINUTE)

        events = await log(sessions, item)
        assert rungs(events)[-1] == ("submit_plan", level, at, recipients)
        (raised,) = [
            e
            for e in events
            if e.type in {"ReminderSent", "EscalationRaised"} and e.payload["level"] == level
        ]
        assert at <= raised.occurred_at < at + ONE_MINUTE
        assert raised.payload["rule"].startswith(f"major_project/high v1 {level}:")
        delivered = {
            (e.payload["recipient"], e.payload["channel"])
            for e in events
            if e.type == "NotificationDelivered" and e.payload["notice_seq"] == raised.seq
        }
        assert delivered == {(who, "inbox") for who in recipients}
        state = await item.state()
        assert state.light is light
        assert state.flagged is (level == "top")

    await assert_chain_holds(sessions, item)


async def test_an_extension_approved_while_red_turns_the_light_green_and_rearms_and_completion_stops_it(
    item: CalendarItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await item.open(open_body(deadline="2026-10-16"))
    await item.act("sign_for", LEAD)
    await item.act("sign_for", CO)
    await item.act("submit_plan", LEAD, {"measures": "分两批推进"})
    await item.act("approve_plan", SUPERVISOR, {"comment": "同意"})
    await skip_to(server(item), beijing("2026-10-21 18:01"))  # completion due 10-16, red 3 working days on
    assert (await item.state()).light is Light.RED

    await item.act("request_extension", LEAD, {"new_deadline": "2026-11-13", "reason": "资金到位晚"})
    rejected = await item.act("decide_extension", SUPERVISOR, {"approve": False, "comment": "不予延期"})
    assert rejected.state.light is Light.RED
    await item.act("request_extension", LEAD, {"new_deadline": "2026-11-13", "reason": "补充材料"})
    approved = await item.act("decide_extension", SUPERVISOR, {"approve": True, "comment": "同意延期"})

    assert approved.state.light is Light.GREEN
    rearmed = approved.state.ladders["claim_completion"]
    assert rearmed.due == beijing("2026-11-13 18:00")
    assert rearmed.reached is None
    assert [e.type for e in approved.events] == ["ExtensionApproved", "LadderArmed"]

    await skip_to(server(item), beijing("2026-11-13 18:01"))
    assert (await item.state()).light is Light.YELLOW
    claimed = await item.act("claim_completion", LEAD, {"summary": "全部完成"})
    assert claimed.state.stage is Stage.INSPECT
    assert claimed.state.light is Light.GREEN
    await skip_to(server(item), beijing("2026-12-31 18:00"))  # past every rung of both ladders

    events = await log(sessions, item)
    assert [e.type for e in after(events, "CompletionClaimed")] == []
    await assert_chain_holds(sessions, item)


async def test_a_unit_that_never_signs_for_still_reaches_red_and_top_level(
    item: CalendarItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await item.open(open_body(deadline="2026-12-31"))
    await item.act("sign_for", LEAD)

    await skip_to(server(item), beijing("2026-10-15 18:01"))

    reached = [r for r in rungs(await log(sessions, item)) if r[0] == "sign_for:czj"]
    assert reached == [
        ("sign_for:czj", "reminder", beijing("2026-09-28 18:00"), ["czj-wu", "czj-xu"]),
        ("sign_for:czj", "warning", beijing("2026-09-30 18:00"), ["czj-wu", "czj-xu"]),
        ("sign_for:czj", "overdue", beijing("2026-10-10 18:00"), ["leader-wang"]),
        ("sign_for:czj", "top", beijing("2026-10-15 18:00"), TOP),
    ]
    state = await item.state()
    assert (state.light, state.flagged) == (Light.RED, True)
    await assert_chain_holds(sessions, item)


async def test_urging_notifies_the_units_at_once(
    item: CalendarItemDriver, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await item.open(open_body(deadline="2026-12-31"))

    urged = await item.act("urge", SUPERVISOR, {"message": "请于今日内签收", "units": ["czj"]})
    await skip_to(server(item), datetime.fromisoformat("2026-09-28T02:00:00+00:00"))

    (event,) = [e for e in urged.events if e.type == "ItemUrged"]
    events = await log(sessions, item)
    delivered = {
        e.payload["recipient"]
        for e in events
        if e.type == "NotificationDelivered" and e.payload["notice_seq"] == event.seq
    }
    assert delivered == {"czj-wu", "czj-xu"}
    await assert_chain_holds(sessions, item)


@asynccontextmanager
async def signed_item(
    sessions: async_sessionmaker[AsyncSession], notify: NotifyActivities
) -> AsyncIterator[CalendarItemDriver]:
    """An item opened on OPENED and signed for by both units, on a worker with these notify activities."""
    queue = f"ladder-{type(notify).__name__}"
    async with (
        time_skipping_server_from(OPENED) as env,
        build_worker(env.client, queue, sessions, notify=notify, action_key=TEST_ACTION_KEY),
    ):
        item = CalendarItemDriver(env.client, queue, env=env)
        await item.open(open_body(deadline="2026-12-31"))
        await item.act("sign_for", LEAD)
        await item.act("sign_for", CO)
        yield item


class DeadInboxFor(NotifyActivities):
    """The real notify activities, except that one user's inbox refuses every delivery."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dead: str) -> None:
        super().__init__(
            OrgDirectory(sessions), Inbox(sessions), DigestQueue(sessions), ChannelSettings(), None
        )
        self.dead = dead
        self.attempts = 0

    @activity.defn(name=NOTIFY_DELIVER_ACTIVITY)
    async def deliver_notification(self, request: DeliveryRequest) -> DeliveryOutcome:
        if request.recipient == self.dead:
            self.attempts += 1
            raise RuntimeError("收件箱不可用 / inbox unavailable")
        return await super().deliver_notification(request)


async def test_a_dead_channel_is_retried_then_recorded_failed_and_the_ladder_goes_on(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await OrgDirectory(sessions).load(DEMO_ORG)
    dead = DeadInboxFor(sessions, dead="fgw-zhou")
    async with signed_item(sessions, dead) as item:
        await skip_to(server(item), beijing("2026-10-10 18:01"))  # past the reminder and the warning

        events = await log(sessions, item)
        assert [level for _, level, _, _ in rungs(events)] == ["reminder", "warning"]
        failed = [e.payload for e in events if e.type == "NotificationFailed"]
        assert [(f["recipient"], f["channel"], f["kind"]) for f in failed] == [
            ("fgw-zhou", "inbox", "reminder"),
            ("fgw-zhou", "inbox", "warning"),
        ]
        assert "inbox unavailable" in failed[0]["reason"]
        assert dead.attempts == 2 * DELIVERY_RETRY.maximum_attempts
        assert {e.payload["recipient"] for e in events if e.type == "NotificationDelivered"} == {"fgw-li"}
        assert (await item.state()).light is Light.YELLOW
        await assert_chain_holds(sessions, item)


class OrgChartDown(NotifyActivities):
    """Planning cannot read the org chart, ever."""

    attempts = 0

    @activity.defn(name=NOTIFY_PLAN_ACTIVITY)
    async def plan_deliveries(self, request: PlanDeliveries) -> DeliveryPlan:
        self.attempts += 1
        raise RuntimeError("组织架构不可读 / org chart unreadable")


async def test_a_rung_whose_recipients_cannot_be_planned_is_still_recorded_and_the_item_goes_on(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    down = OrgChartDown(
        OrgDirectory(sessions), Inbox(sessions), DigestQueue(sessions), ChannelSettings(), None
    )
    async with signed_item(sessions, down) as item:
        await skip_to(server(item), beijing("2026-10-10 18:01"))  # past the reminder and the warning

        events = await log(sessions, item)
        assert [(level, recipients) for _, level, _, recipients in rungs(events)] == [
            ("reminder", []),
            ("warning", []),
        ]
        failed = [e.payload for e in events if e.type == "NotificationFailed"]
        assert [(f["channel"], f["kind"]) for f in failed] == [("plan", "reminder"), ("plan", "warning")]
        assert "org chart unreadable" in failed[0]["reason"]
        # Per rung: the task queue's retries, each scheduled in the history before it runs.
        assert down.attempts == 2 * PLAN_RETRY.maximum_attempts
        result = await item.act("submit_plan", LEAD, {"measures": "分三批推进", "milestones": []})
        assert "PlanSubmitted" in [e.type for e in result.events]
        await assert_chain_holds(sessions, item)

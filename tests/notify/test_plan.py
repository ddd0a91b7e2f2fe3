"""plan_deliveries resolves every audience kind against the demo org, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.notify.conftest import NotifyHarness, channels
from workflows.messages import Audience, DeliveryRequest, Notice, PlanDeliveries

NOTICE = Notice(
    item_id="item-plan",
    number="DB-2026-000001",
    title="推进老旧小区改造",
    kind="warning",
    message="计划报送已到期，请尽快办理",
    rule="plan.warning",
    due=datetime(2026, 10, 9, 10, tzinfo=UTC),
    event_seq=7,
)


def request(*audience: Audience, routine: bool = False) -> PlanDeliveries:
    """A notice about an item led by fgw with co-unit czj, leader-wang and sup-zhang."""
    return PlanDeliveries(
        notice=NOTICE,
        audience=list(audience),
        units=["fgw", "czj"],
        leader="leader-wang",
        supervisor="sup-zhang",
        routine=routine,
    )


def pairs(deliveries: list[DeliveryRequest]) -> list[tuple[str, str]]:
    """(recipient, channel) of each delivery, in order."""
    return [(delivery.recipient, delivery.channel) for delivery in deliveries]


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        pytest.param(Audience.UNIT_HANDLERS, ["fgw-li", "fgw-zhou", "czj-wu", "czj-xu"], id="unit-handlers"),
        pytest.param(Audience.UNIT_LEADER, ["fgw-li", "czj-wu"], id="unit-leader"),
        pytest.param(Audience.RESPONSIBLE_LEADER, ["leader-wang"], id="responsible-leader"),
        pytest.param(Audience.TOP_LEADER, ["leader-top"], id="top-leader"),
        pytest.param(Audience.DISCIPLINE, ["jjw-sun"], id="discipline"),
        pytest.param(Audience.SUPERVISOR, ["sup-zhang"], id="supervisor"),
    ],
)
async def test_each_audience_kind_reaches_the_people_the_org_chart_names(
    notify: NotifyHarness, audience: Audience, expected: list[str]
) -> None:
    plan = await notify.activities(channels(webhooks=False)).plan_deliveries(request(audience))

    assert pairs(plan.deliveries) == [(user, "inbox") for user in expected]
    assert all(delivery.notice == NOTICE and not delivery.digest for delivery in plan.deliveries)


async def test_a_warning_reaches_each_person_once_by_inbox_and_email_then_the_unit_robots(
    notify: NotifyHarness,
) -> None:
    plan = await notify.activities(channels(2525)).plan_deliveries(
        request(Audience.UNIT_HANDLERS, Audience.UNIT_LEADER)
    )

    people = ["fgw-li", "fgw-zhou", "czj-wu", "czj-xu"]
    assert pairs(plan.deliveries) == [
        *[(user, channel) for user in people for channel in ("inbox", "email")],
        ("fgw", "dingtalk"),
        ("czj", "wecom"),
    ]
    emails = [delivery.address for delivery in plan.deliveries if delivery.channel == "email"]
    assert emails == [f"{user}@duban.example" for user in people]
    robots = [delivery for delivery in plan.deliveries if delivery.channel in {"dingtalk", "wecom"}]
    assert all(robot.address == "" for robot in robots)  # the robot's token stays in the secrets file


async def test_routine_reminders_send_email_and_robots_to_the_digest_but_the_inbox_at_once(
    notify: NotifyHarness,
) -> None:
    plan = await notify.activities(channels(2525)).plan_deliveries(
        request(Audience.UNIT_HANDLERS, routine=True)
    )

    digest = {(d.recipient, d.channel) for d in plan.deliveries if d.digest}
    at_once = {(d.recipient, d.channel) for d in plan.deliveries if not d.digest}
    assert at_once == {(user, "inbox") for user in ("fgw-li", "fgw-zhou", "czj-wu", "czj-xu")}
    assert digest == {(user, "email") for user in ("fgw-li", "fgw-zhou", "czj-wu", "czj-xu")} | {
        ("fgw", "dingtalk"),
        ("czj", "wecom"),
    }


async def test_top_level_reaches_the_top_leader_and_discipline_office_without_unit_robots(
    notify: NotifyHarness,
) -> None:
    plan = await notify.activities(channels(2525)).plan_deliveries(
        request(Audience.TOP_LEADER, Audience.DISCIPLINE, Audience.RESPONSIBLE_LEADER)
    )

    assert pairs(plan.deliveries) == [
        ("leader-top", "inbox"),
        ("leader-top", "email"),
        ("jjw-sun", "inbox"),
        ("jjw-sun", "email"),
        ("leader-wang", "inbox"),
        ("leader-wang", "email"),
    ]


async def test_unconfigured_channels_are_not_planned_and_unknown_people_are_skipped(
    notify: NotifyHarness,
) -> None:
    odd = request(Audience.RESPONSIBLE_LEADER, Audience.SUPERVISOR, Audience.UNIT_HANDLERS).model_copy(
        update={"leader": "nobody", "units": ["jtj"]}
    )

    plan = await notify.activities(channels(webhooks=False)).plan_deliveries(odd)

    assert pairs(plan.deliveries) == [("sup-zhang", "inbox"), ("jtj-ma", "inbox")]


async def test_the_same_request_always_gives_the_same_plan(notify: NotifyHarness) -> None:
    activities = notify.activities(channels(2525))
    everyone = request(*Audience)

    first = await activities.plan_deliveries(everyone)
    second = await activities.plan_deliveries(everyone)

    assert first == second
    assert len(pairs(first.deliveries)) == len(set(pairs(first.deliveries)))

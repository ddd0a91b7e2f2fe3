"""/api/stats over real HTTP on both back-ends: figures recomputed straight from the log agree exactly.

The items are told through the real domain (decide → record → evolve, tests/store/stories.py)
with a clock the test controls, so signing late or a deadline passing happens on purpose; the
ladder's and the notifier's own events are recorded as the workflow records them. The events are
appended through the real event log; the app reads them back from the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client

from adapters.workdays import ChinaWorkdays
from domain import commands as cmd
from domain import events as ev
from domain.events import RecordedEvent
from domain.fold import evolve, fold
from domain.instants import CHINA
from domain.ladder import Level
from domain.people import SYSTEM_ACTOR
from domain.state import ItemState, waiting_for
from domain.vocabulary import Category
from store.event_log import EventLog
from tests.api.conftest import ADMIN, AUDITOR, LEADER, SUPERVISOR, Api, append_stories, running_api
from tests.store.stories import LEADER as LEADER_ACTOR
from tests.store.stories import SUPERVISOR as SUP_ACTOR
from tests.store.stories import ItemStory, unit_user

PERIOD = {"from": "2026-03-01", "to": "2026-12-31"}
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def system(story: ItemStory, body: ev.EventBody, *, after: timedelta = HOUR) -> None:
    """Record an event the item's own machinery writes (ladder, notices), as the workflow does."""
    story.now += after
    story.record(SYSTEM_ACTOR, [body])


def closed_late_signer() -> ItemStory:
    """zjj signs five days late, czj on time; the loop closes effective, with a notice to zjj."""
    story = ItemStory("stats-a", number="DB-2026-000101")
    story.open(lead_unit="zjj", co_units=("czj",))
    story.act(unit_user("czj"), cmd.SignFor())
    story.act(unit_user("zjj"), cmd.SignFor(), after=5 * DAY)
    lead = unit_user("zjj")
    milestone = cmd.PlannedMilestone(name="完成摸底", due=story.now + 20 * DAY)
    story.act(lead, cmd.SubmitPlan(measures="分三批推进", milestones=[milestone]))
    story.act(SUP_ACTOR, cmd.ApprovePlan(comment="同意"))
    ladder_and_notice(story, "claim_completion", Level.REMINDER, "zjj-he")
    story.act(
        lead, cmd.ReportProgress(summary="摸底完成", percent=50, milestones_done=["完成摸底"]), after=DAY
    )
    story.act(lead, cmd.ClaimCompletion(summary="全部完成"), after=10 * DAY)
    story.act(SUP_ACTOR, cmd.Inspect(result="pass", findings="属实"))
    story.act(SUP_ACTOR, cmd.SubmitReport(summary="已办结"))
    story.act(LEADER_ACTOR, cmd.SignOff(approve=True))
    story.act(SUP_ACTOR, cmd.Evaluate(effective=True, rating="good"), after=2 * DAY)
    return story


def ladder_and_notice(story: ItemStory, step: str, level: Level, recipient: str) -> None:
    """Arm the step's ladder, reach `level` on it, and deliver one notice of it to `recipient`."""
    due = next(s.due for s in waiting_for(story.state) if s.step == step)
    assert due is not None
    system(
        story,
        ev.LadderArmed(step=step, due=due, rungs=[], policy_id="p", policy_version=1, calendar="test"),
    )
    rung = ev.ReminderSent if level is Level.REMINDER else ev.EscalationRaised
    system(
        story,
        rung(step=step, level=level, at=story.now, due=due, rule="test", audience=[], recipients=[recipient]),
    )
    notice = story.state.last_seq
    system(story, ev.NotificationQueued(notice_seq=notice, kind="k", recipient=recipient, channel="inbox"))
    system(story, ev.NotificationDelivered(notice_seq=notice, kind="k", recipient=recipient, channel="inbox"))


def returned_and_overdue() -> ItemStory:
    """fgw returns the item (推诿), jtj gets it, is urged, asks and gets an extension, then runs late."""
    story = ItemStory("stats-b", number="DB-2026-000102")
    story.open(lead_unit="fgw", co_units=(), deadline_days=30)
    story.act(unit_user("fgw"), cmd.ReturnAssignment(reason="不属于本单位职责"))
    story.act(SUP_ACTOR, cmd.Reassign(lead_unit="jtj", co_units=[], reason="改由交通局牵头"))
    story.act(SUP_ACTOR, cmd.Urge(message="请尽快签收"), after=4 * DAY)
    story.act(unit_user("jtj"), cmd.SignFor())
    milestone = cmd.PlannedMilestone(name="开工", due=story.now + 10 * DAY)
    story.act(unit_user("jtj"), cmd.SubmitPlan(measures="立即开工", milestones=[milestone]))
    story.act(SUP_ACTOR, cmd.ApprovePlan(comment="同意"))
    ladder_and_notice(story, "milestone:开工", Level.WARNING, "jtj-ma")
    story.act(
        unit_user("jtj"),
        cmd.RequestExtension(new_deadline=story.now + 40 * DAY, reason="汛期停工"),
    )
    story.act(SUP_ACTOR, cmd.DecideExtension(approve=True, comment="同意"))
    return story


def rectified_then_ineffective() -> ItemStory:
    """czj's item: one 整改 loop, then evaluated ineffective and reopened."""
    story = ItemStory("stats-c", number="DB-2026-000103")
    story.open(lead_unit="czj", co_units=("zjj",), category=Category.MAJOR_FUNDS)
    story.into_implementation()
    done = cmd.ReportProgress(summary="摸底完成", percent=80, milestones_done=["完成摸底"])
    story.act(unit_user("czj"), done, after=2 * DAY)
    story.act(unit_user("czj"), cmd.ClaimCompletion(summary="完成"), after=DAY)
    story.act(
        SUP_ACTOR,
        cmd.Inspect(
            result="rectify", findings="台账不全", requirements="补齐", new_deadline=story.now + 30 * DAY
        ),
    )
    story.act(unit_user("czj"), cmd.ClaimCompletion(summary="已整改"), after=5 * DAY)
    story.act(SUP_ACTOR, cmd.Inspect(result="pass", findings="属实"))
    story.act(SUP_ACTOR, cmd.SubmitReport(summary="报告"))
    story.act(LEADER_ACTOR, cmd.SignOff(approve=True))
    story.act(SUP_ACTOR, cmd.Evaluate(effective=False, rating="poor", comment="群众仍有反映"))
    return story


def three_stories() -> list[ItemStory]:
    """The stories the statistics, 考核 and 统计 page tests share: a late signer closed effective, a
    return with an extension, a rectify loop evaluated ineffective."""
    return [closed_late_signer(), returned_and_overdue(), rectified_then_ineffective()]


@pytest.fixture
async def stats_api(database_url: str, temporal_client: Client) -> AsyncIterator[Api]:
    """The app on a fresh database; nothing here needs a worker (the stories write the log)."""
    async with running_api(database_url, temporal_client, worker=False) as served:
        yield served


async def figures(api: Api, user: str = SUPERVISOR, **params: str) -> dict[str, Any]:
    """GET /api/stats/units as `user`, asserting 200."""
    response = await api.get("/api/stats/units", user, params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def value(body: dict[str, Any], key: str, figure: str) -> Any:
    """One figure of one group in a stats answer."""
    group = next(g for g in body["groups"] if g["key"] == key)
    return group["figures"][figure]["value"]


# --- the recomputation: straight from the log with the domain's fold, none of domain.statistics ---


def recompute(
    histories: Mapping[str, Sequence[RecordedEvent]], as_of: datetime
) -> dict[tuple[str, str], Any]:
    """A sample of figures per (unit, figure), computed directly from the events."""
    found: Counter[tuple[str, str]] = Counter()
    days: dict[str, list[int]] = {}
    calendar = ChinaWorkdays()
    for events in histories.values():
        seen = [e for e in events if e.occurred_at <= as_of]
        state = ItemState()
        for event in seen:
            before, state = state, evolve(state, event)
            body = event.body()
            if isinstance(body, ev.AssignmentSigned):
                late = event.occurred_at > before.assignments[body.unit].sign_for_due
                found[body.unit, "signed_late" if late else "signed_on_time"] += 1
            elif isinstance(body, ev.AssignmentReturned):
                found[body.unit, "returned"] += 1
            elif isinstance(body, ev.ItemUrged):
                for unit in body.units:
                    found[unit, "urged"] += 1
            elif isinstance(body, ev.ItemClosed):
                found[before.lead_unit, "closed"] += 1
                assert state.opened_at is not None
                first = state.opened_at.astimezone(CHINA).date()
                last = event.occurred_at.astimezone(CHINA).date()
                span = ((first + timedelta(days=n)) for n in range(1, (last - first).days + 1))
                days.setdefault(before.lead_unit, []).append(sum(calendar.is_workday(d) for d in span))
            elif isinstance(body, ev.ItemReopened):
                found[before.lead_unit, "ineffective"] += 1
            elif isinstance(body, ev.RectificationOrdered):
                found[before.lead_unit, "rectified"] += 1
            elif isinstance(body, ev.RungReached):
                found[before.lead_unit, f"escalation.{body.level.value}"] += 1
            elif isinstance(body, ev.NotificationDelivered):
                found[body.recipient.split("-")[0], "notice_delivered"] += 1
        # The snapshot: the state folded as of the instant, its pending steps past due.
        final = fold(seen)
        clocks = {"sign_for": "sign_for", "submit_plan": "plan", "milestone": "milestone"}
        clocks["claim_completion"] = "completion"
        overdue = {
            (
                step.step.split(":")[1] if step.step.startswith("sign_for:") else final.lead_unit,
                f"overdue_now.{clocks[step.step.split(':')[0]]}",
            )
            for step in waiting_for(final)
            if step.due is not None and step.due < as_of and step.step.split(":")[0] in clocks
        }
        found.update(overdue)
    result: dict[tuple[str, str], Any] = dict(found)
    for unit, spans in days.items():
        result[unit, "days_to_close_avg"] = round(sum(spans) / len(spans), 2)
    return result


async def test_figures_recomputed_from_the_log_agree_exactly_with_the_api(stats_api: Api) -> None:
    stories = [closed_late_signer(), returned_and_overdue(), rectified_then_ineffective()]
    await append_stories(stats_api, *stories)
    log = EventLog(stats_api.sessions)
    histories = {s.item_id: list(await log.read(s.item_id)) for s in stories}
    as_of = datetime(2026, 12, 1, tzinfo=UTC)

    answer = await figures(stats_api, as_of=as_of.isoformat())
    expected = recompute(histories, as_of)
    sample = {
        "signed_late",
        "signed_on_time",
        "returned",
        "urged",
        "closed",
        "ineffective",
        "rectified",
        "escalation.reminder",
        "escalation.warning",
        "notice_delivered",
        "overdue_now.sign_for",
        "overdue_now.plan",
        "overdue_now.milestone",
        "overdue_now.completion",
        "days_to_close_avg",
    }
    units = [g["key"] for g in answer["groups"]]
    assert {"zjj", "czj", "fgw", "jtj"} <= set(units)
    compared = {(unit, figure): value(answer, unit, figure) for unit in units for figure in sample}
    for key, got in compared.items():
        assert got == expected.get(key, 0 if not key[1].startswith("days_") else None), key
    # The story's own facts, so the comparison is not vacuous.
    assert expected["zjj", "signed_late"] == 1
    assert expected["fgw", "returned"] == 1
    assert expected["jtj", "overdue_now.completion"] == 1
    assert expected["czj", "rectified"] == 1

    # The items behind a number are the ones the recomputation found.
    behind = await stats_api.get(
        "/api/stats/units/zjj/items",
        SUPERVISOR,
        params={**PERIOD, "as_of": as_of.isoformat(), "figure": "signed_late"},
    )
    assert behind.status_code == 200, behind.text
    rows = behind.json()["items"]
    assert [(r["item_id"], r["number"]) for r in rows] == [("stats-a", "DB-2026-000101")]
    signed = [e.seq for e in histories["stats-a"] if e.type == "AssignmentSigned" and e.actor.unit == "zjj"]
    assert [e["seq"] for e in rows[0]["events"]] == signed


async def test_an_as_of_answer_never_changes_after_later_events(stats_api: Api) -> None:
    story = returned_and_overdue()
    cut = len(story.events)
    as_of = story.now + HOUR
    # Later in the item's life: it closes, late, after the instant asked about.
    done = cmd.ReportProgress(summary="已开工", percent=90, milestones_done=["开工"])
    story.act(unit_user("jtj"), done, after=59 * DAY)
    story.act(unit_user("jtj"), cmd.ClaimCompletion(summary="完成"), after=DAY)
    story.act(SUP_ACTOR, cmd.Inspect(result="pass", findings="属实"))
    story.act(SUP_ACTOR, cmd.SubmitReport(summary="报告"))
    story.act(LEADER_ACTOR, cmd.SignOff(approve=True))
    story.act(SUP_ACTOR, cmd.Evaluate(effective=True, rating="fair"))

    log = EventLog(stats_api.sessions)
    await log.append(story.events[:cut])
    before = await figures(stats_api, as_of=as_of.isoformat())
    await log.append(story.events[cut:])
    after = await figures(stats_api, as_of=as_of.isoformat())
    assert after == before
    assert value(before, "jtj", "closed") == 0

    later = await figures(stats_api, as_of=(story.now + HOUR).isoformat())
    assert value(later, "jtj", "closed") == 1
    assert value(later, "jtj", "closed_on_time") == 0  # claimed after the extended deadline
    assert value(later, "jtj", "overdue_ever.completion") == 1
    assert value(later, "jtj", "overdue_ever.milestone") == 1
    assert value(later, "jtj", "overdue_now.completion") == 0


async def test_groupings_sum_the_units_and_carry_chinese_labels(stats_api: Api) -> None:
    stories = [closed_late_signer(), returned_and_overdue(), rectified_then_ineffective()]
    await append_stories(stats_api, *stories)
    by_unit = await figures(stats_api)
    by_type = await figures(stats_api, group_by="unit_type")
    by_category = await figures(stats_api, group_by="category")
    for figure in ("assigned", "signed_late", "urged", "returned"):
        total = sum(g["figures"][figure]["value"] for g in by_unit["groups"])
        assert sum(g["figures"][figure]["value"] for g in by_type["groups"]) == total
        assert sum(g["figures"][figure]["value"] for g in by_category["groups"]) == total
    assert {g["key"] for g in by_type["groups"]} >= {"党政机关", "事业单位", "国有企业"}
    labels = {g["key"]: g["label"] for g in by_category["groups"]}
    assert labels["major_funds"] == "重大资金"
    assert by_unit["figure_labels"]["on_time_rate"].startswith("按期办结率")
    for group in by_unit["groups"]:
        assert all(f["label"] for f in group["figures"].values())
    by_leader = await figures(stats_api, group_by="leader", user=LEADER)
    assert [g["label"] for g in by_leader["groups"]] == ["王建国"]


async def test_a_unit_sees_only_its_own_figures_and_rank(stats_api: Api) -> None:
    await append_stories(stats_api, closed_late_signer())
    everyone = await figures(stats_api, user=AUDITOR)
    own = await figures(stats_api, user="zjj-he")
    assert [g["key"] for g in own["groups"]] == ["zjj"]
    assert own["ranked"] == everyone["ranked"] == len(everyone["groups"])
    assert own["groups"][0] == next(g for g in everyone["groups"] if g["key"] == "zjj")

    other = await stats_api.get("/api/stats/units/czj/items", "zjj-he", params={"figure": "assigned"})
    assert other.status_code == 403
    assert "本单位" in other.json()["detail"]
    grouped = await stats_api.get("/api/stats/units", "zjj-he", params={"group_by": "category"})
    assert grouped.status_code == 403
    assert (await stats_api.get("/api/stats/units", ADMIN)).status_code == 403
    mine = await stats_api.get(
        "/api/stats/units/zjj/items", "zjj-he", params={**PERIOD, "figure": "signed_late"}
    )
    assert mine.status_code == 200
    assert [r["item_id"] for r in mine.json()["items"]] == ["stats-a"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"from": "2026-13-01"}, "须为日期"),
        ({"as_of": "2026-03-01T10:00:00"}, "时区"),
        ({"from": "2026-06-01", "to": "2026-05-01"}, "起始时间晚于截止时间"),
        ({"group_by": "planet"}, "请求内容有误"),
    ],
)
async def test_a_malformed_period_is_a_chinese_first_422(
    stats_api: Api, params: dict[str, str], words: str
) -> None:
    response = await stats_api.get("/api/stats/units", SUPERVISOR, params=params)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    unknown = await stats_api.get("/api/stats/units/zjj/items", SUPERVISOR, params={"figure": "happiness"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("未知统计项")


def test_the_test_period_covers_the_stories() -> None:
    assert date.fromisoformat(PERIOD["from"]) < closed_late_signer().events[0].occurred_at.date()

"""domain.statistics on its own: the period's edges, the overdue intervals, the percentile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import commands as cmd
from domain.dues import weekends_only, working_days_between
from domain.stages import Stage
from domain.statistics import (
    CLOSED,
    DAYS_TO_CLOSE_P90,
    ON_TIME_RATE,
    Clock,
    Fact,
    GroupBy,
    Period,
    aggregate,
    item_facts,
    overdue_ever,
    overdue_now,
)
from tests.unit.story import CO, LEAD, START, ItemStory, story_at

YEAR = Period(
    start=START - timedelta(days=1), end=START + timedelta(days=365), as_of=START + timedelta(days=365)
)


def figures(story: ItemStory, period: Period = YEAR) -> set[tuple[str, str, int]]:
    return {(f.figure, f.unit, f.seq) for f in item_facts(story.events, period, weekends_only)}


def test_working_days_count_after_the_start_day_up_to_the_end_day() -> None:
    friday = datetime(2026, 10, 9, 2, tzinfo=UTC)
    assert working_days_between(friday, friday, weekends_only) == 0
    assert working_days_between(friday, friday + timedelta(days=3), weekends_only) == 1  # Monday
    assert working_days_between(friday, friday + timedelta(days=7), weekends_only) == 5


def test_a_sign_for_past_due_is_ever_overdue_and_late_but_not_overdue_now() -> None:
    story = story_at(Stage.DEPLOY)
    story.now += timedelta(days=10)
    story.act(LEAD, cmd.SignFor())
    found = figures(story)
    assert ("signed_late", "fgw", 2) in found
    assert (overdue_ever(Clock.SIGN_FOR), "fgw", 1) in found
    assert (overdue_ever(Clock.SIGN_FOR), "czj", 1) in found  # czj still has not signed
    assert (overdue_now(Clock.SIGN_FOR), "czj", 2) in found
    assert not any(f == overdue_now(Clock.SIGN_FOR) and u == "fgw" for f, u, _ in found)


def test_the_period_and_the_instant_cut_what_counts() -> None:
    story = story_at(Stage.DEPLOY)
    story.now += timedelta(days=10)
    story.act(LEAD, cmd.SignFor())
    signed_at = story.events[-1].occurred_at
    before = Period(start=YEAR.start, end=signed_at - timedelta(seconds=1), as_of=YEAR.as_of)
    assert not any(f == "signed_late" for f, _, _ in figures(story, before))
    as_of = Period(start=YEAR.start, end=YEAR.end, as_of=signed_at - timedelta(seconds=1))
    found = figures(story, as_of)
    assert (overdue_now(Clock.SIGN_FOR), "fgw", 1) in found
    # Before its due instant nothing is overdue, ever.
    early = Period(start=YEAR.start, end=YEAR.end, as_of=START + timedelta(hours=2))
    assert not any(f.startswith("overdue") for f, _, _ in figures(story, early))


def test_a_closed_straight_path_counts_once_for_the_lead_unit() -> None:
    story = story_at(Stage.CLOSED)
    facts = item_facts(story.events, YEAR, weekends_only)
    groups = {g.key: g for g in aggregate(facts, GroupBy.UNIT, keys=["jyj"])}
    assert groups["fgw"].figures[CLOSED].value == 1
    assert groups["fgw"].figures[ON_TIME_RATE].value == 1.0
    assert groups["czj"].figures[CLOSED].value == 0
    assert groups["czj"].figures[ON_TIME_RATE].value is None
    assert groups["jyj"].figures[CLOSED].value == 0
    assert groups["fgw"].rank == 1
    assert CO.unit == "czj"


def test_p90_is_an_observed_value() -> None:
    facts = [Fact(figure=CLOSED, unit="fgw", item_id=f"i{n}", seq=9, value=float(n)) for n in range(1, 11)]
    (group,) = aggregate(facts, GroupBy.UNIT)
    assert group.figures[DAYS_TO_CLOSE_P90].value == 9.0
    assert group.figures[DAYS_TO_CLOSE_P90].facts == tuple(facts)

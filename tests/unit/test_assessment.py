"""domain.assessment and domain.escalation_whatif on their own: each rule, the caps, the bands, the replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain import commands as cmd
from domain import events as ev
from domain.assessment import (
    Band,
    Bands,
    Finding,
    Rule,
    ScoringRules,
    compare,
    item_findings,
    score_units,
)
from domain.dues import weekends_only, working_days_between
from domain.escalation_whatif import count_levels, fire, replay_item
from domain.instants import CHINA
from domain.ladder import DEFAULT_LADDER, AppliedPolicy, Level, arm_rungs, policy_id_for
from domain.people import SYSTEM_ACTOR
from domain.state import waiting_for
from domain.statistics import Period
from domain.vocabulary import Category, Priority
from tests.store.stories import LEADER, START, SUPERVISOR, ItemStory, unit_user

DAY = timedelta(days=1)
YEAR = Period(start=START - DAY, end=START + 365 * DAY, as_of=START + 365 * DAY)
ONLY = ScoringRules(
    overdue_day=Decimal(0),
    red_card=Decimal(0),
    top_rung=Decimal(0),
    unjustified_return=Decimal(0),
    ineffective=Decimal(0),
    rectify_loop=Decimal(0),
    early_completion=Decimal(0),
)


def beijing(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00").replace(tzinfo=CHINA)


def findings(story: ItemStory, period: Period = YEAR) -> list[Finding]:
    return item_findings(story.events, period, weekends_only)


def of(found: list[Finding], rule: Rule, unit: str | None = None) -> list[Finding]:
    return [f for f in found if f.rule is rule and (unit is None or f.unit == unit)]


# --- findings: each rule from real events ---


def late_signer() -> ItemStory:
    """Opened Monday 2 March 10:30 (sign-for due Wed 4 March 18:00); zjj signs Wed 11 March."""
    story = ItemStory("assess-late")
    story.open(lead_unit="zjj", co_units=("czj",))
    story.act(unit_user("czj"), cmd.SignFor())
    story.act(unit_user("zjj"), cmd.SignFor(), after=9 * DAY - timedelta(hours=1))
    return story


def test_each_working_day_a_unit_is_overdue_counts_once() -> None:
    story = late_signer()
    signed = story.events[-1]
    assert signed.occurred_at.astimezone(CHINA).date().isoformat() == "2026-03-11"
    until_signed = Period(start=YEAR.start, end=signed.occurred_at, as_of=signed.occurred_at)
    late = of(findings(story, until_signed), Rule.OVERDUE_DAY, "zjj")
    # Thu 5, Fri 6, Mon 9, Tue 10, Wed 11 March (the weekend does not count); the plan, due
    # Mon 9 March, was late on Tue 10 and Wed 11 too, but a day costs once.
    assert [(f.quantity, f.seqs) for f in late] == [(5, (1, signed.seq))]
    assert late[0].note.startswith("sign_for:zjj")
    assert late[0].note.endswith("2026-03-05…2026-03-11")
    assert of(findings(story, until_signed), Rule.OVERDUE_DAY, "czj") == []
    # Over the year the plan stays late after the signing: the days go on, once each.
    year = of(findings(story), Rule.OVERDUE_DAY, "zjj")
    assert [f.quantity for f in year] == [len(_weekdays("2026-03-05", "2027-03-02"))]


def _weekdays(first: str, last: str) -> list[str]:
    start, end = datetime.fromisoformat(first), datetime.fromisoformat(last)
    days = [start + n * DAY for n in range((end - start).days + 1)]
    return [d.date().isoformat() for d in days if weekends_only(d.date())]


def test_overdue_days_outside_the_period_do_not_count() -> None:
    story = late_signer()
    signed = story.events[-1].occurred_at
    from_monday = Period(start=beijing("2026-03-09", 0), end=signed, as_of=signed)
    late = of(findings(story, from_monday), Rule.OVERDUE_DAY, "zjj")
    assert [f.quantity for f in late] == [3]
    until_friday = Period(start=YEAR.start, end=beijing("2026-03-06", 23), as_of=YEAR.as_of)
    late = of(findings(story, until_friday), Rule.OVERDUE_DAY, "zjj")
    assert [f.quantity for f in late] == [2]  # still pending at the period's end: Thu 5 and Fri 6


def arm(story: ItemStory, step: str, policy: AppliedPolicy) -> datetime:
    """Arm `step`'s ladder now, as the workflow records it; its due instant."""
    due = next(s.due for s in waiting_for(story.state) if s.step == step)
    assert due is not None
    rungs = arm_rungs(policy, due, weekends_only)
    story.record(
        SYSTEM_ACTOR,
        [
            ev.LadderArmed(
                step=step,
                due=due,
                rungs=rungs,
                policy_id=policy.policy_id,
                policy_version=policy.version,
                calendar="weekends-only",
            )
        ],
    )
    return due


def reach(story: ItemStory, step: str, level: Level, at: datetime, due: datetime) -> ev.RecordedEvent:
    story.now = at
    kind = ev.ReminderSent if level is Level.REMINDER else ev.EscalationRaised
    body = kind(step=step, level=level, at=at, due=due, rule="r", audience=[], recipients=[])
    return story.record(SYSTEM_ACTOR, [body])[0]


DEFAULT_POLICY = AppliedPolicy(
    policy_id=policy_id_for(Category.MAJOR_PROJECT, Priority.HIGH),
    version=1,
    category=Category.MAJOR_PROJECT,
    priority=Priority.HIGH,
    rungs=DEFAULT_LADDER.rungs,
)


def test_red_and_top_rungs_count_against_the_unit_whose_step_it_is() -> None:
    story = ItemStory("assess-rungs")
    story.open(lead_unit="zjj", co_units=("czj",))
    story.record(SYSTEM_ACTOR, [ev.PolicyApplied(policy=DEFAULT_POLICY)])
    due = arm(story, "sign_for:czj", DEFAULT_POLICY)
    red = reach(story, "sign_for:czj", Level.OVERDUE, due + 3 * DAY, due)
    top = reach(story, "sign_for:czj", Level.TOP, due + 9 * DAY, due)
    warning = reach(story, "sign_for:czj", Level.WARNING, due + 10 * DAY, due)
    found = findings(story)
    assert [(f.unit, f.seqs) for f in of(found, Rule.RED_CARD)] == [("czj", (red.seq,))]
    assert [(f.unit, f.seqs) for f in of(found, Rule.TOP_RUNG)] == [("czj", (top.seq,))]
    assert all(warning.seq not in f.seqs for f in found if f.rule is not Rule.OVERDUE_DAY)


def test_a_return_counts_as_tuiwei_only_when_the_office_gives_the_item_back() -> None:
    story = ItemStory("assess-return")
    story.open(lead_unit="fgw", co_units=())
    returned = story.act(unit_user("fgw"), cmd.ReturnAssignment(reason="不属于本单位职责"))[0]
    story.act(SUPERVISOR, cmd.Reassign(lead_unit="jtj", co_units=[], reason="改由交通局牵头"))
    assert of(findings(story), Rule.UNJUSTIFIED_RETURN) == []  # accepted: nothing
    story.act(unit_user("jtj"), cmd.ReturnAssignment(reason="也不属于本单位"))
    back = story.act(SUPERVISOR, cmd.Reassign(lead_unit="fgw", co_units=[], reason="经研究仍由发改委牵头"))[0]
    found = of(findings(story), Rule.UNJUSTIFIED_RETURN)
    assert [(f.unit, f.seqs) for f in found] == [("fgw", (returned.seq, back.seq))]  # jtj's return stood


def closed_story(*, rectify: bool, effective: bool) -> ItemStory:
    story = ItemStory("assess-close")
    story.open(lead_unit="czj", co_units=())
    story.into_implementation()
    done = cmd.ReportProgress(summary="摸底完成", percent=80, milestones_done=["完成摸底"])
    story.act(unit_user("czj"), done, after=DAY)
    story.act(unit_user("czj"), cmd.ClaimCompletion(summary="完成"), after=DAY)
    if rectify:
        inspect = cmd.Inspect(
            result="rectify", findings="台账不全", requirements="补齐", new_deadline=story.now + 30 * DAY
        )
        story.act(SUPERVISOR, inspect)
        story.act(unit_user("czj"), cmd.ClaimCompletion(summary="已整改"), after=2 * DAY)
    story.act(SUPERVISOR, cmd.Inspect(result="pass", findings="属实"))
    story.act(SUPERVISOR, cmd.SubmitReport(summary="报告"))
    story.act(LEADER, cmd.SignOff(approve=True))
    rating = "good" if effective else "poor"
    story.act(SUPERVISOR, cmd.Evaluate(effective=effective, rating=rating, comment="评估"))
    return story


def test_rectify_loops_and_ineffective_evaluations_count_for_the_lead_unit() -> None:
    found = findings(closed_story(rectify=True, effective=False))
    assert [(f.unit, f.quantity) for f in of(found, Rule.RECTIFY_LOOP)] == [("czj", 1)]
    assert [(f.unit, f.quantity) for f in of(found, Rule.INEFFECTIVE)] == [("czj", 1)]
    assert of(found, Rule.EARLY_COMPLETION) == []  # reopened, not closed


def test_an_early_close_earns_a_bonus_per_working_day_before_the_due() -> None:
    story = closed_story(rectify=False, effective=True)
    claim = next(e for e in story.events if e.type == "CompletionClaimed")
    closed = story.events[-1]
    assert closed.type == "ItemClosed"
    due = story.state.completion_due
    assert due is not None
    days = working_days_between(claim.occurred_at, due, weekends_only)
    found = of(findings(story), Rule.EARLY_COMPLETION)
    assert [(f.unit, f.quantity, f.seqs) for f in found] == [("czj", days, (claim.seq, closed.seq))]
    assert days > 10  # the deadline is months away: the per-item cap will bite


# --- pricing: points, caps, bands, ranks ---


def finding(rule: Rule, unit: str = "fgw", quantity: int = 1, item: str = "i1") -> Finding:
    return Finding(rule=rule, unit=unit, item_id=item, quantity=quantity, seqs=(1,))


@pytest.mark.parametrize(
    ("rule", "quantity", "points", "expected"),
    [
        (Rule.OVERDUE_DAY, 7, "0.5", "96.50"),
        (Rule.RED_CARD, 2, "3", "94.00"),
        (Rule.TOP_RUNG, 1, "5", "95.00"),
        (Rule.UNJUSTIFIED_RETURN, 3, "2", "94.00"),
        (Rule.INEFFECTIVE, 1, "5", "95.00"),
        (Rule.RECTIFY_LOOP, 2, "1.25", "97.50"),
        (Rule.EARLY_COMPLETION, 4, "0.25", "101.00"),
    ],
)
def test_each_rule_prices_its_findings(rule: Rule, quantity: int, points: str, expected: str) -> None:
    rules = ONLY.model_copy(update={rule.value: Decimal(points), "bonus_cap": Decimal(50)})
    [score] = score_units([finding(rule, quantity=quantity)], rules, ["fgw"])
    assert score.score == Decimal(expected)
    assert score.by_rule[rule].quantity == quantity
    assert abs(score.by_rule[rule].points) == Decimal(points) * quantity
    assert [line.rule for line in score.lines] == [rule]


def test_the_bonus_is_capped_per_item_in_days_and_per_unit_in_points() -> None:
    rules = ONLY.model_copy(
        update={"early_completion": Decimal("0.5"), "early_days_cap": 4, "bonus_cap": Decimal(3)}
    )
    [one] = score_units([finding(Rule.EARLY_COMPLETION, quantity=9)], rules, ["fgw"])
    assert (one.lines[0].quantity, one.bonus, one.score, one.bonus_capped) == (
        4,
        Decimal(2),
        Decimal(102),
        False,
    )
    many = [finding(Rule.EARLY_COMPLETION, quantity=9, item=f"i{n}") for n in range(3)]
    [capped] = score_units(many, rules, ["fgw"])
    assert capped.by_rule[Rule.EARLY_COMPLETION].points == Decimal(6)
    assert (capped.bonus, capped.score, capped.bonus_capped) == (Decimal(3), Decimal(103), True)


@pytest.mark.parametrize(
    ("deducted", "band"),
    [
        (0, Band.EXCELLENT),
        (10, Band.EXCELLENT),
        (11, Band.GOOD),
        (20, Band.GOOD),
        (21, Band.PASS),
        (40, Band.PASS),
        (41, Band.FAIL),
    ],
)
def test_bands_include_their_threshold(deducted: int, band: Band) -> None:
    rules = ONLY.model_copy(update={"red_card": Decimal(1)})
    found = [finding(Rule.RED_CARD, quantity=deducted)] if deducted else []
    [score] = score_units(found, rules, ["fgw"])
    assert score.score == Decimal(100 - deducted)
    assert score.band is band


def test_a_score_never_goes_below_zero_and_ties_share_a_rank() -> None:
    rules = ONLY.model_copy(update={"red_card": Decimal(30)})
    found = [
        finding(Rule.RED_CARD, "fgw", 5),
        finding(Rule.RED_CARD, "czj", 1),
        finding(Rule.RED_CARD, "jtj", 1),
    ]
    scores = score_units(found, rules, ["fgw", "czj", "jtj", "zjj"])
    assert [(s.unit, s.score, s.rank) for s in scores] == [
        ("zjj", Decimal(100), 1),
        ("czj", Decimal(70), 2),
        ("jtj", Decimal(70), 2),
        ("fgw", Decimal(0), 4),
    ]
    assert scores[-1].band is Band.FAIL


def test_malformed_rules_are_refused() -> None:
    with pytest.raises(ValidationError, match="优秀 > 良好 > 合格"):
        Bands(excellent=Decimal(80), good=Decimal(85), passing=Decimal(60))
    with pytest.raises(ValidationError):
        ScoringRules(red_card=Decimal(-1))
    with pytest.raises(ValidationError):
        ScoringRules(red_card=Decimal("0.125"))
    with pytest.raises(ValidationError):
        ScoringRules.model_validate({"happiness": 3})


def test_a_what_if_shows_both_scores_both_bands_and_the_delta() -> None:
    found = [finding(Rule.RED_CARD, "fgw", 4), finding(Rule.OVERDUE_DAY, "czj", 10)]
    current = score_units(found, ScoringRules(), ["fgw", "czj"])
    stricter = score_units(found, ScoringRules(red_card=Decimal(6)), ["fgw", "czj"])
    rows = {row.unit: row for row in compare(current, stricter)}
    assert (rows["fgw"].current, rows["fgw"].proposed, rows["fgw"].delta) == (
        Decimal(88),
        Decimal(76),
        Decimal(-12),
    )
    assert (rows["fgw"].current_band, rows["fgw"].proposed_band) == (Band.GOOD, Band.PASS)
    assert rows["czj"].delta == 0


# --- the escalation what-if ---


T0 = datetime(2026, 3, 2, 2, tzinfo=UTC)


def test_a_ladder_fires_the_gravest_passed_rung_at_once_then_each_rung_at_its_instant() -> None:
    rungs = [
        (Level.REMINDER, T0 - DAY),
        (Level.WARNING, T0 - timedelta(hours=1)),
        (Level.OVERDUE, T0 + DAY),
        (Level.TOP, T0 + 3 * DAY),
    ]
    assert fire(rungs, T0, T0 + 2 * DAY, closed=True) == {Level.WARNING: T0, Level.OVERDUE: T0 + DAY}
    assert fire(rungs, T0, T0 + DAY, closed=True) == {Level.WARNING: T0}  # the step was done at that instant
    assert fire(rungs, T0, T0 + DAY, closed=False) == {Level.WARNING: T0, Level.OVERDUE: T0 + DAY}
    assert fire(rungs, T0, T0 + 5 * DAY, closed=False) == {
        Level.WARNING: T0,
        Level.OVERDUE: T0 + DAY,
        Level.TOP: T0 + 3 * DAY,
    }


def ladder_story() -> tuple[ItemStory, datetime, dict[Level, ev.RecordedEvent]]:
    """czj's sign-for ladder under the default policy: reminder and warning raised, then czj signs."""
    story = ItemStory("assess-ladder")
    story.open(lead_unit="zjj", co_units=("czj",))
    story.record(SYSTEM_ACTOR, [ev.PolicyApplied(policy=DEFAULT_POLICY)])
    due = arm(story, "sign_for:czj", DEFAULT_POLICY)
    rungs = {r.level: r.at for r in arm_rungs(DEFAULT_POLICY, due, weekends_only)}
    raised = {
        Level.REMINDER: reach(story, "sign_for:czj", Level.REMINDER, rungs[Level.REMINDER], due),
        Level.WARNING: reach(story, "sign_for:czj", Level.WARNING, rungs[Level.WARNING], due),
    }
    story.now = beijing("2026-03-05", 10)
    story.act(unit_user("czj"), cmd.SignFor(), after=timedelta(0))
    return story, due, raised


def test_replaying_the_recorded_version_reproduces_the_log() -> None:
    story, due, raised = ladder_story()
    replay = replay_item(story.events, DEFAULT_POLICY, YEAR, weekends_only)
    assert replay is not None
    assert replay.replay_matches_log
    assert [(r.level, r.change, r.recorded_seq) for r in replay.rows] == [
        (Level.REMINDER, "same", raised[Level.REMINDER].seq),
        (Level.WARNING, "same", raised[Level.WARNING].seq),
    ]
    assert due == beijing("2026-03-04", 18)


def test_a_stricter_ladder_shows_what_it_would_have_raised_against_the_log() -> None:
    story, due, raised = ladder_story()
    armed_at = next(e.occurred_at for e in story.events if e.type == "LadderArmed")
    stricter = AppliedPolicy.model_validate(
        DEFAULT_POLICY.model_dump()
        | {
            "version": 2,
            "rungs": [
                {"level": "reminder", "offset_days": -3, "audience": ["unit_handlers"]},
                {"level": "warning", "offset_days": -1, "audience": ["unit_handlers"]},
                {"level": "overdue", "offset_days": 0, "audience": ["responsible_leader"]},
                {"level": "top", "offset_days": 5, "audience": ["top_leader"]},
            ],
        }
    )
    replay = replay_item(story.events, stricter, YEAR, weekends_only)
    assert replay is not None
    rows = {r.level: r for r in replay.rows}
    assert rows[Level.REMINDER].proposed_at == armed_at  # already due when armed: at once
    assert rows[Level.REMINDER].change == "moved"
    assert rows[Level.WARNING].proposed_at == beijing("2026-03-03", 18)
    assert rows[Level.WARNING].recorded_at == raised[Level.WARNING].occurred_at
    assert (rows[Level.OVERDUE].proposed_at, rows[Level.OVERDUE].change) == (due, "added")
    assert Level.TOP not in rows  # czj signed on Thursday, before the top rung
    totals = {c.level: (c.proposed, c.recorded) for c in count_levels([replay])}
    assert totals == {Level.REMINDER: (1, 1), Level.WARNING: (1, 1), Level.OVERDUE: (1, 0), Level.TOP: (0, 0)}
    other = stricter.model_copy(update={"priority": Priority.URGENT})
    assert replay_item(story.events, other, YEAR, weekends_only) is None

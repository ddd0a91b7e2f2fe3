"""考核: a unit's score for a period, computed from the audit log's events under a scoring policy.

Pure. Scoring runs in two steps so that the same log can be scored under any policy version:

1. `item_findings` folds one item's events (with the domain's own `evolve`) and lists the
   *findings* the rules look at — a working day overdue, a red card, an unjustified return, an
   ineffective evaluation, a rectify loop, an early completion — each naming the unit it counts
   against, the item and the event seqs behind it. Findings depend on the log and the calendar,
   never on the policy.
2. `score_units` prices the findings under one `ScoringRules`: base score, minus each deduction,
   plus the (capped) bonus, then the band and the rank. Every line of the breakdown is one
   finding times one rule's points.

Attribution follows the statistics (domain/statistics.py): a unit's own clock (its sign-for)
counts for that unit; the plan, milestone and completion clocks, rungs on them, evaluations and
rectify loops count for the lead unit at the time.

Rules, exactly:
- **overdue working days** — per item and unit, the Beijing working days inside the period on
  which some step on the unit's clock was overdue: for each pending step instance (step and due
  instant), the days D with due's date < D ≤ the date the step stopped waiting (or the period's
  last instant); a day on which two clocks were late costs once;
- **red card / 一把手** — each `overdue` / `top` rung reached in the period on a unit's step;
- **unjustified return (推诿)** — a return in the period that the office overruled: a later
  reassignment in the period gives the item back to the unit that returned it (the domain never
  reassigns to a unit whose return stands, so the office's answer is a later reassignment). A
  return the office accepted — the item stays with other units — counts nothing;
- **ineffective evaluation** — each `ItemReopened` in the period;
- **rectify loop** — each `RectificationOrdered` in the period;
- **early completion** — an item closed effective in the period whose closing claim came
  N working days before the completion due: N (capped per item) times the bonus, the unit's
  total bonus capped again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from domain import events as ev
from domain.dues import IsWorkday, working_days_between
from domain.events import RecordedEvent
from domain.fold import evolve
from domain.instants import CHINA
from domain.ladder import Level
from domain.state import ItemState, waiting_for
from domain.statistics import Period, step_clock, step_unit

Points = Annotated[
    Decimal,
    Field(ge=0, le=1000, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
"""Points with at most two decimals, exact in arithmetic, plain numbers in JSON."""

CENT = Decimal("0.01")


class Rule(StrEnum):
    """The rules of a scoring policy."""

    OVERDUE_DAY = "overdue_day"
    RED_CARD = "red_card"
    TOP_RUNG = "top_rung"
    UNJUSTIFIED_RETURN = "unjustified_return"
    INEFFECTIVE = "ineffective"
    RECTIFY_LOOP = "rectify_loop"
    EARLY_COMPLETION = "early_completion"


RULE_LABELS = {
    Rule.OVERDUE_DAY: "超期（每工作日）/ per working day overdue",
    Rule.RED_CARD: "红牌（超期红灯）/ per red card",
    Rule.TOP_RUNG: "挂牌督办（一把手）/ per top-level rung",
    Rule.UNJUSTIFIED_RETURN: "无正当理由退回（推诿）/ per unjustified return",
    Rule.INEFFECTIVE: "评估无效 / per ineffective evaluation",
    Rule.RECTIFY_LOOP: "整改 / per rectify loop",
    Rule.EARLY_COMPLETION: "提前办结加分（每工作日）/ bonus per working day early",
}
DEDUCTIONS = tuple(rule for rule in Rule if rule is not Rule.EARLY_COMPLETION)


class Band(StrEnum):
    """The four 考核 grades."""

    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"  # noqa: S105 — a band, not a password
    FAIL = "fail"

    @property
    def label(self) -> str:
        """The Chinese-first name."""
        return BAND_LABELS[self]


BAND_LABELS = {
    Band.EXCELLENT: "优秀 / excellent",
    Band.GOOD: "良好 / good",
    Band.PASS: "合格 / pass",
    Band.FAIL: "不合格 / fail",
}


class Bands(BaseModel):
    """The lowest score of each band above 不合格 (a score at a threshold is in that band)."""

    # One schema for reading and writing (a Decimal would otherwise split it into -Input/-Output,
    # two models of one name that client generators refuse).
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_mode_override="validation")

    excellent: Points = Decimal(90)
    good: Points = Decimal(80)
    passing: Points = Decimal(60)

    @model_validator(mode="after")
    def _descending(self) -> Bands:
        if not self.excellent > self.good > self.passing:
            raise ValueError(
                "等次分数线须 优秀 > 良好 > 合格 / band thresholds must be excellent > good > pass"
            )
        return self

    def of(self, score: Decimal) -> Band:
        """The band a score falls in."""
        if score >= self.excellent:
            return Band.EXCELLENT
        if score >= self.good:
            return Band.GOOD
        if score >= self.passing:
            return Band.PASS
        return Band.FAIL


class ScoringRules(BaseModel):
    """A scoring policy's content: the base, each rule's points, the bonus caps and the bands."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_mode_override="validation")

    base: Points = Decimal(100)
    overdue_day: Points = Decimal("0.5")
    red_card: Points = Decimal(3)
    top_rung: Points = Decimal(5)
    unjustified_return: Points = Decimal(2)
    ineffective: Points = Decimal(5)
    rectify_loop: Points = Decimal(2)
    early_completion: Points = Decimal("0.2")
    early_days_cap: int = Field(default=10, ge=0, le=365, description="每事项提前天数上限 / days per item")
    bonus_cap: Points = Field(default=Decimal(5), description="每单位加分上限 / a unit's bonus cap")
    bands: Bands = Bands()

    def points(self, rule: Rule) -> Decimal:
        """The points one unit of `rule` is worth (deductions and the bonus alike)."""
        value: Decimal = getattr(self, rule.value)
        return value


DEFAULT_RULES = ScoringRules()
"""The seeded default version's content."""


class Finding(BaseModel):
    """One thing a rule looks at: which unit, which item, how many (days or 1), which events."""

    model_config = ConfigDict(frozen=True)

    rule: Rule
    unit: str
    item_id: str
    quantity: int
    seqs: tuple[int, ...]
    note: str = ""


def _workdays_in(after: date, through: date, is_workday: IsWorkday) -> list[date]:
    """The working days d with after < d ≤ through."""
    found: list[date] = []
    day = after
    while day < through:
        day += timedelta(days=1)
        if is_workday(day):
            found.append(day)
    return found


@dataclass
class _Instance:
    """A pending step with one due instant, while it stays pending."""

    step: str
    unit: str
    due: datetime
    first_seq: int
    end: datetime | None = None
    end_seq: int | None = None


@dataclass
class _Walk:
    period: Period
    is_workday: IsWorkday
    findings: list[Finding] = field(default_factory=list)
    open_steps: dict[tuple[str, datetime], _Instance] = field(default_factory=dict)
    ended: list[_Instance] = field(default_factory=list)
    returns: dict[str, list[int]] = field(default_factory=dict)
    claim: tuple[int, datetime, datetime | None] | None = None

    def add(
        self, rule: Rule, unit: str, item_id: str, seqs: tuple[int, ...], *, quantity: int = 1, note: str = ""
    ) -> None:
        self.findings.append(
            Finding(rule=rule, unit=unit, item_id=item_id, quantity=quantity, seqs=seqs, note=note)
        )

    def steps(self, state: ItemState, at: datetime, seq: int) -> None:
        """Track the unit steps pending after the event at `at` (seq): start new ones, end gone ones."""
        now: dict[tuple[str, datetime], str] = {}
        for step in waiting_for(state):
            unit = step_unit(state, step.step)
            if step.due is not None and step_clock(step.step) is not None and unit is not None:
                now[(step.step, step.due)] = unit
        for key in list(self.open_steps):
            if key not in now:
                instance = self.open_steps.pop(key)
                instance.end, instance.end_seq = at, seq
                self.ended.append(instance)
        for key, unit in now.items():
            if key not in self.open_steps:
                self.open_steps[key] = _Instance(step=key[0], unit=unit, due=key[1], first_seq=seq)

    def event(self, before: ItemState, after: ItemState, event: RecordedEvent) -> None:
        body = event.body()
        item = after.id
        if isinstance(body, ev.CompletionClaimed):
            self.claim = (event.seq, event.occurred_at, before.completion_due)
        if not self.period.holds(event.occurred_at):
            return
        if isinstance(body, ev.RungReached) and body.level in (Level.OVERDUE, Level.TOP):
            unit = step_unit(before, body.step)
            if unit is not None:
                rule = Rule.RED_CARD if body.level is Level.OVERDUE else Rule.TOP_RUNG
                self.add(rule, unit, item, (event.seq,), note=body.step)
        elif isinstance(body, ev.AssignmentReturned | ev.UnitsReassigned):
            self._returns(after, body, event.seq)
        elif isinstance(body, ev.ItemReopened):
            self.add(Rule.INEFFECTIVE, before.lead_unit, item, (event.seq,))
        elif isinstance(body, ev.RectificationOrdered):
            self.add(Rule.RECTIFY_LOOP, before.lead_unit, item, (event.seq,))
        elif isinstance(body, ev.ItemClosed):
            self._closed(before, event.seq)

    def _returns(self, after: ItemState, body: ev.AssignmentReturned | ev.UnitsReassigned, seq: int) -> None:
        """A return stays open until the office assigns the item back to the unit: then it was 推诿."""
        if isinstance(body, ev.AssignmentReturned):
            self.returns.setdefault(body.unit, []).append(seq)
            return
        for unit in sorted(set(after.units()) & set(self.returns)):
            for returned in self.returns.pop(unit):
                self.add(Rule.UNJUSTIFIED_RETURN, unit, after.id, (returned, seq))

    def _closed(self, before: ItemState, seq: int) -> None:
        """An early completion: the closing claim came working days before the completion due."""
        if self.claim is None:
            return
        claim_seq, claimed_at, due = self.claim
        if due is not None and claimed_at < due:
            days = working_days_between(claimed_at, due, self.is_workday)
            if days > 0:
                self.add(Rule.EARLY_COMPLETION, before.lead_unit, before.id, (claim_seq, seq), quantity=days)

    def overdue(self, item_id: str) -> None:
        """One finding per unit: the working days inside the period on which any of its steps on
        this item was overdue (a day with two late clocks costs once)."""
        first = self.period.start.astimezone(CHINA).date()
        last = self.period.last.astimezone(CHINA).date()
        late: dict[str, tuple[set[date], set[int], list[str]]] = {}
        for instance in self.ended:
            end = instance.end if instance.end is not None else self.period.last
            if end <= instance.due:
                continue
            after = max(instance.due.astimezone(CHINA).date(), first - timedelta(days=1))
            through = min(end.astimezone(CHINA).date(), last)
            days = _workdays_in(after, through, self.is_workday)
            if days:
                found_days, seqs, steps = late.setdefault(instance.unit, (set(), set(), []))
                found_days.update(days)
                seqs.update(s for s in (instance.first_seq, instance.end_seq) if s is not None)
                steps.append(instance.step)
        for unit in sorted(late):
            found_days, seqs, steps = late[unit]
            span = f"{min(found_days).isoformat()}…{max(found_days).isoformat()}"
            note = f"{'、'.join(dict.fromkeys(steps))} {span}"
            self.add(
                Rule.OVERDUE_DAY, unit, item_id, tuple(sorted(seqs)), quantity=len(found_days), note=note
            )


def item_findings(events: Iterable[RecordedEvent], period: Period, is_workday: IsWorkday) -> list[Finding]:
    """The findings of one item's events (seq order; those after `as_of` are ignored)."""
    return walk_item(events, period, is_workday)[0]


def walk_item(
    events: Iterable[RecordedEvent], period: Period, is_workday: IsWorkday
) -> tuple[list[Finding], ItemState]:
    """The findings of one item's events and its state at the period's last instant, from one fold
    (a breakdown names the item by that state's number and title)."""
    walk = _Walk(period, is_workday)
    state = ItemState()
    for event in events:
        if event.occurred_at > period.as_of or event.occurred_at > period.end:
            break
        before, state = state, evolve(state, event)
        walk.event(before, state, event)
        walk.steps(state, event.occurred_at, event.seq)
    for instance in walk.open_steps.values():
        instance.end = period.last
        walk.ended.append(instance)
    walk.overdue(state.id)
    return walk.findings, state


class ScoreLine(BaseModel):
    """One line of a breakdown: a finding priced under one rule (negative for deductions)."""

    model_config = ConfigDict(frozen=True)

    rule: Rule
    item_id: str
    quantity: int
    points: Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
    seqs: tuple[int, ...]
    note: str = ""


class RuleTotal(BaseModel):
    """A rule's total for one unit: how many (days or events) and the points."""

    model_config = ConfigDict(frozen=True)

    quantity: int
    points: Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class UnitScore(BaseModel):
    """A unit's score for the period: the total, band, rank and the breakdown behind them."""

    model_config = ConfigDict(frozen=True)

    unit: str
    score: Money
    band: Band
    rank: int
    base: Money
    deductions: Money
    bonus: Money
    bonus_capped: bool
    by_rule: dict[Rule, RuleTotal]
    lines: tuple[ScoreLine, ...]


def _price(unit: str, findings: list[Finding], rules: ScoringRules) -> UnitScore:
    lines: list[ScoreLine] = []
    for finding in findings:
        quantity = finding.quantity
        if finding.rule is Rule.EARLY_COMPLETION:
            quantity = min(quantity, rules.early_days_cap)
            sign = Decimal(1)
        else:
            sign = Decimal(-1)
        points = (sign * quantity * rules.points(finding.rule)).quantize(CENT)
        lines.append(
            ScoreLine(
                rule=finding.rule,
                item_id=finding.item_id,
                quantity=quantity,
                points=points,
                seqs=finding.seqs,
                note=finding.note,
            )
        )
    by_rule: dict[Rule, RuleTotal] = {}
    for rule in Rule:
        mine = [line for line in lines if line.rule is rule]
        by_rule[rule] = RuleTotal(
            quantity=sum(line.quantity for line in mine),
            points=sum((line.points for line in mine), Decimal(0)),
        )
    deductions = -sum((by_rule[rule].points for rule in DEDUCTIONS), Decimal(0))
    earned = by_rule[Rule.EARLY_COMPLETION].points
    bonus = min(earned, rules.bonus_cap)
    score = max(rules.base - deductions + bonus, Decimal(0)).quantize(CENT)
    return UnitScore(
        unit=unit,
        score=score,
        band=rules.bands.of(score),
        rank=0,
        base=rules.base,
        deductions=deductions.quantize(CENT),
        bonus=bonus.quantize(CENT),
        bonus_capped=earned > rules.bonus_cap,
        by_rule=by_rule,
        lines=tuple(lines),
    )


def score_units(findings: Iterable[Finding], rules: ScoringRules, units: Iterable[str]) -> list[UnitScore]:
    """Every unit's score under `rules`, best first (ties share a rank); no findings: the base."""
    grouped: dict[str, list[Finding]] = {unit: [] for unit in units}
    for finding in findings:
        grouped.setdefault(finding.unit, []).append(finding)
    priced = sorted(
        (_price(unit, found, rules) for unit, found in grouped.items()), key=lambda s: (-s.score, s.unit)
    )
    ranked: list[UnitScore] = []
    for position, score in enumerate(priced, start=1):
        tied = bool(ranked) and ranked[-1].score == score.score
        ranked.append(score.model_copy(update={"rank": ranked[-1].rank if tied else position}))
    return ranked


class Comparison(BaseModel):
    """One unit under the current and a proposed policy."""

    model_config = ConfigDict(frozen=True)

    unit: str
    current: Money
    current_band: Band
    proposed: Money
    proposed_band: Band
    delta: Money


def compare(current: list[UnitScore], proposed: list[UnitScore]) -> list[Comparison]:
    """Side by side, in the current ranking's order."""
    other = {score.unit: score for score in proposed}
    return [
        Comparison(
            unit=score.unit,
            current=score.score,
            current_band=score.band,
            proposed=other[score.unit].score,
            proposed_band=other[score.unit].band,
            delta=other[score.unit].score - score.score,
        )
        for score in current
        if score.unit in other
    ]


def figures_of(scores: list[UnitScore]) -> list[dict[str, object]]:
    """The published figures: each unit's score, band, rank and per-rule totals (JSON-ready)."""
    return [score.model_dump(mode="json", exclude={"lines"}) for score in scores]

"""The office's statistics, computed from items' events as of an instant, each figure explainable.

Pure: the caller streams each item's events (those that occurred by `as_of`, in seq order) into
`StatisticsBuilder.add_item`, and injects what the events do not hold: the working-day calendar
(for days to close), the org chart's unit of each user (to attribute notices) and each unit's
type. Every figure is the number of *facts* behind it, and every fact names the item, the event
seq and the unit it counts for, so a number can always be traced back to the log.

Attribution, once for all figures:
- a unit's own acts and clocks count for that unit: its assignment and sign-for, its returns,
  urges naming it, its extension requests, notices to its users;
- the item's outcomes and its lead-unit clocks (plan, milestones, completion, rectification,
  evaluation, escalations on those steps) count for the lead unit at the time.
Period figures count events that occurred in [from, to]; "overdue now" is a snapshot at `as_of`.
Grouping by unit type, category, leader or source sums the unit facts of each group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from math import ceil

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.dues import IsWorkday, working_days_between
from domain.events import RecordedEvent
from domain.fold import evolve
from domain.ladder import Level
from domain.state import AssignmentStatus, ItemState, waiting_for
from domain.vocabulary import CATEGORY_LABELS, SOURCE_LABELS, Category, Source

Notice = ev.NotificationDelivered | ev.NotificationQueued | ev.NotificationFailed


class Clock(StrEnum):
    """The clocks a unit runs against: 签收, 工作方案, 时间节点, 办结."""

    SIGN_FOR = "sign_for"
    PLAN = "plan"
    MILESTONE = "milestone"
    COMPLETION = "completion"


CLOCK_LABELS = {
    Clock.SIGN_FOR: "签收",
    Clock.PLAN: "工作方案",
    Clock.MILESTONE: "时间节点",
    Clock.COMPLETION: "办结",
}


class GroupBy(StrEnum):
    """What the figures are aggregated over."""

    UNIT = "unit"
    UNIT_TYPE = "unit_type"
    CATEGORY = "category"
    LEADER = "leader"
    SOURCE = "source"


# Counted figures: each is the number of facts recorded under its name.
ASSIGNED = "assigned"
SIGNED_ON_TIME = "signed_on_time"
SIGNED_LATE = "signed_late"
CLOSED = "closed"
CLOSED_ON_TIME = "closed_on_time"
RETURNED = "returned"
REASSIGNED_AWAY = "reassigned_away"
URGED = "urged"
EXTENSION_REQUESTED = "extension_requested"
EXTENSION_GRANTED = "extension_granted"
RECTIFIED = "rectified"
EFFECTIVE = "effective"
INEFFECTIVE = "ineffective"
NOTICE_SENT = "notice_sent"
NOTICE_DELIVERED = "notice_delivered"
# Derived figures: computed from the facts of `closed`, which explain them.
ON_TIME_RATE = "on_time_rate"
DAYS_TO_CLOSE_AVG = "days_to_close_avg"
DAYS_TO_CLOSE_P90 = "days_to_close_p90"


def overdue_now(clock: Clock) -> str:
    """The figure of items overdue at `as_of` on `clock`, e.g. `overdue_now.plan`."""
    return f"overdue_now.{clock.value}"


def overdue_ever(clock: Clock) -> str:
    """The figure of items overdue at some instant of the period on `clock`."""
    return f"overdue_ever.{clock.value}"


def escalations(level: Level) -> str:
    """The figure of rungs of `level` reached in the period, e.g. `escalation.top`."""
    return f"escalation.{level.value}"


_RUNG_LABELS = {
    Level.REMINDER: "提醒",
    Level.WARNING: "黄灯预警",
    Level.OVERDUE: "红灯超期",
    Level.TOP: "挂牌督办（一把手）",
}

FIGURE_LABELS: dict[str, str] = {
    ASSIGNED: "交办事项 / items assigned",
    SIGNED_ON_TIME: "按时签收 / signed for on time",
    SIGNED_LATE: "超时签收 / signed for late",
    CLOSED: "办结（评估有效）/ closed effective",
    CLOSED_ON_TIME: "按期办结 / closed on time",
    ON_TIME_RATE: "按期办结率 / on-time closing rate",
    **{overdue_now(c): f"当前超期（{CLOCK_LABELS[c]}）/ overdue now ({c.value})" for c in Clock},
    **{overdue_ever(c): f"曾超期（{CLOCK_LABELS[c]}）/ ever overdue ({c.value})" for c in Clock},
    DAYS_TO_CLOSE_AVG: "平均办结用时（工作日）/ average working days to close",
    DAYS_TO_CLOSE_P90: "办结用时 P90（工作日）/ p90 working days to close",
    RETURNED: "退回（推诿）/ returns",
    REASSIGNED_AWAY: "被改派 / reassigned away",
    URGED: "收到催办 / urges received",
    **{escalations(level): f"{_RUNG_LABELS[level]} / escalation: {level.value}" for level in Level},
    EXTENSION_REQUESTED: "申请延期 / extensions asked",
    EXTENSION_GRANTED: "批准延期 / extensions granted",
    RECTIFIED: "整改 / rectify loops",
    EFFECTIVE: "评估有效 / evaluated effective",
    INEFFECTIVE: "评估无效 / evaluated ineffective",
    NOTICE_SENT: "发出通知 / notices sent",
    NOTICE_DELIVERED: "送达通知 / notices delivered",
}
"""Every figure's name and its Chinese-first label, in the order reports list them."""

DERIVED = frozenset({ON_TIME_RATE, DAYS_TO_CLOSE_AVG, DAYS_TO_CLOSE_P90})


class Fact(BaseModel):
    """One thing that counts towards a figure: which item, which event, for which unit.

    `value` carries a measure where the figure needs one (working days to close).
    `category`, `leader` and `source` are the item's, for grouping.
    """

    model_config = ConfigDict(frozen=True)

    figure: str
    unit: str
    item_id: str
    seq: int
    value: float | None = None
    category: Category | None = None
    leader: str = ""
    source: Source | None = None


class Period(BaseModel):
    """The instants the figures look at: events in [start, end], states as of `as_of`."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    as_of: datetime

    def holds(self, moment: datetime) -> bool:
        """True if `moment` falls in the period and by `as_of`."""
        return self.start <= moment <= self.end and moment <= self.as_of

    @property
    def last(self) -> datetime:
        """The latest instant the period can see."""
        return min(self.end, self.as_of)


def step_clock(step: str) -> Clock | None:
    """The clock a pending step runs on (None for the office's and the leader's own steps)."""
    kind = step.split(":", 1)[0]
    return {
        "sign_for": Clock.SIGN_FOR,
        "submit_plan": Clock.PLAN,
        "milestone": Clock.MILESTONE,
        "claim_completion": Clock.COMPLETION,
    }.get(kind)


def step_unit(state: ItemState, step: str) -> str | None:
    """The unit a step's clock counts against: the named unit for a sign-for, else the lead unit."""
    clock = step_clock(step)
    if clock is None:
        return None
    if clock is Clock.SIGN_FOR:
        return step.split(":", 1)[1]
    return state.lead_unit or None


@dataclass
class _ItemWalk:
    """The facts of one item, found while folding its events."""

    period: Period
    is_workday: IsWorkday
    unit_of_user: Mapping[str, str]
    facts: list[Fact] = field(default_factory=list)
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    claim_on_time: bool | None = None

    def add(self, state: ItemState, figure: str, unit: str, seq: int, value: float | None = None) -> None:
        self.facts.append(
            Fact(
                figure=figure,
                unit=unit,
                item_id=state.id,
                seq=seq,
                value=value,
                category=state.category,
                leader=state.leader,
                source=state.source,
            )
        )

    def add_once(self, state: ItemState, figure: str, unit: str, seq: int) -> None:
        """Add a fact counted once per item, figure and unit (the first seq explains it)."""
        key = (figure, unit, state.id)
        if key not in self.seen:
            self.seen.add(key)
            self.add(state, figure, unit, seq)

    def overdue_between(self, state: ItemState, after: datetime, until: datetime) -> None:
        """Steps pending in `state` from `after` to `until` that were past due inside the period.

        A step due at d is overdue at every instant t > d while pending; the period sees t in
        [start, last]. The state's last seq explains it: the event that left the step waiting.
        """
        last = min(until, self.period.last)
        if last < self.period.start:
            return
        for step in waiting_for(state):
            clock = step_clock(step.step)
            unit = step_unit(state, step.step)
            if step.due is None or clock is None or unit is None:
                continue
            if max(step.due, after) < last:
                self.add_once(state, overdue_ever(clock), unit, state.last_seq)

    def overdue_at(self, state: ItemState, moment: datetime) -> None:
        """Steps pending in `state` and past due at `moment` (the "overdue now" snapshot)."""
        for step in waiting_for(state):
            clock = step_clock(step.step)
            unit = step_unit(state, step.step)
            if step.due is not None and clock is not None and unit is not None and step.due < moment:
                self.add_once(state, overdue_now(clock), unit, state.last_seq)

    def event(self, before: ItemState, after: ItemState, event: RecordedEvent) -> None:
        """The facts one event adds, if it occurred in the period."""
        if self.period.holds(event.occurred_at):
            body = event.body()
            if not self._unit_event(before, after, body, event):
                self._item_event(before, after, body, event.seq)
        self._note_claim(before, event)

    def _unit_event(
        self, before: ItemState, after: ItemState, body: ev.EventBody, event: RecordedEvent
    ) -> bool:
        """A unit's own assignment, sign-for, return, urge or extension request; False for others."""
        seq = event.seq
        if isinstance(body, ev.ItemOpened | ev.UnitsReassigned):
            for unit in after.assignments:
                earlier = before.assignments.get(unit)
                if earlier is None or earlier.status is AssignmentStatus.RETURNED:
                    self.add(after, ASSIGNED, unit, seq)
            if isinstance(body, ev.UnitsReassigned):
                away = set(before.units()) - set(after.units())
                if before.lead_unit != after.lead_unit:
                    away.add(before.lead_unit)
                for unit in sorted(away):
                    self.add(after, REASSIGNED_AWAY, unit, seq)
        elif isinstance(body, ev.AssignmentSigned):
            due = before.assignments[body.unit].sign_for_due
            self.add(after, SIGNED_ON_TIME if event.occurred_at <= due else SIGNED_LATE, body.unit, seq)
        elif isinstance(body, ev.AssignmentReturned):
            self.add(after, RETURNED, body.unit, seq)
        elif isinstance(body, ev.ItemUrged):
            for unit in dict.fromkeys(body.units):
                self.add(after, URGED, unit, seq)
        elif isinstance(body, ev.ExtensionRequested):
            self.add(after, EXTENSION_REQUESTED, body.unit, seq)
        else:
            return False
        return True

    def _item_event(self, before: ItemState, after: ItemState, body: ev.EventBody, seq: int) -> None:
        """The item's outcomes, escalations and notices."""
        if isinstance(body, ev.ExtensionApproved):
            unit = before.extension.unit if before.extension else before.lead_unit
            self.add(after, EXTENSION_GRANTED, unit, seq)
        elif isinstance(body, ev.RectificationOrdered):
            self.add(after, RECTIFIED, before.lead_unit, seq)
        elif isinstance(body, ev.ItemClosed):
            self._closed(before, after, seq)
        elif isinstance(body, ev.ItemReopened):
            self.add(after, INEFFECTIVE, before.lead_unit, seq)
        elif isinstance(body, ev.RungReached):
            if (step_owner := step_unit(before, body.step)) is not None:
                self.add(after, escalations(body.level), step_owner, seq)
        elif isinstance(body, ev.NotificationDelivered | ev.NotificationQueued | ev.NotificationFailed):
            self._notice(after, body, seq)

    def _note_claim(self, before: ItemState, event: RecordedEvent) -> None:
        # 按期办结 is the unit's part: the claim that led to the close came by the completion due.
        if event.type == ev.CompletionClaimed.type_name():
            due = before.completion_due
            self.claim_on_time = due is None or event.occurred_at <= due

    def _closed(self, before: ItemState, after: ItemState, seq: int) -> None:
        unit = before.lead_unit
        self.add(after, EFFECTIVE, unit, seq)
        opened = after.opened_at or after.closed_at
        days = (
            working_days_between(opened, after.closed_at, self.is_workday)
            if opened is not None and after.closed_at is not None
            else 0
        )
        self.add(after, CLOSED, unit, seq, float(days))
        if self.claim_on_time:
            self.add(after, CLOSED_ON_TIME, unit, seq)

    def _notice(
        self,
        state: ItemState,
        body: ev.NotificationDelivered | ev.NotificationQueued | ev.NotificationFailed,
        seq: int,
    ) -> None:
        unit = self.unit_of_user.get(body.recipient)
        if unit is None:
            return  # leaders, the office and auditors are not units being assessed
        notice = f"{body.notice_seq}/{body.recipient}/{body.channel}"
        self.add_once(state, f"{NOTICE_SENT}#{notice}", unit, seq)
        if isinstance(body, ev.NotificationDelivered):
            self.add_once(state, f"{NOTICE_DELIVERED}#{notice}", unit, seq)


def item_facts(
    events: Iterable[RecordedEvent],
    period: Period,
    is_workday: IsWorkday,
    unit_of_user: Mapping[str, str] | None = None,
) -> list[Fact]:
    """The facts of one item's events (in seq order, those that occurred by `as_of`)."""
    walk = _ItemWalk(period, is_workday, unit_of_user or {})
    state = ItemState()
    since: datetime | None = None
    for event in events:
        if event.occurred_at > period.as_of:
            break
        if since is not None:
            walk.overdue_between(state, since, event.occurred_at)
        before, state = state, evolve(state, event)
        walk.event(before, state, event)
        since = event.occurred_at
    if since is not None:
        walk.overdue_between(state, since, period.as_of)
        walk.overdue_at(state, period.as_of)
    # A notice is one fact per (notice, recipient, channel): strip the key that made it unique.
    return [
        fact.model_copy(update={"figure": fact.figure.split("#", 1)[0]}) if "#" in fact.figure else fact
        for fact in walk.facts
    ]


class FigureValue(BaseModel):
    """One figure of one group: its label, its value and the facts that explain it."""

    model_config = ConfigDict(frozen=True)

    figure: str
    label: str
    value: int | float | None
    facts: tuple[Fact, ...]

    @property
    def item_ids(self) -> list[str]:
        """The distinct items behind the figure, in first-seen order."""
        return list(dict.fromkeys(fact.item_id for fact in self.facts))


class GroupFigures(BaseModel):
    """Every figure of one unit (or unit type, category, leader, source), and its rank."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    rank: int
    figures: dict[str, FigureValue]


RANK_RULE = (
    "按期办结率高者在前，其次曾超期事项少者在前 / higher on-time rate first, then fewer items ever overdue"
)


def _p90(values: list[float]) -> float | None:
    """The nearest-rank 90th percentile (an observed value, so it can be explained)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(ceil(0.9 * len(ordered)), 1) - 1]


def _figures(facts: list[Fact]) -> dict[str, FigureValue]:
    by_figure: dict[str, list[Fact]] = {name: [] for name in FIGURE_LABELS}
    for fact in facts:
        by_figure[fact.figure].append(fact)
    closed = by_figure[CLOSED]
    days = [fact.value for fact in closed if fact.value is not None]
    derived: dict[str, int | float | None] = {
        ON_TIME_RATE: round(len(by_figure[CLOSED_ON_TIME]) / len(closed), 4) if closed else None,
        DAYS_TO_CLOSE_AVG: round(sum(days) / len(days), 2) if days else None,
        DAYS_TO_CLOSE_P90: _p90(days),
    }
    result: dict[str, FigureValue] = {}
    for name, label in FIGURE_LABELS.items():
        if name in DERIVED:
            result[name] = FigureValue(figure=name, label=label, value=derived[name], facts=tuple(closed))
        else:
            found = by_figure[name]
            result[name] = FigureValue(figure=name, label=label, value=len(found), facts=tuple(found))
    return result


def group_key(fact: Fact, group_by: GroupBy, unit_types: Mapping[str, str]) -> str:
    """The group a fact falls in."""
    if group_by is GroupBy.UNIT:
        return fact.unit
    if group_by is GroupBy.UNIT_TYPE:
        return unit_types.get(fact.unit, UNTYPED)
    if group_by is GroupBy.CATEGORY:
        return fact.category.value if fact.category else UNTYPED
    if group_by is GroupBy.LEADER:
        return fact.leader or UNTYPED
    return fact.source.value if fact.source else UNTYPED


UNTYPED = "未分类"


def _rank_key(group: dict[str, FigureValue]) -> tuple[float, int]:
    rate = group[ON_TIME_RATE].value
    ever = sum(int(group[overdue_ever(clock)].value or 0) for clock in Clock)
    return (-(rate if rate is not None else -1.0), ever)


def aggregate(
    facts: Iterable[Fact],
    group_by: GroupBy,
    *,
    unit_types: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    keys: Iterable[str] = (),
) -> list[GroupFigures]:
    """The figures of every group, ranked (ties share a rank); `keys` adds groups with no facts.

    `labels` names groups (a unit's name, a leader's name); categories and sources carry the
    vocabulary's labels.
    """
    types = unit_types or {}
    names = {
        **{c.value: CATEGORY_LABELS[c] for c in Category},
        **{s.value: SOURCE_LABELS[s] for s in Source},
        **(labels or {}),
    }
    grouped: dict[str, list[Fact]] = {key: [] for key in keys}
    for fact in facts:
        grouped.setdefault(group_key(fact, group_by, types), []).append(fact)
    figures = {key: _figures(found) for key, found in grouped.items()}
    ordered = sorted(figures, key=lambda key: (_rank_key(figures[key]), key))
    result: list[GroupFigures] = []
    for position, key in enumerate(ordered, start=1):
        tied = result and _rank_key(figures[result[-1].key]) == _rank_key(figures[key])
        rank = result[-1].rank if tied else position
        result.append(GroupFigures(key=key, label=names.get(key, key), rank=rank, figures=figures[key]))
    return result


class StatisticsBuilder:
    """Collects the facts of items streamed one at a time (only the facts are kept)."""

    def __init__(
        self, period: Period, is_workday: IsWorkday, unit_of_user: Mapping[str, str] | None = None
    ) -> None:
        self.period = period
        self._is_workday = is_workday
        self._unit_of_user = dict(unit_of_user or {})
        self.facts: list[Fact] = []

    def add_item(self, events: Iterable[RecordedEvent]) -> None:
        """Add one item's events (seq order)."""
        self.facts.extend(item_facts(events, self.period, self._is_workday, self._unit_of_user))

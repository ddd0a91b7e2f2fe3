"""The office's rhythms — 月督促 (monthly progress requests), 季调度 (quarterly summary) and 年评估
(the annual 考核 draft) — as pure rules.

Periods are Beijing calendar months ("2026-11"), quarters ("2026-Q3") and years ("2026"). A
rhythm is due on the N-th working day of its month (the Chinese calendar is injected) — the
年评估 on January's — and a run on any later day of the same period catches up on a missed one;
the store makes each (rhythm, period) happen once.

The burden rule: one request per unit per month, listing every open item the unit leads, less
the items on which the unit already reported progress that month ("report once, reuse").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.dues import IsWorkday
from domain.events import SYSTEM_EVENT_TYPES, RecordedEvent
from domain.fold import evolve
from domain.instants import CHINA
from domain.stages import Light, Stage
from domain.state import ItemState, waiting_for

STUCK_LISTED = 10  # how many of the longest-stuck items the quarterly summary names


class Rhythm(StrEnum):
    """The rhythms run by a Temporal Schedule."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


RHYTHM_LABELS = {Rhythm.MONTHLY: "月督促", Rhythm.QUARTERLY: "季调度", Rhythm.ANNUAL: "年评估"}


class DocumentKind(StrEnum):
    """The documents the rhythms generate."""

    MONTHLY_BULLETIN = "monthly_bulletin"
    MONTHLY_FIGURES = "monthly_figures"
    QUARTERLY_SUMMARY = "quarterly_summary"
    QUARTERLY_FIGURES = "quarterly_figures"
    ANNUAL_ASSESSMENT = "annual_assessment"
    ANNUAL_ASSESSMENT_FIGURES = "annual_assessment_figures"


DOCUMENT_LABELS = {
    DocumentKind.MONTHLY_BULLETIN: "月度通报",
    DocumentKind.MONTHLY_FIGURES: "月度通报数据",
    DocumentKind.QUARTERLY_SUMMARY: "季度调度汇总",
    DocumentKind.QUARTERLY_FIGURES: "季度调度数据",
    DocumentKind.ANNUAL_ASSESSMENT: "年度考核结果（草案）",
    DocumentKind.ANNUAL_ASSESSMENT_FIGURES: "年度考核数据（草案）",
}


def nth_workday(year: int, month: int, n: int, is_workday: IsWorkday) -> date:
    """The `n`-th working day of the month (the month's last working day if it has fewer)."""
    day = date(year, month, 1)
    found: date | None = None
    count = 0
    while day.month == month:
        if is_workday(day):
            count += 1
            found = day
            if count == n:
                return day
        day += timedelta(days=1)
    if found is None:
        raise ValueError(f"no working day in {year}-{month:02d}")
    return found


def month_key(day: date) -> str:
    """The month a day falls in: "2026-11"."""
    return f"{day.year}-{day.month:02d}"


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def quarter_key(day: date) -> str:
    """The quarter a day falls in: "2026-Q3"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def previous_year(day: date) -> str:
    """The year before `day`'s: the one a January 年评估 assesses ("2025" for a day in 2026)."""
    return str(day.year - 1)


def quarter_start(day: date) -> date:
    """The first day of `day`'s quarter."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class PeriodBounds(BaseModel):
    """A Beijing period as UTC instants: [start, end], end being its last microsecond."""

    model_config = ConfigDict(frozen=True)

    key: str
    start: datetime
    end: datetime


def _bounds(key: str, first: date, next_first: date) -> PeriodBounds:
    start = datetime.combine(first, time.min, tzinfo=CHINA).astimezone(UTC)
    end = datetime.combine(next_first - timedelta(days=1), time.max, tzinfo=CHINA).astimezone(UTC)
    return PeriodBounds(key=key, start=start, end=end)


def month_bounds(key: str) -> PeriodBounds:
    """ "2026-11" as the instants of that Beijing month; ValueError if it is not a month."""
    year, month = (int(part) for part in key.split("-"))
    first = date(year, month, 1)
    next_first = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return _bounds(month_key(first), first, next_first)


def quarter_bounds(key: str) -> PeriodBounds:
    """ "2026-Q3" as the instants of that Beijing quarter; ValueError if it is not a quarter."""
    year_text, quarter_text = key.split("-Q")
    year, quarter = int(year_text), int(quarter_text)
    if not 1 <= quarter <= 4:
        raise ValueError(f"no quarter {key}")
    first = date(year, 3 * quarter - 2, 1)
    next_first = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return _bounds(quarter_key(first), first, next_first)


def is_open(state: ItemState) -> bool:
    """An item that is opened and neither closed nor cancelled."""
    return state.opened and state.stage not in (Stage.CLOSED, Stage.CANCELLED)


class RequestedItem(BaseModel):
    """One item a monthly request asks a unit about."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    number: str
    title: str
    seq: int  # the item's last event when asked: its chain records the request against it


class ItemView(BaseModel):
    """What the rhythms need of one item as of an instant: its state and its last progress reports."""

    model_config = ConfigDict(frozen=True)

    state: ItemState
    progress_at: dict[str, datetime]  # unit → when it last reported progress (by the instant)
    moved_at: datetime | None  # the last event a person recorded (the machinery's do not count)


def item_view(events: Iterable[RecordedEvent]) -> ItemView:
    """Fold one item's events (seq order), noting each unit's last progress report and last move."""
    state = ItemState()
    progress_at: dict[str, datetime] = {}
    moved_at: datetime | None = None
    for event in events:
        state = evolve(state, event)
        body = event.body()
        if isinstance(body, ev.ProgressReported):
            progress_at[body.unit] = event.occurred_at
        if event.type not in SYSTEM_EVENT_TYPES:
            moved_at = event.occurred_at
    return ItemView(state=state, progress_at=progress_at, moved_at=moved_at)


def monthly_requests(views: Iterable[ItemView], month: PeriodBounds) -> dict[str, list[RequestedItem]]:
    """Per lead unit, the open items to report on this month, less those it already reported on.

    A unit with nothing left is absent: it gets no request at all.
    """
    asked: dict[str, list[RequestedItem]] = {}
    for view in views:
        state = view.state
        if not is_open(state) or not state.lead_unit:
            continue
        reported = view.progress_at.get(state.lead_unit)
        if reported is not None and month.start <= reported <= month.end:
            continue
        asked.setdefault(state.lead_unit, []).append(
            RequestedItem(item_id=state.id, number=state.number, title=state.title, seq=state.last_seq)
        )
    return {unit: sorted(items, key=lambda i: i.number) for unit, items in sorted(asked.items())}


def request_message(unit_name: str, month: str, items: list[RequestedItem]) -> str:
    """The consolidated request's text: one notice listing every item."""
    lines = "；".join(f"{item.number}「{item.title}」" for item in items)
    return (
        f"月督促 {month}：请{unit_name}报送以下 {len(items)} 项督办事项的本月进展：{lines}。"
        f"本月已报送进展的事项无需重复报送。"
    )


class ListedItem(BaseModel):
    """An item named in a summary: number, title, lead unit, and why it is listed."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    number: str
    title: str
    lead_unit: str
    light: str
    detail: str
    days: int = 0

    @classmethod
    def of(cls, state: ItemState, detail: str, days: int = 0) -> ListedItem:
        """The item `state` names, listed for `detail`."""
        return cls(
            item_id=state.id,
            number=state.number,
            title=state.title,
            lead_unit=state.lead_unit,
            light=state.light.value,
            detail=detail,
            days=days,
        )


def overdue_steps(state: ItemState, as_of: datetime) -> list[str]:
    """The pending steps of the item whose due instant has passed by `as_of`."""
    return [step.label for step in waiting_for(state) if step.due is not None and step.due < as_of]


def red_and_overdue(views: Iterable[ItemView], as_of: datetime) -> list[ListedItem]:
    """Open items with a red light or a step past due, as of `as_of`, by number."""
    listed = []
    for view in views:
        state = view.state
        if not is_open(state):
            continue
        late = overdue_steps(state, as_of)
        if state.light is not Light.RED and not late:
            continue
        detail = "；".join(late) if late else "红灯"
        listed.append(ListedItem.of(state, detail))
    return sorted(listed, key=lambda item: item.number)


def stuck_longest(views: Iterable[ItemView], as_of: datetime, limit: int = STUCK_LISTED) -> list[ListedItem]:
    """Open items by calendar days since a person last acted on them, longest first."""
    listed = []
    for view in views:
        state = view.state
        if not is_open(state) or view.moved_at is None:
            continue
        days = (as_of - view.moved_at).days
        listed.append(ListedItem.of(state, f"{state.stage.label}，{days} 天无进展", days))
    return sorted(listed, key=lambda item: (-item.days, item.number))[:limit]


def figures_hash(figures: Mapping[str, Any]) -> str:
    """SHA-256 of the figures as canonical JSON (sorted keys, no spaces): equal figures, equal hash."""
    text = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()

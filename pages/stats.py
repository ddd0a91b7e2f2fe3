"""统计: the office's figures as charts and tables, and the items behind every number.

Everything here goes through the JSON API's own handlers (`api.stats.unit_stats` and
`figure_items`), so the page's numbers are the API's numbers and a unit is limited exactly as
the API limits it: its own row and its rank. The charts (ECharts, vendored from npm) draw from
the same numbers the tables show; the tables work without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api import stats as routes
from api.permissions import ItemReader, unit_scope
from api.services import ServicesDep
from api.stats import GROUP_LABELS, GroupPublic, PeriodQuery, StatsPublic, StatsQuery
from domain.instants import CHINA
from domain.refusals import CommandRefused, RefusalKind
from domain.statistics import FIGURE_LABELS, ON_TIME_RATE, GroupBy
from domain.vocabulary import CATEGORY_LABELS, SOURCE_LABELS
from pages.errors import mark_page
from pages.web import OrgNames, PageActor, render, require, short_label

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

Figure = Annotated[str, Query(max_length=64)]
Key = Annotated[str, Query(max_length=128)]

MONTHS = 12
"""How many months the line chart looks back over (all read in the same pass over the log)."""

GROUPS_PER_TABLE = 5
"""How many groups the every-figure table shows side by side; more go to the next table, so each
part fits a laptop's 1366 px without scrolling sideways however many groups there are."""

RATES = frozenset({ON_TIME_RATE})
"""Figures that are fractions: shown as percentages."""


def shown(figure: str, value: float | None) -> str:
    """A figure's value as the tables print it (a rate as a percentage, nothing as —)."""
    if value is None:
        return "—"
    if figure in RATES:
        return f"{value * 100:.2f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def plotted(figure: str, value: float | None) -> float | None:
    """A figure's value as the charts draw it (a rate in percent)."""
    if value is None or figure not in RATES:
        return value
    return round(value * 100, 2)


def date_value(raw: str | None, *, day_end: bool) -> str:
    """What a date picker shows for a query value: its Beijing day ("" when empty or malformed)."""
    try:
        moment = routes.parse_instant("", raw, day_end=day_end)
    except CommandRefused:
        return ""
    return "" if moment is None else _day(moment).isoformat()


def _day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def _month_start(day: date, back: int) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True)
class Month:
    """One month of the line chart: its label and the API query that reads it."""

    label: str
    query: PeriodQuery


def last_months(until: datetime, group_by: GroupBy) -> list[Month]:
    """The MONTHS calendar months (Beijing) up to the one holding `until`, oldest first.

    Each month is read as of its own end (the last one as of `until`), so "overdue now" is the
    month-end snapshot and a month's counts are the events that occurred in it.
    """
    today = _day(until)
    months: list[Month] = []
    for back in range(MONTHS - 1, -1, -1):
        start = _month_start(today, back)
        end = _month_start(today, back - 1) - timedelta(days=1)
        last = until.isoformat() if back == 0 else end.isoformat()
        query = PeriodQuery.model_validate(
            {"from": start.isoformat(), "to": last, "as_of": last, "group_by": group_by}
        )
        months.append(Month(label=f"{start.year}年{start.month}月", query=query))
    return months


def items_link(stats: StatsPublic, key: str, figure: str, query: PeriodQuery | None = None) -> str:
    """The page listing the items behind `figure` of group `key`, for the same period and instant."""
    if query is not None:
        period = query.period()
        start, end, as_of = period.start, period.end, period.as_of
    else:
        start, end, as_of = stats.period_from, stats.to, stats.as_of
    params = {
        "key": key,
        "figure": figure,
        "group_by": stats.group_by.value,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": as_of.isoformat(),
    }
    return f"/stats/items?{urlencode(params)}"


@dataclass
class Cell:
    """One number of a table: as printed, as drawn, and where its items are listed."""

    text: str
    value: float | None
    link: str | None


@dataclass
class Series:
    """One group's row in the months table (one line of the line chart)."""

    key: str
    label: str
    cells: list[Cell] = field(default_factory=list)


@dataclass
class FigureTable:
    """One part of the every-figure table: a few groups as columns, every figure as a row."""

    groups: list[GroupPublic]
    rows: list[tuple[str, str, list[Cell]]]


def figure_tables(stats: StatsPublic) -> list[FigureTable]:
    """Every figure of every group, in parts of at most GROUPS_PER_TABLE groups (ranked order kept)."""
    parts = [stats.groups[i : i + GROUPS_PER_TABLE] for i in range(0, len(stats.groups), GROUPS_PER_TABLE)]
    return [
        FigureTable(
            groups=part,
            rows=[
                (name, label, [_cell(stats, group, name) for group in part])
                for name, label in FIGURE_LABELS.items()
            ],
        )
        for part in parts or [[]]
    ]


def _cell(stats: StatsPublic, group: GroupPublic, figure: str, query: PeriodQuery | None = None) -> Cell:
    """One group's figure: as printed, its value, and the page of the items behind it."""
    value = group.figures[figure].value
    return Cell(shown(figure, value), value, items_link(stats, group.key, figure, query))


def _months(months: list[Month], answers: list[StatsPublic], stats: StatsPublic, figure: str) -> list[Series]:
    """Each group's row across the months (a month without the group shows —)."""
    rows: dict[str, Series] = {g.key: Series(key=g.key, label=g.label) for g in stats.groups}
    for index, (month, answer) in enumerate(zip(months, answers, strict=True)):
        for group in answer.groups:
            row = rows.setdefault(group.key, Series(key=group.key, label=group.label))
            row.cells.extend(Cell("—", None, None) for _ in range(index - len(row.cells)))
            row.cells.append(_cell(answer, group, figure, month.query))
    for row in rows.values():
        row.cells.extend(Cell("—", None, None) for _ in range(len(months) - len(row.cells)))
    return list(rows.values())


def _chart(
    stats: StatsPublic, figure: str, month_labels: list[str], series: list[Series]
) -> dict[str, object]:
    """What the charts draw: the same numbers as the tables, with the links a click follows."""
    label = short_label(FIGURE_LABELS[figure])
    unit = "%" if figure in RATES else ""
    return {
        "figure": label + (f"（{unit}）" if unit else ""),
        "bar": {
            "labels": [g.label for g in stats.groups],
            "values": [plotted(figure, g.figures[figure].value) for g in stats.groups],
            "links": [items_link(stats, g.key, figure) for g in stats.groups],
        },
        "line": {
            "months": month_labels,
            "series": [
                {
                    "name": row.label,
                    "values": [plotted(figure, c.value) for c in row.cells],
                    "links": [c.link for c in row.cells],
                }
                for row in series
            ],
        },
    }


def _invalid(error: CommandRefused) -> str:
    if error.refusal.kind is not RefusalKind.INVALID:
        raise error
    return error.refusal.reason


def _figure_problem(figure: str) -> str | None:
    if figure in FIGURE_LABELS:
        return None
    return f"未知统计项 {figure} / unknown figure"


@router.get("/stats")
async def stats_page(
    request: Request,
    actor: PageActor,
    services: ServicesDep,
    query: StatsQuery,
    figure: Figure = ON_TIME_RATE,
) -> Response:
    """Figures per group for the period: a bar chart of one figure, its months as lines, both as tables."""
    await require(ItemReader, actor)
    own = unit_scope(actor)
    form = {
        "from": date_value(query.from_, day_end=False),
        "to": date_value(query.to, day_end=True),
        "as_of": date_value(query.as_of, day_end=True),
        "group_by": query.group_by.value,
        "figure": figure,
    }
    common: dict[str, Any] = {
        "form": form,
        "own": own,
        "figure_labels": FIGURE_LABELS,
        "group_labels": {g.value: label for g, label in GROUP_LABELS.items()},
    }
    problem = _figure_problem(figure)
    if problem is None:
        try:
            query.period()
        except CommandRefused as refused:
            problem = _invalid(refused)
    if problem is not None:
        return render(request, "stats.html", 422, stats=None, problem=problem, **common)
    period = query.period()
    months = last_months(min(period.end, period.as_of), query.group_by)
    # The period and its months from one pass over the log, as the API answers each of them.
    stats, *monthly = await routes.stats_of_periods(
        actor, services, query.group_by, [period, *(month.query.period() for month in months)]
    )
    month_labels = [month.label for month in months]
    series = _months(months, monthly, stats, figure)
    rows = [(group, _cell(stats, group, figure)) for group in stats.groups]
    return render(
        request,
        "stats.html",
        stats=stats,
        problem=None,
        rows=rows,
        figure_label=FIGURE_LABELS[figure],
        month_labels=month_labels,
        series=series,
        figure_tables=figure_tables(stats),
        chart=_chart(stats, figure, month_labels, series),
        **common,
    )


def group_label(names: OrgNames, group_by: GroupBy, key: str) -> str:
    """A group's name for the items page: a unit's or leader's name, a category's or source's label."""
    labels: dict[str, str] = {}
    if group_by is GroupBy.CATEGORY:
        labels = {c.value: label for c, label in CATEGORY_LABELS.items()}
    elif group_by is GroupBy.SOURCE:
        labels = {s.value: label for s, label in SOURCE_LABELS.items()}
    if key in labels:
        return labels[key]
    return names.user(key) if group_by is GroupBy.LEADER else names.unit(key)


@router.get("/stats/items")
async def figure_items_page(
    request: Request,
    actor: PageActor,
    services: ServicesDep,
    *,
    query: StatsQuery,
    key: Key,
    figure: Figure,
) -> Response:
    """The items (and the events) behind one number of the statistics page."""
    await require(ItemReader, actor)
    found = await routes.figure_items(key=key, actor=actor, services=services, query=query, figure=figure)
    back = {"from": query.from_, "to": query.to, "as_of": query.as_of, "group_by": query.group_by.value}
    return render(
        request,
        "stats_items.html",
        found=found,
        group=group_label(getattr(request.state, "names", None) or OrgNames(), found.group_by, key),
        group_by_label=GROUP_LABELS[found.group_by],
        shown_value=shown(figure, found.value),
        back=f"/stats?{urlencode({**{k: v for k, v in back.items() if v}, 'figure': figure})}",
    )

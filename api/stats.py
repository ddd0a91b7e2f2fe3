"""/api/stats: the office's figures per unit (or unit type, category, leader, source), as of any instant.

Computed on request from the audit log itself (never from the overwritten read model), so a
figure for a past instant stays what it was however the items move on, and every figure can
name the items and events behind it. Supervisors, leaders and auditors see every group; a unit
user sees only its own unit's figures and rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.errors import SIGNED_IN_ERRORS
from api.permissions import ItemReader, unit_scope
from api.services import Services, ServicesDep
from domain.instants import CHINA
from domain.people import Actor
from domain.refusals import CommandRefused, forbidden, invalid
from domain.statistics import (
    FIGURE_LABELS,
    RANK_RULE,
    Fact,
    GroupBy,
    GroupFigures,
    Period,
)
from office.figures import Computed, compute_figures, compute_figures_of_periods

router = APIRouter(prefix="/api/stats", tags=["statistics"], responses=SIGNED_IN_ERRORS)

GROUP_LABELS = {
    GroupBy.UNIT: "承办单位 / unit",
    GroupBy.UNIT_TYPE: "单位类型 / unit type",
    GroupBy.CATEGORY: "事项类别 / category",
    GroupBy.LEADER: "责任领导 / leader",
    GroupBy.SOURCE: "事项来源 / source",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _instant(name: str, raw: str | None, *, day_end: bool) -> datetime | None:
    """An ISO date or instant; a bare date means that Beijing day's start (or its end for `day_end`)."""
    if raw is None or raw == "":
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day, time.max if day_end else time.min, tzinfo=CHINA).astimezone(UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise CommandRefused(
            invalid(
                f"{name} 须为日期（2026-01-01）或带时区的时间（2026-01-01T08:00:00+08:00）/ "
                f"{name} must be a date or an ISO-8601 instant with a timezone, got {raw!r}"
            )
        )
    return moment.astimezone(UTC)


parse_instant = _instant
"""An ISO date (that Beijing day's start, or its end for `day_end`) or instant; 422 otherwise."""


class PeriodQuery(BaseModel):
    """The period and instant of a statistics request, and how to group."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(
        default=None, alias="from", max_length=40, description="起始日期 / period start (default: 1 Jan)"
    )
    to: str | None = Field(default=None, max_length=40, description="截止日期 / period end (default: as_of)")
    as_of: str | None = Field(
        default=None, max_length=40, description="统计时点 / the instant the log is read as of (default: now)"
    )
    group_by: GroupBy = GroupBy.UNIT

    def period(self) -> Period:
        """The period asked for, with defaults; 422 if it is not a period."""
        as_of = _instant("as_of", self.as_of, day_end=True) or _now()
        end = _instant("to", self.to, day_end=True) or as_of
        start = _instant("from", self.from_, day_end=False) or datetime.combine(
            date(end.astimezone(CHINA).year, 1, 1), time.min, tzinfo=CHINA
        ).astimezone(UTC)
        if start > end:
            raise CommandRefused(invalid("起始时间晚于截止时间 / `from` is after `to`"))
        return Period(start=start, end=end, as_of=as_of)


StatsQuery = Annotated[PeriodQuery, Query()]


class FigurePublic(BaseModel):
    """One figure: label, value and how many distinct items are behind it."""

    label: str
    value: int | float | None
    items: int


class GroupPublic(BaseModel):
    """One group's figures and its rank among the groups."""

    key: str
    label: str
    rank: int
    figures: dict[str, FigurePublic]


class StatsPublic(BaseModel):
    """The figures of every group visible to the caller, for one period as of one instant."""

    model_config = ConfigDict(populate_by_name=True)

    group_by: GroupBy
    group_by_label: str
    period_from: datetime = Field(alias="from")
    to: datetime
    as_of: datetime
    calendar: str = Field(description="工作日历 / the working-day calendar behind days to close")
    rank_rule: str
    ranked: int = Field(description="参与排名的分组数 / how many groups were ranked")
    figure_labels: dict[str, str]
    groups: list[GroupPublic]


class FactPublic(BaseModel):
    """An event that counts towards a figure."""

    seq: int
    unit: str
    value: float | None = None


class FigureItem(BaseModel):
    """One item behind a figure, with the events that count."""

    item_id: str
    number: str
    title: str
    events: list[FactPublic]


class FigureItemsPublic(BaseModel):
    """The items behind one figure of one group."""

    model_config = ConfigDict(populate_by_name=True)

    group_by: GroupBy
    key: str
    figure: str
    label: str
    value: int | float | None
    period_from: datetime = Field(alias="from")
    to: datetime
    as_of: datetime
    items: list[FigureItem]


async def _compute(services: Services, period: Period, group_by: GroupBy) -> Computed:
    return await compute_figures(services.sessions, period, group_by)


def _visible(actor_unit: str | None, group_by: GroupBy, key: str | None = None) -> None:
    """403 unless the caller sees every group, or asks for its own unit only."""
    if actor_unit is None:
        return
    if group_by is not GroupBy.UNIT:
        raise CommandRefused(
            forbidden(
                "承办单位只能查看本单位的统计 / a unit sees only its own unit's figures (group_by=unit)"
            )
        )
    if key is not None and key != actor_unit:
        raise CommandRefused(forbidden("只能查看本单位的统计 / a unit sees only its own figures"))


def _figures(group: GroupFigures) -> dict[str, FigurePublic]:
    return {
        name: FigurePublic(label=figure.label, value=figure.value, items=len(figure.item_ids))
        for name, figure in group.figures.items()
    }


@router.get("/units", summary="统计 / figures per unit")
async def unit_stats(actor: ItemReader, services: ServicesDep, query: StatsQuery) -> StatsPublic:
    """Every figure per group for the period [from, to], reading the log as of `as_of`.

    Dates without a time mean the start (`from`) or end (`to`, `as_of`) of that Beijing day.
    A unit user gets only its own unit's row, with its rank among all units.
    403 a unit asking for other groupings · 422 a malformed instant or `from` after `to`.
    """
    _visible(unit_scope(actor), query.group_by)
    [answer] = await stats_of_periods(actor, services, query.group_by, [query.period()])
    return answer


async def stats_of_periods(
    actor: Actor, services: Services, group_by: GroupBy, periods: Sequence[Period]
) -> list[StatsPublic]:
    """What `unit_stats` answers for each of `periods`, from one pass over the log (the 统计
    page's period and its months). 403 as `unit_stats`."""
    own = unit_scope(actor)
    _visible(own, group_by)
    computed = await compute_figures_of_periods(services.sessions, periods, group_by)
    return [_stats(period, group_by, found, own) for period, found in zip(periods, computed, strict=True)]


def _stats(period: Period, group_by: GroupBy, computed: Computed, own: str | None) -> StatsPublic:
    groups = [g for g in computed.groups if own is None or g.key == own]
    return StatsPublic(
        group_by=group_by,
        group_by_label=GROUP_LABELS[group_by],
        period_from=period.start,
        to=period.end,
        as_of=period.as_of,
        calendar=computed.calendar,
        rank_rule=RANK_RULE,
        ranked=len(computed.groups),
        figure_labels=dict(FIGURE_LABELS),
        groups=[GroupPublic(key=g.key, label=g.label, rank=g.rank, figures=_figures(g)) for g in groups],
    )


def _by_item(facts: tuple[Fact, ...]) -> dict[str, list[Fact]]:
    found: dict[str, list[Fact]] = {}
    for fact in facts:
        found.setdefault(fact.item_id, []).append(fact)
    return found


@router.get("/units/{key}/items", summary="统计明细 / the items behind a figure")
async def figure_items(
    key: Annotated[str, Path(max_length=128, description="单位（或分组）/ the unit, or the group's key")],
    actor: ItemReader,
    services: ServicesDep,
    query: StatsQuery,
    figure: Annotated[str, Query(max_length=64, description="统计项 / a figure name, e.g. signed_late")],
) -> FigureItemsPublic:
    """The items (and event seqs) behind one figure of one group: what makes the number.

    403 a unit asking about another unit · 422 an unknown figure or a malformed period.
    """
    _visible(unit_scope(actor), query.group_by, key)
    if figure not in FIGURE_LABELS:
        raise CommandRefused(
            invalid(f"未知统计项 {figure} / unknown figure; valid figures: {', '.join(FIGURE_LABELS)}")
        )
    period = query.period()
    computed = await _compute(services, period, query.group_by)
    group = next((g for g in computed.groups if g.key == key), None)
    value = group.figures[figure] if group is not None else None
    items: list[FigureItem] = []
    for item_id, facts in _by_item(value.facts if value is not None else ()).items():
        state = await services.items.get(item_id)
        items.append(
            FigureItem(
                item_id=item_id,
                number=state.number if state else "",
                title=state.title if state else "",
                events=[FactPublic(seq=f.seq, unit=f.unit, value=f.value) for f in facts],
            )
        )
    return FigureItemsPublic(
        group_by=query.group_by,
        key=key,
        figure=figure,
        label=FIGURE_LABELS[figure],
        value=value.value if value is not None else None,
        period_from=period.start,
        to=period.end,
        as_of=period.as_of,
        items=items,
    )

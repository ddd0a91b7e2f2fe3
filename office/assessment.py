"""考核 as an application service: findings read from the audit log, scored under a policy version.

The API, the pages and a Temporal Schedule's activity (the 年评估) call these functions; they
read the log as of the period's end, so the same period always gives the same figures.
"""

from __future__ import annotations

from contextlib import aclosing
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.workdays import ChinaWorkdays
from domain.assessment import Finding, UnitScore, figures_of, score_units, walk_item
from domain.instants import CHINA
from domain.statistics import Period
from store.assessment import Publication, PublicationStore, ScoringPolicy, ScoringPolicyStore, figures_hash
from store.org import OrgDirectory
from store.statistics import item_histories


def assessment_period(start: datetime, end: datetime) -> Period:
    """The period [start, end], read as of its end."""
    return Period(start=start, end=end, as_of=end)


def year_period(year: int) -> Period:
    """A Beijing calendar year, 1 January 00:00 to 31 December's last instant."""
    start = datetime.combine(date(year, 1, 1), time.min, tzinfo=CHINA).astimezone(UTC)
    end = datetime.combine(date(year, 12, 31), time.max, tzinfo=CHINA).astimezone(UTC)
    return assessment_period(start, end)


class ItemLabel(BaseModel):
    """An item's number and title as of the period's end (for a breakdown a person reads)."""

    model_config = ConfigDict(frozen=True)

    number: str
    title: str


class Findings(BaseModel):
    """The findings of a period, the units assessed (id → name), the items behind the findings
    (id → number and title) and the calendar label."""

    model_config = ConfigDict(frozen=True)

    period: Period
    findings: list[Finding]
    units: dict[str, str]
    calendar: str
    items: dict[str, ItemLabel] = {}


class Scored(BaseModel):
    """Every unit's score for a period under one policy version."""

    model_config = ConfigDict(frozen=True)

    period: Period
    policy: ScoringPolicy
    scores: list[UnitScore]
    units: dict[str, str]
    calendar: str
    items: dict[str, ItemLabel] = {}


class AnnualDraft(BaseModel):
    """The 年评估 draft: every unit's score for the year under the current policy, not yet published."""

    model_config = ConfigDict(frozen=True)

    year: int
    scored: Scored
    figures_hash: str


class AssessmentService:
    """Scores, what-ifs and publications over one database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.policies = ScoringPolicyStore(sessions)
        self.publications = PublicationStore(sessions)

    async def findings(self, period: Period) -> Findings:
        """Every item's findings in the period, streamed from the log as of its end."""
        org = OrgDirectory(self.sessions)
        units = {unit.id: unit.name for unit in await org.units() if unit.kind == "unit"}
        calendar = ChinaWorkdays()
        found: list[Finding] = []
        items: dict[str, ItemLabel] = {}
        async with aclosing(item_histories(self.sessions, until=period.as_of)) as histories:
            async for events in histories:
                mine, state = walk_item(events, period, calendar.is_workday)
                if mine:  # only the items a breakdown names are labelled
                    items[state.id] = ItemLabel(number=state.number, title=state.title)
                found.extend(mine)
        return Findings(period=period, findings=found, units=units, calendar=calendar.label, items=items)

    async def policy(self, version: int | None) -> ScoringPolicy:
        """The version asked for, or the current adopted one."""
        return await (self.policies.current() if version is None else self.policies.get(version))

    async def score(self, period: Period, version: int | None = None) -> Scored:
        """Every unit's score for the period under `version` (default: the current policy)."""
        policy = await self.policy(version)
        found = await self.findings(period)
        return scored_under(found, policy)

    async def publish(self, scored: Scored, *, author: str, note: str, revise: bool) -> Publication:
        """Append `scored` as a publication: its figures, and the breakdown behind them (so a
        download needs no scan of the log). PeriodPublished as `PublicationStore.publish`."""
        return await self.publications.publish(
            period_from=scored.period.start,
            period_to=scored.period.end,
            policy_version=scored.policy.version,
            figures=figures_of(scored.scores),
            author=author,
            note=note,
            revise=revise,
            breakdown={"calendar": scored.calendar, "lines": breakdown_lines(scored)},
        )


def scored_under(found: Findings, policy: ScoringPolicy) -> Scored:
    """The period's findings priced under `policy` (pure: one reading of the log serves every version)."""
    return Scored(
        period=found.period,
        policy=policy,
        scores=score_units(found.findings, policy.rules, found.units),
        units=found.units,
        calendar=found.calendar,
        items=found.items,
    )


def breakdown_lines(scored: Scored) -> list[dict[str, Any]]:
    """Every unit's lines (best unit first), each with its item's number and title, JSON-ready."""
    lines = []
    for score in scored.scores:
        for line in score.lines:
            label = scored.items.get(line.item_id)
            lines.append(
                {
                    "unit": score.unit,
                    "number": label.number if label else line.item_id,
                    "title": label.title if label else "",
                    **line.model_dump(mode="json"),
                }
            )
    return lines


def annual_draft(year: int, found: Findings, policy: ScoringPolicy) -> AnnualDraft:
    """The 年评估 draft of `year` from its findings, priced under `policy`."""
    scored = scored_under(found, policy)
    return AnnualDraft(year=year, scored=scored, figures_hash=figures_hash(figures_of(scored.scores)))


async def draft_annual_assessment(year: int, sessions: async_sessionmaker[AsyncSession]) -> AnnualDraft:
    """The 年评估 draft for `year`: every unit scored under the current policy, for the supervisor
    to review and publish (nothing is published here). Same year, same log: same figures and hash.
    """
    service = AssessmentService(sessions)
    return annual_draft(year, await service.findings(year_period(year)), await service.policy(None))


async def annual_draft_with_hash(
    year: int, found: Findings, sessions: async_sessionmaker[AsyncSession], digest: str
) -> AnnualDraft | None:
    """The draft of `year` whose figures hash to `digest`, under the newest adopted version that
    gives it (the documents a run stored before the policy changed), or None if no version does."""
    for policy in reversed(await ScoringPolicyStore(sessions).versions()):
        if not policy.draft and (draft := annual_draft(year, found, policy)).figures_hash == digest:
            return draft
    return None

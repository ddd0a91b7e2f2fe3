"""/api/assessment: 考核 — scores per unit under a versioned scoring policy, what-ifs, publication.

Scores are computed on request from the audit log as of the period's end (never from the read
model), so the same period and policy version always give the same figures, each traceable to the
events behind it. Supervisors edit the policy (every edit a new version; a draft is proposed, not
adopted) and publish; supervisors, leaders and auditors see every unit; a unit sees its own score
and its rank only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from activities.assessment_documents import (
    publication_document,
    render_assessment_docx,
    render_assessment_xlsx,
)
from activities.documents import DOCX, XLSX
from api.documents import attachment
from api.errors import SIGNED_IN_ERRORS, NotFound, error_responses
from api.permissions import ItemReader, Supervisor, role_in, unit_scope
from api.services import Services, ServicesDep
from api.stats import parse_instant
from domain.assessment import (
    BAND_LABELS,
    RULE_LABELS,
    Band,
    Money,
    Rule,
    RuleTotal,
    ScoreLine,
    ScoringRules,
    UnitScore,
    compare,
)
from domain.instants import CHINA
from domain.people import Actor, Role
from domain.refusals import CommandRefused, conflict, forbidden, invalid
from domain.statistics import Period
from office.assessment import AssessmentService, Scored, assessment_period, scored_under
from store.assessment import (
    PeriodPublished,
    PolicyVersionMissing,
    Publication,
    PublishedFigures,
    ScoringPolicy,
)
from store.org import OrgDirectory

router = APIRouter(prefix="/api/assessment", tags=["assessment"], responses=SIGNED_IN_ERRORS)

AnyReader = Annotated[
    Actor, Depends(role_in(Role.SUPERVISOR, Role.LEADER, Role.AUDITOR, Role.UNIT, Role.ADMIN))
]
Overseer = Annotated[Actor, Depends(role_in(Role.SUPERVISOR, Role.LEADER, Role.AUDITOR))]


def _now() -> datetime:
    return datetime.now(UTC)


def query_period(raw_from: str | None, raw_to: str | None, *, required: bool = False) -> Period:
    """The period asked for: `to` defaults to now, `from` to 1 January of `to`'s year (Beijing)."""
    if required and not (raw_from and raw_to):
        raise CommandRefused(invalid("发布须指明考核期间 from 与 to / publishing needs both `from` and `to`"))
    end = parse_instant("to", raw_to, day_end=True) or _now()
    start = parse_instant("from", raw_from, day_end=False) or datetime.combine(
        date(end.astimezone(CHINA).year, 1, 1), time.min, tzinfo=CHINA
    ).astimezone(UTC)
    if start > end:
        raise CommandRefused(invalid("起始时间晚于截止时间 / `from` is after `to`"))
    return assessment_period(start, end)


FromQuery = Annotated[
    str | None, Query(alias="from", max_length=40, description="起始日期 / period start (default: 1 Jan)")
]
ToQuery = Annotated[str | None, Query(max_length=40, description="截止日期 / period end (default: now)")]
VersionQuery = Annotated[
    int | None, Query(ge=1, le=1_000_000, description="考核办法版本 / policy version (default: current)")
]


async def _policy_or_404(service: AssessmentService, version: int | None) -> ScoringPolicy:
    try:
        return await service.policy(version)
    except PolicyVersionMissing as missing:
        raise NotFound(f"考核办法版本不存在 / no such scoring policy version: {version}") from missing


# --- policies ---


class PolicyEdit(BaseModel):
    """A new scoring policy version: its rules, why, and whether it is only proposed (a draft)."""

    model_config = ConfigDict(extra="forbid")

    rules: ScoringRules
    note: Annotated[str, Field(max_length=400)] = ""
    draft: bool = Field(
        default=False, description="草案：仅供试算，不作为现行办法 / proposed only: what-ifs, not adopted"
    )


class PoliciesPublic(BaseModel):
    """Every version (oldest first), the current adopted one, and the rules' labels."""

    current: int
    versions: list[ScoringPolicy]
    rule_labels: dict[Rule, str]
    band_labels: dict[Band, str]


@router.get("/policies", summary="考核办法 / scoring policy versions")
async def list_policies(actor: AnyReader, services: ServicesDep) -> PoliciesPublic:
    """Every version of the scoring policy, who published it and when; `current` is the one in force."""
    service = AssessmentService(services.sessions)
    current = await _policy_or_404(service, None)
    return PoliciesPublic(
        current=current.version,
        versions=await service.policies.versions(),
        rule_labels=RULE_LABELS,
        band_labels=BAND_LABELS,
    )


@router.post("/policies", status_code=201, summary="修改考核办法 / publish a scoring policy version")
async def publish_policy(body: PolicyEdit, actor: Supervisor, services: ServicesDep) -> ScoringPolicy:
    """Append `body` as the next version (in force at once unless `draft`); earlier versions and
    published assessments stay as they were.

    403 not a supervisor · 422 malformed rules (negative points, bands not descending).
    """
    service = AssessmentService(services.sessions)
    return await service.policies.append(body.rules, actor.id, body.note, draft=body.draft)


# --- scores ---


class UnitRow(BaseModel):
    """One unit's score, band, rank and per-rule totals."""

    unit: str
    name: str
    score: Money
    band: Band
    band_label: str
    rank: int
    base: Money
    deductions: Money
    bonus: Money
    bonus_capped: bool
    by_rule: dict[Rule, RuleTotal]


class AssessmentPublic(BaseModel):
    """Every visible unit's score for the period under one policy version."""

    model_config = ConfigDict(populate_by_name=True)

    period_from: datetime = Field(alias="from")
    to: datetime
    policy_version: int
    policy_draft: bool
    calendar: str
    ranked: int = Field(description="参与排名的单位数 / how many units were ranked")
    rule_labels: dict[Rule, str]
    units: list[UnitRow]


def _row(score: UnitScore, names: dict[str, str]) -> UnitRow:
    return UnitRow(
        unit=score.unit,
        name=names.get(score.unit, score.unit),
        score=score.score,
        band=score.band,
        band_label=BAND_LABELS[score.band],
        rank=score.rank,
        base=score.base,
        deductions=score.deductions,
        bonus=score.bonus,
        bonus_capped=score.bonus_capped,
        by_rule=score.by_rule,
    )


def _public(scored: Scored, own: str | None) -> AssessmentPublic:
    return AssessmentPublic(
        period_from=scored.period.start,
        to=scored.period.end,
        policy_version=scored.policy.version,
        policy_draft=scored.policy.draft,
        calendar=scored.calendar,
        ranked=len(scored.scores),
        rule_labels=RULE_LABELS,
        units=[_row(s, scored.units) for s in scored.scores if own is None or s.unit == own],
    )


@router.get("", summary="考核结果 / scores per unit")
async def assessment(
    *,
    actor: ItemReader,
    services: ServicesDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    policy_version: VersionQuery = None,
) -> AssessmentPublic:
    """Every unit's score for [from, to] under `policy_version` (default: the current policy), best
    first. A unit user gets only its own row, with its rank among all units.

    404 unknown policy version · 422 a malformed period.
    """
    own = unit_scope(actor)
    period = query_period(from_, to)
    service = AssessmentService(services.sessions)
    policy = await _policy_or_404(service, policy_version)
    return _public(await service.score(period, policy.version), own)


class LinePublic(ScoreLine):
    """A breakdown line with the item's number and title."""

    number: str
    title: str


class BreakdownPublic(BaseModel):
    """One unit's score and every line behind it: a finding priced under a rule, with its event seqs."""

    model_config = ConfigDict(populate_by_name=True)

    period_from: datetime = Field(alias="from")
    to: datetime
    policy_version: int
    ranked: int
    unit: UnitRow
    lines: list[LinePublic]


@router.get("/units/{unit}", summary="考核明细 / one unit's breakdown")
async def unit_breakdown(
    *,
    unit: Annotated[str, Path(max_length=128, description="承办单位 / the unit")],
    actor: ItemReader,
    services: ServicesDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    policy_version: VersionQuery = None,
) -> BreakdownPublic:
    """The unit's score with each deduction and bonus per item and rule, and the events behind it.

    403 a unit asking about another unit · 404 unknown unit or policy version · 422 a malformed period.
    """
    _own_unit_only(actor, unit)
    period = query_period(from_, to)
    service = AssessmentService(services.sessions)
    policy = await _policy_or_404(service, policy_version)
    return await _breakdown(services, await service.score(period, policy.version), unit)


def _own_unit_only(actor: Actor, unit: str) -> None:
    own = unit_scope(actor)
    if own is not None and own != unit:
        raise CommandRefused(forbidden("只能查看本单位的考核 / a unit sees only its own assessment"))


async def _breakdown(services: Services, scored: Scored, unit: str) -> BreakdownPublic:
    score = next((s for s in scored.scores if s.unit == unit), None)
    if score is None:
        raise NotFound(f"不是参与考核的单位 / not an assessed unit: {unit}")
    lines: list[LinePublic] = []
    titles: dict[str, tuple[str, str]] = {}
    for line in score.lines:
        if line.item_id not in titles:
            state = await services.items.get(line.item_id)
            titles[line.item_id] = (state.number, state.title) if state else ("", "")
        number, title = titles[line.item_id]
        lines.append(LinePublic(**line.model_dump(), number=number, title=title))
    return BreakdownPublic(
        period_from=scored.period.start,
        to=scored.period.end,
        policy_version=scored.policy.version,
        ranked=len(scored.scores),
        unit=_row(score, scored.units),
        lines=lines,
    )


# --- what-if ---


class WhatIfRow(BaseModel):
    """One unit under both versions."""

    unit: str
    name: str
    current: Money
    current_band: Band
    proposed: Money
    proposed_band: Band
    delta: Money


class WhatIfPublic(BaseModel):
    """The same period scored under the current and a proposed version, side by side."""

    model_config = ConfigDict(populate_by_name=True)

    period_from: datetime = Field(alias="from")
    to: datetime
    current_version: int
    proposed_version: int
    band_labels: dict[Band, str]
    units: list[WhatIfRow]


@router.get("/what-if", summary="考核试算 / score under a proposed version")
async def what_if(
    *,
    actor: Overseer,
    services: ServicesDep,
    proposed: Annotated[int, Query(ge=1, le=1_000_000, description="拟议版本 / the proposed version")],
    from_: FromQuery = None,
    to: ToQuery = None,
    current: VersionQuery = None,
) -> WhatIfPublic:
    """Each unit's score and band under the current version and `proposed`, and the delta.

    403 a unit user · 404 unknown version · 422 a malformed period.
    """
    period = query_period(from_, to)
    service = AssessmentService(services.sessions)
    now = await _policy_or_404(service, current)
    then = await _policy_or_404(service, proposed)
    found = await service.findings(period)
    return _what_if(scored_under(found, now), scored_under(found, then))


def _what_if(before: Scored, after: Scored) -> WhatIfPublic:
    return WhatIfPublic(
        period_from=before.period.start,
        to=before.period.end,
        current_version=before.policy.version,
        proposed_version=after.policy.version,
        band_labels=BAND_LABELS,
        units=[
            WhatIfRow(**row.model_dump(), name=before.units.get(row.unit, row.unit))
            for row in compare(before.scores, after.scores)
        ],
    )


@dataclass(frozen=True)
class AssessmentView:
    """What the 考核 page shows of one period: the scores, a unit's breakdown, the what-if."""

    scores: AssessmentPublic
    breakdown: BreakdownPublic | None
    what_if: WhatIfPublic | None


async def assessment_view(  # noqa: PLR0917 — the page's query, as the three handlers take it
    actor: Actor,
    services: Services,
    from_: str | None,
    to: str | None,
    policy_version: int | None,
    unit: str | None,
    proposed: int | None,
) -> AssessmentView:
    """What `assessment`, `unit_breakdown` (for `unit`) and `what_if` (for `proposed`, an overseer's)
    answer for one period and version, from one reading of the log: the findings do not depend on
    the policy, so each version only prices them. Refuses as those handlers do."""
    own = unit_scope(actor)
    period = query_period(from_, to)
    service = AssessmentService(services.sessions)
    policy = await _policy_or_404(service, policy_version)
    if unit is not None:
        _own_unit_only(actor, unit)
    found = await service.findings(period)
    scored = scored_under(found, policy)
    breakdown = await _breakdown(services, scored, unit) if unit is not None else None
    what_if = None
    if proposed is not None:
        then = await _policy_or_404(service, proposed)
        what_if = _what_if(scored, scored_under(found, then))
    return AssessmentView(_public(scored, own), breakdown, what_if)


# --- publication ---


class PublishBody(BaseModel):
    """What to publish: the period, the policy version (default: current), and for a revision, why."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    period_from: Annotated[str, Field(alias="from", max_length=40)]
    to: Annotated[str, Field(max_length=40)]
    policy_version: Annotated[int | None, Field(ge=1, le=1_000_000)] = None
    note: Annotated[str, Field(max_length=400)] = ""
    revise: bool = Field(
        default=False, description="已发布期间再次发布为新修订版（须说明理由）/ publish a new revision"
    )


class PublicationPublic(PublishedFigures):
    """A published assessment: period, revision, policy version, figures, their hash and chain link —
    the store's own fields, with the period's ends named `from` and `to`."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    period_from: datetime = Field(alias="from")
    period_to: datetime = Field(alias="to")


def _seen_by(found: Publication, own: str | None) -> Publication:
    """The publication as a reader sees it: the office all of it, a unit its own figures (with its
    rank among all units) and its own breakdown lines — the rule every 考核 answer keeps."""
    if own is None:
        return found
    kept = found.breakdown
    lines = None if kept is None else {**kept, "lines": [li for li in kept["lines"] if li.get("unit") == own]}
    figures = [f for f in found.figures if f.get("unit") == own]
    return found.model_copy(update={"figures": figures, "breakdown": lines})


def _publication(found: Publication, own: str | None) -> PublicationPublic:
    """The one mapping from the stored row to the API's (a unit sees only its own figures)."""
    return PublicationPublic.model_validate(_seen_by(found, own).model_dump(exclude={"breakdown"}))


@router.post("/publish", status_code=201, summary="发布考核结果 / publish an assessment")
async def publish(body: PublishBody, actor: Supervisor, services: ServicesDep) -> PublicationPublic:
    """Publish the period's scores under the version: an append-only, hash-chained record of the
    figures and the version used. Later policy edits never change it.

    403 not a supervisor · 404 unknown version · 409 the period is already published (send
    `revise` with a note for a new revision) · 422 a malformed period, a draft version, a revision
    without a note.
    """
    period = query_period(body.period_from, body.to, required=True)
    service = AssessmentService(services.sessions)
    policy = await _policy_or_404(service, body.policy_version)
    if policy.draft:
        raise CommandRefused(
            invalid(f"草案版本 v{policy.version} 不能用于发布 / a draft version cannot be published")
        )
    if body.revise and not body.note.strip():
        raise CommandRefused(invalid("修订已发布的考核须说明理由 / a revision needs a note saying why"))
    scored = await service.score(period, policy.version)
    try:
        published = await service.publish(scored, author=actor.id, note=body.note, revise=body.revise)
    except PeriodPublished as done:
        raise CommandRefused(
            conflict(
                f"该期间已发布（第 {done.revision} 版），如需更正请勾选修订并说明理由 / "
                "this period is already published: send revise=true with a note"
            )
        ) from done
    return _publication(published, None)


class PublicationsPublic(BaseModel):
    """Every publication in chain order, and whether the chain verifies."""

    chain_ok: bool
    chain_problem: str | None
    publications: list[PublicationPublic]


@router.get("/publications", summary="已发布的考核 / published assessments")
async def publications(actor: ItemReader, services: ServicesDep) -> PublicationsPublic:
    """Every published assessment (a unit sees only its own figures in each) and the chain's check."""
    own = unit_scope(actor)
    store = AssessmentService(services.sessions).publications
    problem = await store.verify()
    return PublicationsPublic(
        chain_ok=problem is None,
        chain_problem=f"#{problem.position}: {problem.problem}" if problem else None,
        publications=[_publication(p, own) for p in await store.all()],
    )


@router.get("/publications/{position}", summary="一次发布 / one published assessment")
async def publication(
    position: Annotated[int, Path(ge=1, le=1_000_000_000)], actor: ItemReader, services: ServicesDep
) -> PublicationPublic:
    """One published assessment as stored. 404 unknown position."""
    found = await AssessmentService(services.sessions).publications.get(position)
    if found is None:
        raise NotFound(f"没有这次发布 / no such publication: {position}")
    return _publication(found, unit_scope(actor))


class DocumentFormat(StrEnum):
    """The file a publication is downloaded as."""

    DOCX = "docx"
    XLSX = "xlsx"


@router.get(
    "/publications/{position}/document",
    summary="下载已发布的考核 / a published assessment as .docx or .xlsx",
    response_class=Response,
    responses={200: {"content": {DOCX: {}, XLSX: {}}}, **error_responses(404)},
)
async def publication_file(
    position: Annotated[int, Path(ge=1, le=1_000_000_000)],
    actor: ItemReader,
    services: ServicesDep,
    format_: Annotated[
        DocumentFormat, Query(alias="format", description="docx（考核结果）或 xlsx（数据）/ the file type")
    ] = DocumentFormat.DOCX,
) -> Response:
    """The published figures as stored, as the office's `.docx` (from its template) or as `.xlsx`
    (scores, bands, ranks, per-rule totals, and the breakdown per item and rule kept with the
    publication): nothing is scored again, so later events and policy edits change nothing.

    A publication is 通报'd to the units: a unit user downloads it too, with its own row (its rank
    among all units) and its own lines, as `GET /publications/{position}` shows it. Drafts (the
    年评估 documents) stay with the office. 404 unknown position.
    """
    service = AssessmentService(services.sessions)
    found = await service.publications.get(position)
    if found is None:
        raise NotFound(f"没有这次发布 / no such publication: {position}")
    names = {unit.id: unit.name for unit in await OrgDirectory(services.sessions).units()}
    own = unit_scope(actor)
    rendered = publication_document(_seen_by(found, own), names, unit=own)
    if format_ is DocumentFormat.XLSX:
        content, media = render_assessment_xlsx(rendered), XLSX
    else:
        content, media = render_assessment_docx(rendered, services.settings.assessment_template), DOCX
    filename = f"考核结果-第{position}号发布.{format_.value}"
    return Response(content, media_type=media, headers={"Content-Disposition": attachment(filename)})

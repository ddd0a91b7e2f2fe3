"""/api/policies: the escalation ladders per category and priority, listed and edited by admins.

An edit publishes a new version; earlier versions stay as they were, and every item keeps
the version it was opened under (recorded in its `PolicyApplied` event).
"""

from __future__ import annotations

from contextlib import aclosing
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as FastApiPath
from pydantic import BaseModel, ConfigDict, Field

from adapters.workdays import ChinaWorkdays
from api.assessment import query_period
from api.errors import SIGNED_IN_ERRORS, NotFound
from api.permissions import role_in
from api.services import Services, ServicesDep
from domain.escalation_whatif import LevelCount, count_levels, replay_item
from domain.ladder import AppliedPolicy, LadderRules, Level, policy_id_for
from domain.people import Actor, Role
from domain.vocabulary import Category, Priority
from store.policies import PolicyStore, PolicyVersion
from store.statistics import item_histories

router = APIRouter(prefix="/api/policies", tags=["policies"], responses=SIGNED_IN_ERRORS)

Admin = Annotated[Actor, Depends(role_in(Role.ADMIN))]
PolicyReader = Annotated[Actor, Depends(role_in(Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR))]


class PolicyUpdate(LadderRules):
    """A new ladder for one category and priority: one rung per level, later levels strictly later."""

    note: Annotated[str, Field(max_length=400)] = ""


class PolicyPublic(PolicyVersion):
    """One version of a category and priority's ladder, as the API shows it."""

    model_config = ConfigDict(frozen=True, from_attributes=True)


def _public(version: PolicyVersion) -> PolicyPublic:
    return PolicyPublic.model_validate(version)


@router.get("", summary="督办阶梯 / escalation policies")
async def list_policies(actor: PolicyReader, services: ServicesDep) -> list[PolicyPublic]:
    """The current version of every category and priority's ladder."""
    return [_public(v) for v in await PolicyStore(services.sessions).list_current()]


@router.get("/{category}/{priority}/versions", summary="督办阶梯历史版本 / policy versions")
async def policy_versions(
    category: Category, priority: Priority, actor: PolicyReader, services: ServicesDep
) -> list[PolicyPublic]:
    """Every version of one category and priority's ladder, oldest first."""
    return [_public(v) for v in await PolicyStore(services.sessions).versions(category, priority)]


@router.put("/{category}/{priority}", summary="修改督办阶梯 / publish a new policy version")
async def publish_policy(
    category: Category, priority: Priority, body: PolicyUpdate, actor: Admin, services: ServicesDep
) -> PolicyPublic:
    """Publish `body` as the next version; items opened from now on run under it, running items keep theirs.

    403 not an admin · 422 a malformed ladder (a level twice, levels out of order, no audience).
    """
    ladder = LadderRules(rungs=body.rungs)
    published = await PolicyStore(services.sessions).publish(
        category, priority, ladder, author=actor.id, note=body.note
    )
    return _public(published)


class RungRowPublic(BaseModel):
    """One rung on one step's ladder: when the proposal would raise it, when the log raised it."""

    step: str
    due: datetime
    level: Level
    level_label: str
    proposed_at: datetime | None
    recorded_at: datetime | None
    recorded_seq: int | None
    change: str = Field(description="added / removed / moved / same")


class ItemReplayPublic(BaseModel):
    """One item's rungs under the proposal against its log."""

    item_id: str
    number: str
    title: str
    recorded_policy: str
    replay_matches_log: bool
    rows: list[RungRowPublic]


class LadderWhatIfPublic(BaseModel):
    """A proposed ladder replayed over a past period's events, item by item."""

    model_config = ConfigDict(populate_by_name=True)

    policy_id: str
    proposed: str
    period_from: datetime = Field(alias="from")
    to: datetime
    calendar: str
    totals: list[LevelCount]
    items: list[ItemReplayPublic]


async def _replay(
    services: Services, proposed: AppliedPolicy, from_: str | None, to: str | None
) -> LadderWhatIfPublic:
    period = query_period(from_, to)
    start, end = period.start, period.end
    calendar = ChinaWorkdays()
    replays = []
    async with aclosing(item_histories(services.sessions, until=end)) as histories:
        async for events in histories:
            replay = replay_item(events, proposed, period, calendar.is_workday)
            if replay is not None and replay.rows:
                replays.append(replay)
    return LadderWhatIfPublic(
        policy_id=proposed.policy_id,
        proposed=f"v{proposed.version}" if proposed.version else "草案 / draft",
        period_from=start,
        to=end,
        calendar=calendar.label,
        totals=count_levels(replays),
        items=[
            ItemReplayPublic(
                item_id=r.item_id,
                number=r.number,
                title=r.title,
                recorded_policy=r.recorded_policy,
                replay_matches_log=r.replay_matches_log,
                rows=[
                    RungRowPublic(**row.model_dump(), level_label=row.level.label, change=row.change)
                    for row in r.rows
                ],
            )
            for r in replays
        ],
    )


FromQuery = Annotated[str | None, Query(alias="from", max_length=40, description="起始日期 / period start")]
ToQuery = Annotated[str | None, Query(max_length=40, description="截止日期 / period end (default: now)")]


@router.get(
    "/{category}/{priority}/versions/{version}/what-if",
    summary="督办阶梯试算 / replay a version over a period",
)
async def version_what_if(
    *,
    category: Category,
    priority: Priority,
    version: Annotated[int, FastApiPath(ge=1, le=1_000_000)],
    actor: PolicyReader,
    services: ServicesDep,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> LadderWhatIfPublic:
    """Replay version `version` of this ladder over the period's events: item by item, which rungs
    it would have raised against those the log shows were raised.

    404 unknown version · 422 a malformed period.
    """
    versions = await PolicyStore(services.sessions).versions(category, priority)
    chosen = next((v for v in versions if v.version == version), None)
    if chosen is None:
        raise NotFound(
            f"督办阶梯版本不存在 / no such version: {policy_id_for(category, priority)} v{version}"
        )
    return await _replay(services, chosen.applied(), from_, to)


@router.post("/{category}/{priority}/what-if", summary="督办阶梯草案试算 / replay a draft ladder")
async def draft_what_if(
    *,
    category: Category,
    priority: Priority,
    body: LadderRules,
    actor: PolicyReader,
    services: ServicesDep,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> LadderWhatIfPublic:
    """Replay a ladder not yet published (nothing is stored) over the period's events.

    422 a malformed ladder or period.
    """
    draft = AppliedPolicy(
        policy_id=policy_id_for(category, priority),
        version=1,
        category=category,
        priority=priority,
        rungs=body.rungs,
    )
    found = await _replay(services, draft, from_, to)
    return found.model_copy(update={"proposed": "草案 / draft"})

"""/api/audit: the auditor's verification of the whole audit trail, and what one person did."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.errors import SIGNED_IN_ERRORS
from api.permissions import Auditor
from api.schemas import ChainReportPublic, EventPublic, PageOffset
from api.services import ServicesDep
from domain.instants import InputInstant
from store.audit_trail import AuditTrail
from store.verification import verify_audit_trail
from telemetry.api_metrics import LAST_VERIFICATION

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=SIGNED_IN_ERRORS)


class ActorEventsQuery(BaseModel):
    """Filters of `GET /api/audit/events`: whose events, in which window, which page."""

    model_config = {"populate_by_name": True}

    actor: str = Field(min_length=1, max_length=128, description="user id, e.g. sup-zhang")
    start: InputInstant | None = Field(
        default=None, alias="from", description="inclusive, ISO-8601 with timezone"
    )
    end: InputInstant | None = Field(
        default=None, alias="to", description="exclusive, ISO-8601 with timezone"
    )
    limit: int = Field(default=50, ge=1, le=500)
    offset: PageOffset = 0


class ActorEvents(BaseModel):
    """One page of a person's audit events, oldest first, and how many there are in all."""

    events: list[EventPublic]
    total: int
    limit: int
    offset: int


@router.get("/verify", summary="校验全部审计链 / verify the whole audit trail")
async def verify_all(actor: Auditor, services: ServicesDep) -> ChainReportPublic:
    """Every item's hash chain, then the ledger against the log and the stored checkpoints' roots.

    ok, or the first bad spot (item and seq, or ledger positions) and the kind of failure.
    Signatures are checked offline with the public key (`duban audit verify`, `verify-bundle`).
    """
    started = time.perf_counter()
    report = await verify_audit_trail(services.sessions)
    LAST_VERIFICATION.note(ok=report.ok, seconds=time.perf_counter() - started)
    return ChainReportPublic.model_validate(report)


@router.get("/events", summary="某人的全部操作 / everything one person did")
async def actor_events(
    actor: Auditor, services: ServicesDep, query: Annotated[ActorEventsQuery, Query()]
) -> ActorEvents:
    """The audit events `actor` caused across every item, in time order, paged."""
    events, total = await AuditTrail(services.sessions).by_actor(
        query.actor, start=query.start, end=query.end, limit=query.limit, offset=query.offset
    )
    return ActorEvents(
        events=[EventPublic.model_validate(event) for event in events],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )

"""/api/audit: the auditor's verification of the whole audit log."""

from __future__ import annotations

from fastapi import APIRouter

from api.permissions import Auditor
from api.schemas import ChainReportPublic
from api.services import ServicesDep

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("/verify", summary="校验全部审计链 / verify the whole audit log")
async def verify_all(actor: Auditor, services: ServicesDep) -> ChainReportPublic:
    """Recompute every item's hash chain: ok, or the first bad item and seq."""
    return ChainReportPublic.model_validate(await services.events.verify_all())

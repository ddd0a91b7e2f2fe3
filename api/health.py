"""/healthz: liveness, with the reachability of the database and of Temporal."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from fastapi import APIRouter, Response, status
from sqlalchemy import text

from api.schemas import Health
from api.services import Services, ServicesDep

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


async def _database_reachable(services: Services) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("database unreachable", error=str(error))
        return False
    return True


async def _temporal_reachable(services: Services) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await services.temporal.service_client.check_health(
                timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS)
            )
    except Exception as error:
        log.warning("temporal unreachable", error=str(error))
        return False


@router.get("/healthz", summary="健康检查 / health")
async def healthz(services: ServicesDep, response: Response) -> Health:
    """200 when the database and Temporal answer, 503 (degraded) otherwise."""
    database, temporal = await asyncio.gather(_database_reachable(services), _temporal_reachable(services))
    healthy = database and temporal
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if healthy else "degraded", database=database, temporal=temporal)

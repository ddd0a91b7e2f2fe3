"""/healthz: liveness (the process answers); /readyz: readiness (the database and Temporal answer).

A liveness probe that failed whenever PostgreSQL or Temporal did would have an orchestrator
restart healthy API processes during someone else's outage; readiness is what takes a replica
out of a load balancer and what `depends_on: service_healthy` waits for.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

import structlog
from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from api.services import Services, ServicesDep

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


class Liveness(BaseModel):
    """The process is up and serving requests."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether each dependency answered, and the names of those that did not."""

    status: Literal["ready", "unready"]
    database: bool
    temporal: bool
    down: list[Literal["database", "temporal"]]


async def database_reachable(services: Services) -> bool:
    """True when a `SELECT 1` comes back within the check's timeout."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("database unreachable", error=str(error) or type(error).__name__)
        return False
    return True


async def temporal_reachable(services: Services) -> bool:
    """True when Temporal's frontend answers its health check within the check's timeout."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await services.temporal.service_client.check_health(
                timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS)
            )
    except Exception as error:
        log.warning("temporal unreachable", error=str(error) or type(error).__name__)
        return False


@router.get("/healthz", summary="存活检查 / liveness")
async def healthz() -> Liveness:
    """200 while the process serves requests, whatever its dependencies do."""
    return Liveness()


@router.get(
    "/readyz",
    summary="就绪检查 / readiness",
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness, "description": "a dependency is down"}
    },
)
async def readyz(services: ServicesDep, response: Response) -> Readiness:
    """200 when the database and Temporal answer; 503 naming the ones that do not."""
    database, temporal = await asyncio.gather(database_reachable(services), temporal_reachable(services))
    down: list[Literal["database", "temporal"]] = []
    if not database:
        down.append("database")
    if not temporal:
        down.append("temporal")
    if down:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="unready" if down else "ready", database=database, temporal=temporal, down=down)

"""The API's /metrics: requests by route template and status, and the office's figures at scrape time.

Request count and latency come from prometheus-fastapi-instrumentator (labelled by the route
template, `/api/items/{item_id}`, never by a concrete path). The domain figures are read from
the read model when scraped, at most once per `REFRESH_SECONDS` however many scrapers ask, so a
scrape costs two indexed queries and a request nothing. Each app has its own registry: tests
build many apps in one process. The last full verification is the process's (`LAST_VERIFICATION`):
the API route and the auditor's page both run it, and each app's registry reports it.
With METRICS_TOKEN set, a scrape must carry it as a bearer token (the figures name units and
counts of items); without, /metrics is open.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as http_metrics
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.stages import Light
from store.gauges import OPEN_STAGES, last_checkpoint, open_item_counts

REFRESH_SECONDS = 5.0
REFRESH_TIMEOUT_SECONDS = 2.0
# From a cached read (~2 ms) to an action that waits on its workflow for long.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

log = structlog.get_logger(__name__)
SCRAPE_REFUSED = "需要指标令牌 / a valid metrics bearer token is required (METRICS_TOKEN)"


@dataclass
class LastVerification:
    """The outcome of this process's last full verification of the audit trail (none yet: NaN)."""

    ok: float = math.nan
    seconds: float = math.nan
    at: float = math.nan

    def note(self, *, ok: bool, seconds: float) -> None:
        """Record a full verification that just ended."""
        self.ok, self.seconds, self.at = (1.0 if ok else 0.0), seconds, time.time()


LAST_VERIFICATION = LastVerification()


class _VerificationCollector(Collector):
    """Reads `LAST_VERIFICATION` at scrape time into three gauges."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        last = LAST_VERIFICATION
        yield GaugeMetricFamily(
            "duban_verification_ok",
            "1 when this API's last full verification found the audit trail intact, 0 when not, NaN before",
            value=last.ok,
        )
        yield GaugeMetricFamily(
            "duban_verification_duration_seconds",
            "How long this API's last full verification of the audit trail took",
            value=last.seconds,
        )
        yield GaugeMetricFamily(
            "duban_verification_timestamp_seconds",
            "When this API's last full verification ended (Unix time)",
            value=last.at,
        )


class ApiMetrics:
    """One app's registry: the HTTP metrics, the read-model gauges and the last verification."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_VerificationCollector())
        self._open_items = Gauge(
            "duban_open_items",
            "Open items (not closed or cancelled) by stage and light, from the read model",
            ["stage", "light"],
            registry=self.registry,
        )
        self._checkpoint_age = Gauge(
            "duban_checkpoint_age_seconds",
            "Seconds since the newest signed audit checkpoint (NaN before the first)",
            registry=self.registry,
        )
        self._checkpoint_size = Gauge(
            "duban_checkpoint_size",
            "Ledger entries the newest signed audit checkpoint covers",
            registry=self.registry,
        )
        self._refresh_failures = Counter(
            "duban_metrics_refresh_failures",
            "Scrapes whose read-model figures could not be refreshed (the previous ones were served)",
            registry=self.registry,
        )
        self._checkpoint_age.set(math.nan)
        for stage in OPEN_STAGES:
            for light in Light:
                self._open_items.labels(stage=stage.value, light=light.value).set(0)
        self._refreshed_at = -math.inf
        self._lock = asyncio.Lock()

    async def render(self, sessions: async_sessionmaker[AsyncSession]) -> bytes:
        """The exposition text, with the read-model figures refreshed if they are older than a few seconds."""
        async with self._lock:
            if time.monotonic() - self._refreshed_at >= REFRESH_SECONDS:
                try:
                    async with asyncio.timeout(REFRESH_TIMEOUT_SECONDS):
                        await self._refresh(sessions)
                    self._refreshed_at = time.monotonic()
                except Exception as error:
                    # A scrape must still answer (HTTP metrics matter most when the database is down).
                    self._refresh_failures.inc()
                    log.warning("metrics refresh failed", error=str(error) or type(error).__name__)
        return generate_latest(self.registry)

    async def _refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        counts = await open_item_counts(sessions)
        for stage in OPEN_STAGES:
            for light in Light:
                self._open_items.labels(stage=stage.value, light=light.value).set(
                    counts.get((stage, light), 0)
                )
        newest = await last_checkpoint(sessions)
        if newest is not None:
            self._checkpoint_age.set((datetime.now(UTC) - newest.created_at).total_seconds())
            self._checkpoint_size.set(newest.size)


def install_metrics(app: FastAPI) -> None:
    """Instrument `app`'s requests and serve GET /metrics."""
    metrics = ApiMetrics()
    instrumentator = Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics"],
        registry=metrics.registry,
    )
    instrumentator.add(http_metrics.requests(registry=metrics.registry))
    instrumentator.add(
        http_metrics.latency(should_include_status=True, buckets=LATENCY_BUCKETS, registry=metrics.registry)
    )
    instrumentator.instrument(app)

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        """Prometheus' text exposition format; 401 without the bearer token when METRICS_TOKEN is set."""
        if not scrape_allowed(request.app.state.services.settings.metrics_token, request):
            return JSONResponse(
                {"detail": SCRAPE_REFUSED}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        body = await metrics.render(request.app.state.services.sessions)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def scrape_allowed(token: SecretStr | None, request: Request) -> bool:
    """Whether `request` may read /metrics: always without a token, else with it as its bearer token."""
    if token is None:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)

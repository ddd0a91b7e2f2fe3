"""Figure 6 — memory: resident size of the worker and the API with many open items.

Items are opened through the service's path (update-with-start, numbering and append
activities) and left waiting in 研究部署; the baseline worker holds the same number of open
bare workflows. The API's size is read at start and after listing the open items.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from bench.api_latency import _token
from bench.env import Deployment
from bench.loop import request, run_items, service_open
from bench.raw import raw_open
from bench.runner import Figure, Row
from bench.story import SUPERVISOR, closed_loop

CONCURRENCY = 50


async def measure(where: Deployment, items: int) -> list[Figure]:
    """Worker RSS vs the bare worker's, and API RSS vs its own at start, with `items` more open items."""
    client, worker, raw, api = where.client, where.worker, where.raw_worker, where.api
    opening = closed_loop(datetime.now(UTC))[0]
    payload = request(*opening).model_dump(mode="json")
    api_idle, worker_idle, raw_idle = api.rss_mib(), worker.rss_mib(), raw.rss_mib()
    await run_items(
        lambda: service_open(client, where.task_queue, str(uuid.uuid4()), opening), items, CONCURRENCY
    )
    await run_items(
        lambda: raw_open(client, where.raw_task_queue, str(uuid.uuid4()), payload), items, CONCURRENCY
    )
    headers = _token(SUPERVISOR.id)
    for offset in range(0, min(items, 2000), 200):
        listed = await where.http.get("/api/items", headers=headers, params={"limit": 200, "offset": offset})
        listed.raise_for_status()
    worker_rss, raw_rss, api_rss = worker.rss_mib(), raw.rss_mib(), api.rss_mib()
    worker_peak, raw_peak = worker.peak_rss_mib(), raw.peak_rss_mib()
    note = f"{items:,} open items"
    return [
        Figure(
            name="memory_worker",
            value=worker_rss,
            unit="MiB",
            ratio=worker_rss / raw_rss,
            baseline="raw_temporal_worker",
            rows=(
                Row(
                    "worker RSS with open items",
                    worker_rss,
                    "MiB",
                    f"{note}; idle {worker_idle:.0f}, peak {worker_peak:.0f}",
                ),
                Row(
                    "baseline: bare worker, same open workflows",
                    raw_rss,
                    "MiB",
                    f"idle {raw_idle:.0f}, peak {raw_peak:.0f}",
                ),
            ),
        ),
        Figure(
            name="memory_api",
            value=api_rss,
            unit="MiB",
            ratio=api_rss / api_idle,
            baseline="api_before",
            rows=(
                Row("API RSS after listing the open items", api_rss, "MiB", note),
                Row("baseline: the same API before these items", api_idle, "MiB"),
            ),
        ),
    ]

"""Figure 4 — API latency: an action's round trip at a fixed request rate, and filtered lists.

Real HTTP: `duban api` (uvicorn) on a loopback port and `duban worker` as child processes, on
PostgreSQL and the dev server. Actions (`comment`, repeatable at any open stage) are sent on a
fixed schedule, not waiting for answers; the baseline sends the same number of updates on the
same schedule to the bare workflow (one no-op activity each). Lists run over read-model rows
inserted directly, one request at a time, against the same query sent raw with asyncpg.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import insert
from temporalio.client import Client

from api.auth import issue_token
from bench.env import BENCH_SECRET, Deployment, asyncpg_dsn
from bench.loop import request
from bench.raw import raw_act, raw_open
from bench.runner import Figure, Row, percentile
from bench.story import SUPERVISOR, item_events, open_body
from domain.fold import fold
from domain.state import ItemState
from settings import Settings
from store.db import make_engine
from store.projection import item_row, unit_rows
from store.schema import item_units, items

ACTION_P99_MS = 150.0
LIST_P99_MS = 30.0
TEMPLATE_ACTIONS = (1, 3, 5, 7, 9, 11)  # deploy … closed: one template state per stage
CATEGORIES = ("major_policy", "major_funds", "major_project", "other")
LIST_QUERIES = (
    ("supervisor", "sup-zhang", {"stage": "implement", "category": "major_project"}),
    ("unit (own items only)", "fgw-li", {"stage": "deploy"}),
    ("supervisor, text search", "sup-zhang", {"q": "老旧小区", "category": "other"}),
)
_RAW_PAGE = "SELECT state FROM items WHERE stage = $1 AND category = $2 ORDER BY updated_at DESC, id LIMIT 50"


def _token(user: str) -> dict[str, str]:
    settings = Settings(_env_file=None, environment="test", jwt_secret=BENCH_SECRET)
    return {"Authorization": f"Bearer {issue_token(settings, user)}"}


async def at_fixed_rate(calls: int, rate: float, call: Callable[[int], Awaitable[None]]) -> list[float]:
    """Start call(i) at i / rate seconds whatever earlier calls are doing; each one's latency in ms."""
    start = time.perf_counter()

    async def timed(index: int) -> float:
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        began = time.perf_counter()
        await call(index)
        return (time.perf_counter() - began) * 1000

    return list(await asyncio.gather(*(timed(i) for i in range(calls))))


async def action_latencies(http: httpx.AsyncClient, items: int, calls: int, rate: float) -> list[float]:
    """Latencies of `comment` actions over HTTP, spread over `items` fresh items."""
    supervisor = _token(SUPERVISOR.id)
    ids = []
    for _ in range(items):
        opened = await http.post(
            "/api/items", headers=supervisor, json=open_body(datetime.now(UTC) + timedelta(days=365))
        )
        opened.raise_for_status()
        ids.append(opened.json()["id"])

    async def comment(index: int) -> None:
        response = await http.post(
            f"/api/items/{ids[index % items]}/actions/comment",
            headers=supervisor,
            json={"text": f"第 {index} 次跟进"},
        )
        response.raise_for_status()

    await comment(0)
    return await at_fixed_rate(calls, rate, comment)


async def raw_latencies(client: Client, task_queue: str, items: int, calls: int, rate: float) -> list[float]:
    """Latencies of updates to the bare workflow on the same schedule and payload size.

    Its no-op activity goes through the task queue, as the service's append does.
    """
    ids = [str(uuid.uuid4()) for _ in range(items)]
    payload = {
        **request("comment", SUPERVISOR, {"text": "第 0 次跟进"}).model_dump(mode="json"),
        "queued": True,
    }
    for item_id in ids:
        await raw_open(client, task_queue, item_id, payload)

    async def update(index: int) -> None:
        await raw_act(client, ids[index % items], payload)

    await update(0)
    return await at_fixed_rate(calls, rate, update)


async def fill_read_model(url: str, rows: int) -> None:
    """`rows` items in the read model: real states written by the store, copied in SQL."""
    templates = [
        fold(item_events(str(uuid.uuid4()), "DB-2026-000001", actions=n), ItemState())
        for n in TEMPLATE_ACTIONS
    ]
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:  # the templates' rows, as the log's writer makes them
            await connection.execute(insert(items), [item_row(state) for state in templates])
            await connection.execute(insert(item_units), [row for s in templates for row in unit_rows(s)])
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        columns = [
            record["column_name"]
            for record in await connection.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'items' ORDER BY ordinal_position"
            )
        ]
        overrides = {
            "id": "t.id || '.' || g",
            "number": "'DB-2025-' || lpad(g::text, 6, '0')",
            "category": f"(ARRAY{list(CATEGORIES)})[1 + g % 4]",
            "updated_at": "t.updated_at - make_interval(mins => g)",
            "state": (
                "replace(replace(t.state::text, t.id, t.id || '.' || g), '\"category\": \"major_project\"', "
                f"'\"category\": \"' || (ARRAY{list(CATEGORIES)})[1 + g % 4] || '\"')::json"
            ),
        }
        select = ", ".join(overrides.get(column, f"t.{column}") for column in columns)
        per_template = rows // len(templates)
        await connection.execute(
            f"INSERT INTO items ({', '.join(columns)}) SELECT {select} "  # noqa: S608 — our own column names
            f"FROM items t CROSS JOIN generate_series(1, {per_template}) g WHERE t.id = ANY($1::text[])",
            [state.id for state in templates],
        )
        await connection.execute(
            "INSERT INTO item_units (item_id, unit_id, part, status) "
            "SELECT i.id, u.unit_id, u.part, u.status FROM items i "
            "JOIN item_units u ON u.item_id = split_part(i.id, '.', 1) WHERE i.id LIKE '%.%'"
        )
        # What autovacuum does to a production table after such a load; it is off on this
        # machine's server, which would leave the visibility map empty and index-only scans moot.
        await connection.execute("VACUUM ANALYZE items, item_units")
    finally:
        await connection.close()


async def list_latencies(http: httpx.AsyncClient, requests: int) -> dict[str, list[float]]:
    """Sequential `GET /api/items` latencies per query shape."""
    result: dict[str, list[float]] = {}
    for label, user, params in LIST_QUERIES:
        headers = _token(user)
        (await http.get("/api/items", headers=headers, params=params)).raise_for_status()
        samples = []
        for _ in range(requests):
            began = time.perf_counter()
            response = await http.get("/api/items", headers=headers, params=params)
            samples.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
        result[label] = samples
    return result


async def raw_list_latencies(url: str, requests: int) -> list[float]:
    """The first list query's page, sent raw with asyncpg (no count, no parsing, no HTTP)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.fetch(_RAW_PAGE, "implement", "major_project")
        samples = []
        for _ in range(requests):
            began = time.perf_counter()
            await connection.fetch(_RAW_PAGE, "implement", "major_project")
            samples.append((time.perf_counter() - began) * 1000)
        return samples
    finally:
        await connection.close()


def _ms(samples: list[float]) -> dict[str, Any]:
    return {"p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99)}


async def measure(where: Deployment, sizes: dict[str, int], rate: float) -> list[Figure]:
    """Action round-trip and list latencies through the real app, each against its baseline."""
    http = where.http
    actions = _ms(await action_latencies(http, sizes["action_items"], sizes["actions"], rate))
    baseline = _ms(
        await raw_latencies(where.client, where.raw_task_queue, sizes["action_items"], sizes["actions"], rate)
    )
    await fill_read_model(where.database_url, sizes["list_rows"])
    lists = {
        label: _ms(samples) for label, samples in (await list_latencies(http, sizes["list_requests"])).items()
    }
    raw_list = _ms(await raw_list_latencies(where.database_url, sizes["list_requests"]))
    action_ratio = actions["p99"] / baseline["p99"]
    worst_label, worst = max(lists.items(), key=lambda entry: entry[1]["p99"])
    list_ratio = worst["p99"] / raw_list["p99"]
    rows_note = f"{sizes['list_rows']:,} items in the read model, {sizes['list_requests']} requests each"
    return [
        Figure(
            name="api_action_p99",
            value=actions["p99"],
            unit="ms",
            ratio=action_ratio,
            baseline="raw_temporal_update",
            target=f"p99 < {ACTION_P99_MS:.0f} ms (absolute)",
            met=actions["p99"] < ACTION_P99_MS,
            rows=(
                Row(
                    "action over HTTP (uvicorn, loopback): p50",
                    actions["p50"],
                    "ms",
                    f"{sizes['actions']} at {rate:g}/s",
                ),
                Row("action over HTTP (uvicorn, loopback): p99", actions["p99"], "ms"),
                Row("baseline: bare update + no-op activity: p50", baseline["p50"], "ms"),
                Row("baseline: bare update + no-op activity: p99", baseline["p99"], "ms"),
            ),
        ),
        Figure(
            name="api_list_p99",
            value=worst["p99"],
            unit="ms",
            ratio=list_ratio,
            baseline="raw_asyncpg_page",
            target=f"p99 < {LIST_P99_MS:.0f} ms (absolute)",
            met=worst["p99"] < LIST_P99_MS,
            rows=(
                *(
                    Row(
                        f"GET /api/items, {label}: p99",
                        stats["p99"],
                        "ms",
                        rows_note if i == 0 else f"p50 {stats['p50']:.1f} ms",
                    )
                    for i, (label, stats) in enumerate(lists.items())
                ),
                Row("baseline: raw page SELECT: p99", raw_list["p99"], "ms", f"p50 {raw_list['p50']:.2f} ms"),
            ),
            note=f"headline is the slowest shape: {worst_label}",
        ),
    ]

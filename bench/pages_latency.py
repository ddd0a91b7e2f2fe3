"""Figure 7 — the 台账 page: its first page as HTML for a supervisor and a unit, against the JSON
list of the same filter in the same run (the baseline), over the read model figure 4 filled.

Each user signs in through the login form (the demo password, set for the run) and keeps the
session cookie; HTML and JSON requests alternate, so both see the same database and caches.
"""

from __future__ import annotations

import re
import time

import httpx

from bench.api_latency import _token
from bench.env import Deployment
from bench.runner import Figure, Row, percentile
from store.db import make_engine, make_sessions
from store.passwords import DEMO_PASSWORD, PasswordStore

PAGE_RATIO_TARGET = 1.5
LEDGER_QUERIES = (
    ("supervisor", "sup-zhang", {"stage": "implement", "category": "major_project"}),
    ("unit (own items only)", "fgw-li", {"stage": "deploy"}),
)
PAGE_SIZE = 20  # the 台账 page's size; the JSON baseline asks for the same


async def _signed_in(base_url: str, user: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base_url, timeout=30)
    form = (await http.get("/login")).text
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    assert found is not None, "the login page has no CSRF field"
    answer = await http.post("/login", data={"user_id": user, "password": DEMO_PASSWORD, "csrf": found[1]})
    assert answer.status_code == 303, answer.text
    return http


async def measure(where: Deployment, requests: int) -> Figure:
    """p99 of `GET /items` (HTML) per user, with `GET /api/items` of the same filter as baseline."""
    engine = make_engine(where.database_url)
    try:
        passwords = PasswordStore(make_sessions(engine))
        for _, user, _ in LEDGER_QUERIES:
            await passwords.set(user, DEMO_PASSWORD)
    finally:
        await engine.dispose()
    rows: list[Row] = []
    worst_ratio, worst_page = 0.0, 0.0
    for label, user, params in LEDGER_QUERIES:
        page_http = await _signed_in(str(where.http.base_url), user)
        query = {**params, "limit": str(PAGE_SIZE)}
        headers = _token(user)
        try:
            (await page_http.get("/items", params=query)).raise_for_status()
            (await where.http.get("/api/items", params=query, headers=headers)).raise_for_status()
            pages, lists = [], []
            for _ in range(requests):
                began = time.perf_counter()
                (await page_http.get("/items", params=query)).raise_for_status()
                pages.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                (await where.http.get("/api/items", params=query, headers=headers)).raise_for_status()
                lists.append((time.perf_counter() - began) * 1000)
        finally:
            await page_http.aclose()
        page_p99, list_p99 = percentile(pages, 0.99), percentile(lists, 0.99)
        if page_p99 / list_p99 > worst_ratio:
            worst_ratio, worst_page = page_p99 / list_p99, page_p99
        rows += [
            Row(f"台账 HTML, {label}: p99", page_p99, "ms", f"p50 {percentile(pages, 0.5):.1f} ms"),
            Row(f"GET /api/items, {label}: p99", list_p99, "ms", f"p50 {percentile(lists, 0.5):.1f} ms"),
        ]
    return Figure(
        name="api_ledger_page_p99",
        value=worst_page,
        unit="ms",
        ratio=worst_ratio,
        baseline="json_list_same_filter",
        target=f"p99 ≤ {PAGE_RATIO_TARGET}× the JSON list",
        met=worst_ratio <= PAGE_RATIO_TARGET,
        rows=tuple(rows),
        note=f"first page ({PAGE_SIZE} rows), {requests} requests each, alternating; headline: worse ratio",
    )

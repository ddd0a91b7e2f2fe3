"""What an operator scrapes: a running `duban api` and `duban worker`, and the dashboard built on them."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.event_log import EventLog, StoredEvent
from store.org import OrgDirectory
from tests.api.conftest import SUPERVISOR, free_port, open_body
from tests.fixtures.databases import migrated_sqlite_url

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "duban.json"
START_SECONDS = 60
QUIET_SECONDS = 1.0
QUIET_TIMEOUT_SECONDS = 30.0
AGREE_TIMEOUT_SECONDS = 90.0
# PromQL words that are not metric names: functions, aggregations, modifiers, label names.
PROMQL_WORDS = {
    "sum", "rate", "increase", "histogram_quantile", "by", "without", "le", "max", "min", "avg", "time",
    "clamp_min", "count", "irate", "on", "ignoring", "group_left", "offset", "or", "and", "unless",
}  # fmt: skip


async def _events_once_quiet(url: str, item_id: str) -> list[StoredEvent]:
    """The item's audit log once nothing has been added for a second (its first notices trail the opening)."""
    engine = make_engine(url)
    try:
        log = EventLog(make_sessions(engine))
        events, quiet_since = await log.read(item_id), time.monotonic()
        deadline = time.monotonic() + QUIET_TIMEOUT_SECONDS
        while time.monotonic() - quiet_since < QUIET_SECONDS:
            assert time.monotonic() < deadline, f"item {item_id} kept writing events"
            await asyncio.sleep(0.1)
            if len(now := await log.read(item_id)) != len(events):
                events, quiet_since = now, time.monotonic()
        return events
    finally:
        await engine.dispose()


def _counter(exposition: str, name: str, label: str) -> Counter[tuple[str, ...]]:
    """A counter's values keyed by the given labels (comma-separated names), summed over the rest."""
    keys = [key for key in label.split(",") if key]
    found: Counter[tuple[str, ...]] = Counter()
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sample.labels[key] for key in keys)] += int(sample.value)
    return +found  # the zero series every label starts with are left out


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        await OrgDirectory(make_sessions(engine)).load(DEMO_ORG)
    finally:
        await engine.dispose()


class Processes:
    """A `duban worker` and a `duban api` on one database and the test's Temporal dev server."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.api = f"http://127.0.0.1:{env['API_PORT']}"
        self.worker = f"http://{env['WORKER_METRICS_ADDRESS']}"
        self.children = [
            subprocess.Popen(  # noqa: S603 — our own CLI
                [sys.executable, "-m", "cli", part],
                env=env,
                stdout=(log_dir / f"{part}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            for part in ("worker", "api")
        ]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert all(child.poll() is None for child in self.children), "a process exited while starting"
            try:
                if (
                    httpx.get(f"{self.api}/readyz", timeout=2).status_code == 200
                    and httpx.get(f"{self.worker}/metrics", timeout=2).status_code == 200
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        pytest.fail(f"api and worker not ready after {START_SECONDS}s")

    def token(self) -> str:
        """The supervisor's token, from `duban token`."""
        return subprocess.run(  # noqa: S603 — our own CLI
            [sys.executable, "-m", "cli", "token", SUPERVISOR],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def open_item(self) -> dict[str, Any]:
        """Open an item over HTTP as the supervisor."""
        opened = httpx.post(
            f"{self.api}/api/items",
            headers={"Authorization": f"Bearer {self.token()}"},
            json=open_body(),
            timeout=30,
        )
        assert opened.status_code == 201, opened.text
        item: dict[str, Any] = opened.json()
        return item

    def urge(self, item_id: str) -> None:
        """催办 over HTTP: the item's units are notified at once."""
        urged = httpx.post(
            f"{self.api}/api/items/{item_id}/actions/urge",
            headers={"Authorization": f"Bearer {self.token()}"},
            json={"message": "请加快办理"},
            timeout=30,
        )
        assert urged.status_code == 200, urged.text

    def stop(self) -> None:
        for child in self.children:
            child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@pytest.fixture
def running(tmp_path: Path, temporal_client: Client) -> Iterator[Processes]:
    url = asyncio.run(migrated_sqlite_url(tmp_path))
    asyncio.run(_seed(url))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
        "TASK_QUEUE": f"duban-test-{uuid.uuid4()}",
        "API_PORT": str(free_port()),
        "WORKER_METRICS_ADDRESS": f"127.0.0.1:{free_port()}",
        "LOG_FORMAT": "json",
    }
    processes = Processes(env, tmp_path)
    try:
        processes.wait_ready()
        yield processes
    finally:
        processes.stop()


def _names(exposition: str) -> set[str]:
    """Every family and sample name in a Prometheus text exposition."""
    found = set()
    for family in text_string_to_metric_families(exposition):
        found.add(family.name)
        found.update(sample.name for sample in family.samples)
    return found


def dashboard_metric_names() -> set[str]:
    """The metric names the dashboard's queries use."""
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    exprs = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    assert exprs, "the dashboard has no queries"
    names: set[str] = set()
    for expr in exprs:
        bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", expr)  # matchers, ranges, strings
        # The lookbehind skips the letters of numbers (the e of 1e-9).
        bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", bare)  # grouping label lists
        names.update(w for w in re.findall(r"(?<![\w.])[a-zA-Z_:][\w:]*", bare) if w not in PROMQL_WORDS)
    return names


def test_api_and_worker_expose_every_metric_the_dashboard_queries(running: Processes) -> None:
    running.open_item()

    api = httpx.get(f"{running.api}/metrics", timeout=5).text
    worker = httpx.get(f"{running.worker}/metrics", timeout=5).text
    queried = dashboard_metric_names()
    assert {"duban_open_items", "http_requests_total", "temporal_worker_task_slots_available"} <= queried
    missing = queried - _names(api) - _names(worker)
    assert not missing, f"the dashboard queries metrics nobody exposes: {sorted(missing)}"

    # The request is counted under its route template, and the new item among the open ones.
    assert 'handler="/api/items",method="POST",status="201"' in api
    assert 'duban_open_items{light="green",stage="deploy"} 1.0' in api
    # The worker serves the SDK's metrics and duban's on one endpoint; the append was timed.
    assert (
        "temporal_workflow_completed_total" in worker or "temporal_workflow_task_execution_latency" in worker
    )
    assert re.search(r"^duban_append_seconds_count\{[^}]*\} [1-9]", worker, re.MULTILINE), worker


def test_the_workers_counters_agree_with_the_audit_log(running: Processes) -> None:
    opened = running.open_item()
    # An opening notifies only when a rung is already due (its sign-for reminder is at 18:00
    # Beijing on the day: it depends on the hour the test runs); an urge notifies at once.
    running.urge(opened["id"])
    outcomes = {
        "NotificationDelivered": "delivered",
        "NotificationQueued": "queued",
        "NotificationFailed": "failed",
    }
    # The notices trail the opening by however long a loaded machine takes, and a counter moves
    # just after its append: read the log once quiet and the counters after it, until both agree
    # (or the deadline passes, and the last reading is what the assertions judge).
    deadline = time.monotonic() + AGREE_TIMEOUT_SECONDS
    while True:
        events = asyncio.run(_events_once_quiet(running.env["DATABASE_URL"], opened["id"]))
        worker = httpx.get(f"{running.worker}/metrics", timeout=5).text
        notices = Counter((e.payload["channel"], outcomes[e.type]) for e in events if e.type in outcomes)
        rungs = Counter(
            (e.payload["level"],) for e in events if e.type in ("ReminderSent", "EscalationRaised")
        )
        counted = (
            _counter(worker, "duban_notices_total", "channel,outcome"),
            _counter(worker, "duban_escalations_total", "rung"),
            _counter(worker, "duban_events_appended_total", "")[()],
        )
        if (notices and counted == (notices, rungs, len(events))) or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert notices, "urging an item notifies its units: the comparison needs some"
    assert counted[0] == notices
    assert counted[1] == rungs
    assert counted[2] == len(events)

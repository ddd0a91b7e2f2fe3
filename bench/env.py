"""The parts every figure runs on: a fresh PostgreSQL database, a SQLite file, the Temporal dev
server, and the service's worker and API as child processes (so their memory is their own)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.migrate import upgrade
from store.org import OrgDirectory

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
TEMPORAL_CLI = Path(sys.executable).parent / "temporal"
ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 60.0
BENCH_SECRET = "duban-bench-throwaway-secret-0123456789"  # noqa: S105 — a throwaway secret for the benchmark's own tokens


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN of a SQLAlchemy `postgresql+asyncpg://` URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new PostgreSQL database migrated to head, with the demo org; dropped on exit."""
    name = f"duban_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{POSTGRES}/postgres", timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        await _prepare(url)
        yield url
    finally:
        admin = await asyncpg.connect(f"{POSTGRES}/postgres", timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def fresh_sqlite() -> AsyncIterator[str]:
    """A new SQLite file migrated to head, with the demo org; removed on exit."""
    with tempfile.TemporaryDirectory(prefix="duban-bench-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'duban.db'}"
        await _prepare(url)
        yield url


async def _prepare(url: str) -> None:
    await upgrade(url)
    engine = make_engine(url)
    try:
        await OrgDirectory(make_sessions(engine)).load(DEMO_ORG)
    finally:
        await engine.dispose()


@asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal dev server from the virtualenv's `temporal` binary, in memory."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Child:
    """A child process of the benchmark, whose resident memory can be read."""

    def __init__(self, name: str, process: subprocess.Popen[bytes]) -> None:
        self.name = name
        self.process = process

    def rss_mib(self) -> float:
        """Resident set size now, in MiB (Linux /proc)."""
        return _status_kib(self.process.pid, "VmRSS") / 1024

    def peak_rss_mib(self) -> float:
        """The highest resident set size so far, in MiB."""
        return _status_kib(self.process.pid, "VmHWM") / 1024

    def check_alive(self) -> None:
        """Raise if the child has died (its log is in the benchmark's stderr)."""
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self.process.returncode}")


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for process {pid}")


@contextmanager
def child(name: str, argv: list[str], env: dict[str, str]) -> Iterator[Child]:
    """Run `argv` with `env` added to ours; stopped with SIGTERM (then SIGKILL) on exit."""
    process = subprocess.Popen(  # noqa: S603 — our own interpreter and modules
        argv, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL
    )
    try:
        yield Child(name, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def service_env(
    database_url: str, temporal_address: str, task_queue: str, api_port: int = 0
) -> dict[str, str]:
    """Environment for `duban worker` / `duban api` on the benchmark's database and server."""
    return {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "TASK_QUEUE": task_queue,
        "ENVIRONMENT": "test",
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "JWT_SECRET": BENCH_SECRET,
        "SEED_DEMO_ORG": "false",
    }


@contextmanager
def service_worker(database_url: str, temporal_address: str, task_queue: str) -> Iterator[Child]:
    """`duban worker` as a child process."""
    env = service_env(database_url, temporal_address, task_queue)
    with child("worker", [sys.executable, "-m", "cli", "worker"], env) as worker:
        yield worker


@contextmanager
def raw_worker(temporal_address: str, task_queue: str) -> Iterator[Child]:
    """The baseline worker (bench/raw.py: a bare workflow and a no-op activity) as a child process."""
    argv = [sys.executable, "-m", "bench.raw", temporal_address, task_queue]
    with child("raw worker", argv, {}) as worker:
        yield worker


@asynccontextmanager
async def service_api(
    database_url: str, temporal_address: str, task_queue: str
) -> AsyncIterator[tuple[Child, str]]:
    """`duban api` (uvicorn) on a free loopback port; yields the child and its base URL."""
    port = free_port()
    env = service_env(database_url, temporal_address, task_queue, port)
    with child("api", [sys.executable, "-m", "cli", "api"], env) as api:
        base = f"http://127.0.0.1:{port}"
        await _wait_http(api, f"{base}/readyz")
        yield api, base


async def _wait_http(process: Child, url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            process.check_alive()
            try:
                await http.get(url, timeout=2)
            except httpx.TransportError:
                await asyncio.sleep(0.1)
            else:
                return
    raise RuntimeError(f"{process.name} did not answer {url} within {READY_SECONDS:.0f} s")


async def wait_for_pollers(client: Client, task_queue: str, worker: Child) -> None:
    """Wait until a worker polls `task_queue`, so no figure times a worker's start-up."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        worker.check_alive()
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            )
        )
        if response.pollers:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"no {worker.name} polled {task_queue} within {READY_SECONDS:.0f} s")


@dataclass(frozen=True)
class Deployment:
    """The service (worker and API children) and the baseline worker, on one database and server."""

    client: Client
    database_url: str
    task_queue: str
    raw_task_queue: str
    worker: Child
    raw_worker: Child
    api: Child
    http: httpx.AsyncClient


@asynccontextmanager
async def deployment(client: Client) -> AsyncIterator[Deployment]:
    """Start everything on a fresh PostgreSQL database and wait until all of it is ready."""
    address = client.service_client.config.target_host
    queue, raw_queue = f"bench-{uuid.uuid4().hex[:8]}", f"bench-raw-{uuid.uuid4().hex[:8]}"
    async with fresh_postgres() as url:
        with service_worker(url, address, queue) as worker, raw_worker(address, raw_queue) as raw:
            async with (
                service_api(url, address, queue) as (api, base),
                httpx.AsyncClient(base_url=base, timeout=60) as http,
            ):
                await wait_for_pollers(client, queue, worker)
                await wait_for_pollers(client, raw_queue, raw)
                yield Deployment(client, url, queue, raw_queue, worker, raw, api, http)

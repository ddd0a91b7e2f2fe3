"""The parts under fire, each a real process that can be killed with SIGKILL and started again.

Everything lives in one temporary directory: the PostgreSQL cluster (initdb'd for this run, as
the `postgres` OS user when we are root, since initdb refuses root), Temporal's SQLite file,
the audit signing key and every process's log. `Cluster` is a context manager: whatever
happens, every process it started is killed and the directory removed on exit.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from api.auth import issue_token
from bench.env import ROOT, free_port
from cli import temporal_dev_server_argv
from settings import Settings

READY_SECONDS = 90.0
STOP_SECONDS = 10.0
POLL_SECONDS = 0.2
CHAOS_SECRET = "duban-chaos-throwaway-secret-0123456789"  # noqa: S105 — tokens for this run only
DATABASE = "duban"


class ClusterError(RuntimeError):
    """A part did not start, or did not come back after a fault: the run cannot be judged."""


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on the loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=POLL_SECONDS):
            return True
    except OSError:
        return False


def postgres_bindir() -> Path:
    """The directory of `initdb` and `postgres`: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    if not candidates:
        raise ClusterError("no PostgreSQL server binaries (initdb) on PATH or under /usr/lib/postgresql")
    return Path(candidates[-1]).parent


@dataclass
class Part:
    """One restartable process: its command, its environment, and the log it appends to."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    run_as: str | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        """Start the process in a session of its own, so a kill reaches it and all its children."""
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts + 1} at {time.strftime('%H:%M:%S')}\n".encode())
            out.flush()
            self.process = subprocess.Popen(  # noqa: S603 — our own binaries and modules
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.run_as,
            )
        self.starts += 1

    def running(self) -> bool:
        """Started and not exited."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group (a PostgreSQL crash takes its backends with it)."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM to the group, then SIGKILL if it has not exited in time."""
        if self.process is None or self.process.poll() is not None:
            self.kill()
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_SECONDS)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            pass
        self.kill()


@dataclass
class Cluster:
    """PostgreSQL, Temporal, two workers and the API on free loopback ports in one temp dir."""

    root: Path
    pg_port: int = field(default_factory=free_port)
    temporal_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    task_queue: str = "chaos-items"
    parts: dict[str, Part] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL of the run's database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.pg_port}/{DATABASE}"

    @property
    def temporal_address(self) -> str:
        """host:port of the dev server."""
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def logs(self) -> Path:
        """Where every process's output goes."""
        return self.root / "logs"

    def service_env(self) -> dict[str, str]:
        """Environment of `duban worker`, `duban api` and the `duban audit` commands of this run."""
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TASK_QUEUE": self.task_queue,
            "DATA_DIR": str(self.root / "data"),
            "AUDIT_SIGNER_FILE": str(self.root / "data" / "audit-signing.key"),
            "ENVIRONMENT": "test",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api_port),
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            "JWT_SECRET": CHAOS_SECRET,
            "SEED_DEMO_ORG": "false",
        }

    def token(self, user_id: str) -> str:
        """A bearer token the run's API accepts for `user_id`."""
        return issue_token(Settings(jwt_secret=CHAOS_SECRET, environment="test"), user_id)

    def duban(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run one `duban` command against this run's database and server."""
        return subprocess.run(  # noqa: S603 — our own CLI
            [sys.executable, "-m", "cli", *args],
            cwd=ROOT,
            env=self.service_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    # -- bring-up ----------------------------------------------------------------------------

    def _define_parts(self, bindir: Path, run_as: str | None) -> None:
        pgdata = self.root / "pg" / "data"
        self.parts["postgres"] = Part(
            "postgres",
            [
                str(bindir / "postgres"),
                "-D",
                str(pgdata),
                "-p",
                str(self.pg_port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",  # TCP only: no socket directory to own or clean
            ],
            dict(os.environ),
            self.logs / "postgres.log",
            run_as,
        )
        # As `duban up` runs it, on the data dir's file (WAL: a SIGKILL loses nothing committed).
        embedded = Settings(
            temporal_address=self.temporal_address, temporal_ui_port=free_port(), data_dir=self.root / "data"
        )
        self.parts["temporal"] = Part(
            "temporal",
            [*temporal_dev_server_argv(embedded), "--headless", "--http-port", str(free_port())],
            dict(os.environ),
            self.logs / "temporal.log",
        )
        service = self.service_env()
        for name in ("worker-1", "worker-2"):
            self.parts[name] = Part(
                name, [sys.executable, "-m", "cli", "worker"], service, self.logs / f"{name}.log"
            )
        self.parts["api"] = Part("api", [sys.executable, "-m", "cli", "api"], service, self.logs / "api.log")

    def init_postgres(self) -> None:
        """initdb a fresh cluster (trust auth) owned by the user the server will run as."""
        bindir = postgres_bindir()
        run_as = "postgres" if os.geteuid() == 0 else None
        pg = self.root / "pg"
        pg.mkdir()
        if run_as is not None:
            owner = pwd.getpwnam(run_as)
            os.chown(pg, owner.pw_uid, owner.pw_gid)
            # The server's user must reach its data directory through the run's directory.
            self.root.chmod(0o711)
        self._define_parts(bindir, run_as)
        initdb = subprocess.run(  # noqa: S603 — the distribution's initdb
            [
                str(bindir / "initdb"),
                "-D",
                str(pg / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
            user=run_as,
            capture_output=True,
            text=True,
            check=False,
        )
        if initdb.returncode != 0:
            raise ClusterError(f"initdb failed: {initdb.stderr.strip()[-2000:]}")

    async def start_all(self) -> None:
        """PostgreSQL, database, Temporal, schema, demo org, signing key, workers, API; all ready."""
        await self.restart("postgres")
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres", timeout=5)
        try:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await admin.close()
        await self.restart("temporal")
        for args in (("migrate",), ("org", "demo"), ("audit", "keygen")):
            done = self.duban(*args)
            if done.returncode != 0:
                raise ClusterError(f"duban {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        for name in ("worker-1", "worker-2", "api"):
            await self.restart(name)

    # -- faults ------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL the part (and its process group)."""
        self.parts[name].kill()

    async def restart(self, name: str) -> float:
        """Start the part and wait until it serves; returns the seconds that took."""
        part = self.parts[name]
        started = time.monotonic()
        part.start()
        await self._ready(part)
        return time.monotonic() - started

    async def _ready(self, part: Part) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if not part.running():
                raise ClusterError(
                    f"{part.name} exited while starting; see {part.log.name}:\n{tail(part.log)}"
                )
            if await self._serves(part.name):
                return
            await asyncio.sleep(POLL_SECONDS)
        raise ClusterError(f"{part.name} not ready after {READY_SECONDS:.0f} s:\n{tail(part.log)}")

    async def _serves(self, name: str) -> bool:
        if name == "postgres":
            try:
                connection = await asyncpg.connect(
                    f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres", timeout=2
                )
            except (OSError, asyncpg.PostgresError):
                return False
            await connection.close()
            return True
        if name == "temporal":
            return await self._temporal_client() is not None
        if name == "api":
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(f"{self.base_url}/readyz", timeout=2)).status_code == 200
            except httpx.TransportError:
                return False
        return await self._polling(self.parts[name])

    async def _temporal_client(self) -> Client | None:
        if not port_open(self.temporal_port):
            return None
        try:
            return await Client.connect(self.temporal_address)
        except RuntimeError:
            return None

    async def _polling(self, worker: Part) -> bool:
        """A worker is ready once the server lists it (identity `pid@host`) among the queue's pollers."""
        client = await self._temporal_client()
        if client is None or worker.process is None:
            return False
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=self.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return any(p.identity.startswith(f"{worker.process.pid}@") for p in response.pollers)

    def exited(self) -> list[str]:
        """Parts that have died without being killed by the fault schedule."""
        return [name for name, part in self.parts.items() if part.process is not None and not part.running()]

    def stop_all(self) -> None:
        """Stop every part: the API and workers first, the servers they depend on last."""
        for name in ("api", "worker-1", "worker-2", "temporal", "postgres"):
            if name in self.parts:
                self.parts[name].stop()


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file (empty if it does not exist)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def cluster(keep_logs: Path | None = None) -> Iterator[Cluster]:
    """A cluster in a new temporary directory; every process stopped and the directory removed on exit.

    With `keep_logs`, the processes' logs are copied there first (they explain a wedged item).
    """
    root = Path(tempfile.mkdtemp(prefix="duban-chaos-"))
    made = Cluster(root)
    made.logs.mkdir()
    (root / "data").mkdir()
    try:
        made.init_postgres()
        yield made
    finally:
        made.stop_all()
        if keep_logs is not None:
            shutil.copytree(made.logs, keep_logs, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)

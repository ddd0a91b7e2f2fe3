"""`duban up` as a user runs it: real processes, real ports; a restart keeps every item."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from store.passwords import DEMO_PASSWORD
from tests.builders import open_body

pytestmark = pytest.mark.e2e

START_SECONDS = 90
GONE_SECONDS = 5  # how soon the children of a stopped `duban up` must be gone, their ports free


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def up_environment(data_dir: Path) -> dict[str, str]:
    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "TEMPORAL_EMBEDDED": "true",
        "TEMPORAL_UI_PORT": str(ui_port),
        "API_PORT": str(api_port),
        "LOG_FORMAT": "json",
    }


def duban(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 — our own CLI
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


class Running:
    """One `duban up` process and the base URL of its API."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.base = f"http://127.0.0.1:{env['API_PORT']}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"duban up exited early:\n{self.output()}"
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        pytest.fail(f"duban up did not become healthy in {START_SECONDS}s")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def output(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        return self.process.stdout.read() if self.process.stdout else ""


@pytest.fixture
def up_env(tmp_path: Path) -> dict[str, str]:
    return up_environment(tmp_path / "data")


def port_closed(port: str) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", int(port))) != 0


def test_items_survive_a_restart_of_everything(up_env: dict[str, str]) -> None:
    first = Running(up_env)
    try:
        first.wait_healthy()
        token = duban("token", "sup-zhang", env=up_env).stdout.strip()
        unit_token = duban("token", "fgw-li", env=up_env).stdout.strip()
        supervisor = {"Authorization": f"Bearer {token}"}
        opened = httpx.post(
            f"{first.base}/api/items",
            headers=supervisor,
            timeout=30,
            json=open_body(deadline="2027-06-30"),
        )
        assert opened.status_code == 201, opened.text
        item = opened.json()
        listed = httpx.get(f"{first.base}/api/items", headers=supervisor, timeout=10).json()
        assert [i["id"] for i in listed["items"]] == [item["id"]]
        with httpx.Client(base_url=first.base, timeout=10) as visitor:
            form = visitor.get("/login").text
            found = re.search(r'name="csrf" value="([^"]+)"', form)
            assert found is not None
            signed_in = visitor.post(
                "/login", data={"user_id": "sup-zhang", "password": DEMO_PASSWORD, "csrf": found.group(1)}
            )
            assert signed_in.status_code == 303, signed_in.text
            assert visitor.get("/workbench").status_code == 200
    finally:
        assert first.stop() == 0, first.output()
    assert DEMO_PASSWORD in first.output(), "duban up did not print the demo password"
    assert port_closed(up_env["API_PORT"]), "the API outlived `duban up`"
    assert port_closed(up_env["TEMPORAL_ADDRESS"].rsplit(":", 1)[1]), "Temporal outlived `duban up`"

    second = Running(up_env)
    try:
        second.wait_healthy()
        again = httpx.get(f"{second.base}/api/items/{item['id']}", headers=supervisor, timeout=10)
        assert again.status_code == 200
        assert again.json()["number"] == item["number"]
        signed = httpx.post(
            f"{second.base}/api/items/{item['id']}/actions/sign_for",
            timeout=30,
            headers={"Authorization": f"Bearer {unit_token}"},
            json={},
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["assignments"]["fgw"]["status"] == "signed"
    finally:
        assert second.stop() == 0, second.output()


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie left to an init that does not reap counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ports_of(env: dict[str, str]) -> list[str]:
    """The API's, Temporal's frontend and Temporal UI's ports of one `duban up`."""
    return [env["API_PORT"], env["TEMPORAL_ADDRESS"].rsplit(":", 1)[1], env["TEMPORAL_UI_PORT"]]


def wait_gone(children: list[int], ports: list[str], seconds: float) -> float:
    """Seconds until every child exited and every port is closed; fails after `seconds`."""
    started = time.monotonic()
    while any(alive(pid) for pid in children) or not all(port_closed(port) for port in ports):
        if time.monotonic() - started > seconds:
            left = [pid for pid in children if alive(pid)]
            pytest.fail(f"after {seconds}s: children {left} alive, open ports {ports}")
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_killed_duban_up_takes_its_children_with_it(up_env: dict[str, str]) -> None:
    up = Running(up_env)
    try:
        up.wait_healthy()
        children = children_of(up.process.pid)
        assert len(children) == 3, children  # Temporal, worker, API

        up.process.kill()  # SIGKILL: `up` runs no clean-up of its own
        up.process.wait(timeout=10)

        wait_gone(children, ports_of(up_env), GONE_SECONDS)
    finally:
        up.stop()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_stops_every_child_cleanly(up_env: dict[str, str], signum: signal.Signals) -> None:
    up = Running(up_env)
    try:
        up.wait_healthy()
        children = children_of(up.process.pid)
        assert len(children) == 3, children

        up.process.send_signal(signum)

        assert up.process.wait(timeout=60) == 0
        output = up.output()
        assert "正在停止 / stopping" in output
        assert "worker stopping" in output  # the worker drained instead of being killed
        assert "强制结束" not in output
        assert "Traceback" not in output
        # The embedded Temporal server's text lines have a file of their own, out of the JSON stream.
        assert "level=" not in output
        assert (Path(up_env["DATA_DIR"]) / "temporal.log").is_file()
        wait_gone(children, ports_of(up_env), GONE_SECONDS)
    finally:
        up.stop()

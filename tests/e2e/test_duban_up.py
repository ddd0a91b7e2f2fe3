"""`duban up` as a user runs it: real processes, real ports; a restart keeps every item."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

START_SECONDS = 90


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
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
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
            json={
                "title": "推进老旧小区改造",
                "requirements": "年内完成 30 个小区改造",
                "source": "meeting_decision",
                "category": "major_project",
                "priority": "high",
                "lead_unit": "fgw",
                "co_units": ["czj"],
                "leader": "leader-wang",
                "deadline": "2027-06-30",
            },
        )
        assert opened.status_code == 201, opened.text
        item = opened.json()
        listed = httpx.get(f"{first.base}/api/items", headers=supervisor, timeout=10).json()
        assert [i["id"] for i in listed["items"]] == [item["id"]]
    finally:
        assert first.stop() == 0, first.output()
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

"""Real parts for the notification tests: an SMTP server, a robot receiver, a robot secrets file."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.notify import ChannelSettings, NotifyActivities
from bootstrap import notify_activities
from store.demo_org import DEMO_ORG
from store.org import OrgChart, OrgDirectory
from store.unit_secrets import UnitRobots, load_unit_secrets, write_unit_secrets
from tests.fixtures.temporal import TEST_SERVER

DING_SECRET = "SECtest-signing-secret"
SENDER = "duban@dcs.example"


@dataclass
class Mailbox:
    """What the test's SMTP server received."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """aiosmtpd's hook: keep the message."""
        content = envelope.original_content or b""
        message = message_from_bytes(content, _class=EmailMessage, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in its own thread); yields its mailbox and port."""
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Received:
    """One POST the robot receiver got."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]


# Path → (status, answer): robots answer like DingTalk / WeCom do; /down and /refuse are broken robots.
ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "/dingtalk": (200, {"errcode": 0, "errmsg": "ok"}),
    "/wecom": (200, {"errcode": 0, "errmsg": "ok"}),
    "/down": (503, {"errcode": -1, "errmsg": "busy"}),
    "/refuse": (200, {"errcode": 310000, "errmsg": "sign not match"}),
}


@dataclass
class RobotReceiver:
    """A real HTTP server on 127.0.0.1 that records robot messages."""

    base: str
    received: list[Received]

    def url(self, path: str, query: str = "") -> str:
        """The full URL of one of the receiver's robots."""
        return f"{self.base}{path}{'?' + query if query else ''}"

    def at(self, path: str) -> list[Received]:
        """The messages posted to `path`."""
        return [message for message in self.received if message.path == path]


@pytest.fixture
def robot_receiver() -> Iterator[RobotReceiver]:
    """Start the receiver in a thread on a free port; stop it after the test."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            received.append(Received(url.path, query, body))
            status, answer = ANSWERS.get(url.path, (404, {"errcode": 404, "errmsg": "no robot"}))
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RobotReceiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def robots_of(
    receiver: RobotReceiver, *, ding: str = "/dingtalk", wecom: str = "/wecom"
) -> dict[str, UnitRobots]:
    """fgw's DingTalk robot (signed) and czj's WeCom robot, posting to the receiver."""
    return {
        "fgw": UnitRobots.model_validate(
            {"dingtalk_webhook": receiver.url(ding, "access_token=fgw-token"), "dingtalk_secret": DING_SECRET}
        ),
        "czj": UnitRobots.model_validate({"wecom_webhook": receiver.url(wecom, "key=czj-key")}),
    }


def channels(smtp_port: int = 0, *, webhooks: bool = True) -> ChannelSettings:
    """Channel settings with email on (when a port is given) and the robots switched as asked."""
    return ChannelSettings(
        smtp_host="127.0.0.1" if smtp_port else "",
        smtp_port=smtp_port,
        smtp_sender=SENDER,
        webhooks_enabled=webhooks,
        webhook_timeout_seconds=5.0,
    )


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def notify_time_server() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of these tests' own.

    Awaiting a workflow's result lets the server's clock run 20 years ahead (measured: the shared
    server's item tests, whose deadlines count from the real now, then fail), so it stays apart.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client the notify activities post robot messages with."""
    async with httpx.AsyncClient() as client:
        yield client


@dataclass
class NotifyHarness:
    """The notify activities on a database holding the demo org, with a secrets file of robots."""

    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    receiver: RobotReceiver
    secrets_file: Path

    async def load(self, chart: OrgChart) -> None:
        """Load an org chart."""
        await OrgDirectory(self.sessions).load(chart)

    def use_robots(self, *, ding: str = "/dingtalk", wecom: str = "/wecom") -> None:
        """Write the secrets file with the receiver's robots at these paths."""
        write_unit_secrets(self.secrets_file, robots_of(self.receiver, ding=ding, wecom=wecom))

    def activities(self, settings: ChannelSettings) -> NotifyActivities:
        """NotifyActivities with these channel settings and, when robots are on, the secrets file's robots."""
        if settings.webhooks_enabled:
            settings = settings.model_copy(update={"robots": load_unit_secrets(self.secrets_file)})
        return notify_activities(self.sessions, settings, self.http)


@pytest.fixture
async def notify(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    robot_receiver: RobotReceiver,
    tmp_path: Path,
) -> NotifyHarness:
    """The harness, with the demo org loaded and the receiver's robots in the secrets file."""
    harness = NotifyHarness(sessions, http, robot_receiver, tmp_path / "unit-secrets.toml")
    await harness.load(DEMO_ORG)
    harness.use_robots()
    return harness

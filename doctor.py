"""`duban doctor`: is this installation able to run? One line per check, never a traceback.

It reads settings, reaches the database and Temporal, opens the signing keys and, when they are
configured, the SMTP server and the robots' secrets file; it changes nothing (no key is
created, no migration run, no message sent). Exit code 1 when any check fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import aiosmtplib
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from activities.notify.channels import ChannelSettings
from adapters.workdays import COVERED_YEARS, PACKAGE, PACKAGE_VERSION, uncovered_years
from audit.keys import KeyUnavailable, load_signer
from bootstrap import connect_temporal
from domain.instants import CHINA
from settings import Settings
from store.db import make_engine
from store.migrate import alembic_config
from store.unit_secrets import SecretsUnavailable

CHECK_SECONDS = 5.0
# An HMAC key shorter than this is guessable offline from one signed request.
MIN_ACTION_KEY_BYTES = 32


@dataclass(frozen=True)
class Finding:
    """One check's outcome: its name, whether it passed, and what it saw (one line)."""

    name: str
    ok: bool
    detail: str
    warning: bool = False  # passes, but an operator should act soon

    def line(self) -> str:
        """`✓ name  detail`, `! name  detail` (a warning) or `✗ name  detail`."""
        mark = "✗" if not self.ok else "!" if self.warning else "✓"
        return f"{mark} {self.name:<10} {self.detail}"


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_settings(settings: Settings) -> Finding:
    """They parsed (else `duban` stops earlier, naming the bad one); what this process would do."""
    tracing = settings.otel_exporter_otlp_endpoint or "off"
    metrics = settings.worker_metrics_address or "off"
    return Finding(
        "settings",
        True,
        f"environment={settings.environment} data_dir={settings.data_dir.resolve()}"
        f" worker_metrics={metrics} tracing={tracing}",
    )


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    return not Path(parsed.database).exists()


async def check_database(settings: Settings) -> Finding:
    """Reachable, and migrated to the newest schema this code knows."""
    url = settings.resolved_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if _missing_sqlite_file(url):
        # Connecting would create an empty file: the doctor looks, it does not touch.
        return Finding(
            "database", False, f"数据库文件不存在，请运行 duban migrate / no database file yet ({shown})"
        )
    engine = make_engine(url)

    def revision(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    try:
        async with asyncio.timeout(CHECK_SECONDS), engine.connect() as connection:
            current = await connection.run_sync(revision)
    except Exception as error:
        return Finding("database", False, f"不可用 / unreachable ({shown}): {_first_line(error)}")
    finally:
        await engine.dispose()
    if current != head:
        return Finding(
            "database",
            False,
            f"结构为 {current or '空 / empty'}，应为 {head}，请运行 duban migrate"
            f" / schema at {current or 'nothing'}, code needs {head}: run `duban migrate` ({shown})",
        )
    return Finding("database", True, f"reachable, migrated to {head} ({shown})")


async def check_temporal(settings: Settings) -> Finding:
    """The frontend answers its health check and knows the namespace."""
    where = f"{settings.temporal_address} namespace={settings.temporal_namespace}"
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            client = await connect_temporal(settings)
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=settings.temporal_namespace),
                timeout=timedelta(seconds=CHECK_SECONDS),
            )
    except TimeoutError:
        return Finding("temporal", False, f"{CHECK_SECONDS:.0f} 秒内无应答 / no answer in time ({where})")
    except Exception as error:
        return Finding("temporal", False, f"不可用 / unreachable ({where}): {_first_line(error)}")
    return Finding("temporal", True, f"reachable ({where})")


def check_calendar(today: date, covered: range = COVERED_YEARS) -> Finding:
    """Which years the holiday calendar knows; a warning when deadlines may fall in one it does not."""
    known = f"{PACKAGE} {PACKAGE_VERSION}: {covered.start}–{covered.stop - 1}"
    missing = uncovered_years(today, covered)
    if not missing:
        return Finding("calendar", True, known)
    years = "、".join(str(year) for year in missing)
    return Finding(
        "calendar",
        True,
        f"{known}; {years} 年节假日安排未收录，期限按周一至周五计算 / {years} not covered, deadlines "
        f"there count Monday to Friday (recorded as such) until {PACKAGE} is upgraded to cover it",
        warning=True,
    )


def check_action_key(settings: Settings) -> Finding:
    """ACTION_SIGNING_KEY is set and long enough (production), or where the embedded one lives."""
    if settings.action_signing_key is not None:
        size = len(settings.action_signing_key.get_secret_value().encode())
        if size < MIN_ACTION_KEY_BYTES:
            return Finding(
                "action key",
                False,
                f"ACTION_SIGNING_KEY 过短 / too short: {size} bytes, use ≥ {MIN_ACTION_KEY_BYTES}",
            )
        return Finding("action key", True, f"ACTION_SIGNING_KEY set ({size} bytes)")
    if settings.environment == "test":
        return Finding("action key", True, "the tests' fixed key (ENVIRONMENT=test)")
    path = settings.data_dir / "action-signing.key"
    state = "present" if path.exists() else "created by the first worker or API to start"
    return Finding("action key", True, f"embedded key {path.resolve()} ({state})")


def check_audit_signer(settings: Settings) -> Finding:
    """The checkpoint signing key can be read (embedded: it may still be created by the worker)."""
    path = settings.resolved_audit_signer_file
    if not path.exists() and settings.environment != "production":
        return Finding("audit key", True, f"{path.resolve()} created by the first worker to start")
    try:
        signer = load_signer(settings)
    except KeyUnavailable as error:
        return Finding("audit key", False, str(error))
    return Finding("audit key", True, f"{path} (key id {signer.key_id})")


async def check_smtp(settings: Settings) -> Finding | None:
    """The SMTP server greets us (and STARTTLS works, when asked for); nothing is sent."""
    if not settings.smtp_host:
        return None
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        start_tls=settings.smtp_starttls,
        timeout=CHECK_SECONDS,
    )
    try:
        await smtp.connect()
        await smtp.quit()
    except Exception as error:
        return Finding("smtp", False, f"不可用 / unreachable ({where}): {_first_line(error)}")
    return Finding("smtp", True, f"answers ({where}{', STARTTLS' if settings.smtp_starttls else ''})")


def check_robots(settings: Settings) -> Finding | None:
    """With robots on: the secrets file exists, is private and parses; nothing is posted."""
    if not settings.webhooks_enabled:
        return None
    try:
        channels = ChannelSettings.from_settings(settings)
    except SecretsUnavailable as error:
        return Finding("robots", False, str(error))
    return Finding(
        "robots", True, f"{len(channels.robots)} 个单位 / units in {settings.resolved_unit_secrets_file}"
    )


async def run_checks(settings: Settings) -> list[Finding]:
    """Every applicable check, the slow network ones at the same time."""
    network: list[Awaitable[Finding | None]] = [
        check_database(settings),
        check_temporal(settings),
        check_smtp(settings),
    ]
    local: list[Callable[[Settings], Finding | None]] = [check_action_key, check_audit_signer, check_robots]
    found = [
        check_settings(settings),
        *await asyncio.gather(*network),
        *(check(settings) for check in local),
        check_calendar(datetime.now(CHINA).date()),
    ]
    return [finding for finding in found if finding is not None]

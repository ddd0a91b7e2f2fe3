"""`duban doctor` against real dependencies: a migrated database and the dev server, then broken ones."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from temporalio.client import Client

import cli
from adapters.workdays import uncovered_years
from doctor import check_calendar
from tests.api.conftest import free_port
from tests.fixtures.databases import migrated_sqlite_url, sqlite_url


def _doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    """Run `duban doctor`; its exit code and each check's line by name. Never a traceback."""
    code = cli.main(["doctor"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = {line[2:12].strip(): line for line in out.splitlines()}  # "✓ name      detail"
    return code, lines


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded installation in `tmp_path` (no `.env` there), its data directory returned."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data))
    for name in ("DATABASE_URL", "ENVIRONMENT", "SMTP_HOST", "WEBHOOKS_ENABLED", "ACTION_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    return data


def test_a_healthy_installation_passes_every_check(
    environment: Path,
    temporal_client: Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", asyncio.run(migrated_sqlite_url(environment.parent)))
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_client.service_client.config.target_host)
    code, lines = _doctor(capsys)
    assert code == 0, lines
    assert set(lines) == {"settings", "database", "temporal", "action key", "audit key", "calendar"}
    # The calendar passes with a warning when the package lacks a year deadlines may fall in.
    assert all(line.startswith("✓") for name, line in lines.items() if name != "calendar")
    assert lines["calendar"][0] in "✓!"
    assert "chinesecalendar" in lines["calendar"]
    assert "migrated to" in lines["database"]
    assert not (environment / "audit-signing.key").exists(), "the doctor looks, it creates nothing"


def test_each_broken_dependency_is_one_line_naming_it(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = environment.parent / "secrets"
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/duban")
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", "a-real-secret")
    monkeypatch.setenv("ACTION_SIGNING_KEY", "short")
    monkeypatch.setenv("AUDIT_SIGNER_FILE", str(secrets / "audit-signing.key"))
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))
    monkeypatch.setenv("WEBHOOKS_ENABLED", "true")
    monkeypatch.setenv("UNIT_SECRETS_FILE", str(secrets / "unit-secrets.toml"))
    code, lines = _doctor(capsys)
    assert code == 1
    assert set(lines) == {
        "settings",
        "database",
        "temporal",
        "action key",
        "audit key",
        "smtp",
        "robots",
        "calendar",
    }
    assert lines["settings"].startswith("✓")
    for name in ("database", "temporal", "action key", "audit key", "smtp", "robots"):
        assert lines[name].startswith("✗"), lines[name]
    assert "unreachable" in lines["database"]
    assert "too short" in lines["action key"]
    assert "duban audit keygen" in lines["audit key"]


def test_an_unmigrated_database_says_to_migrate(
    environment: Path,
    temporal_client: Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(environment.parent))
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_client.service_client.config.target_host)
    code, lines = _doctor(capsys)
    assert code == 1
    assert lines["database"].startswith("✗")
    assert "duban migrate" in lines["database"]
    assert lines["temporal"].startswith("✓")


@pytest.mark.parametrize(
    ("today", "mark", "missing"),
    [
        (date(2026, 6, 1), "✓", ""),  # mid-year: deadlines stay in a covered year
        (date(2026, 12, 3), "!", "2027"),  # from October, items opened now run into next year
        (date(2031, 3, 1), "!", "2031"),
    ],
)
def test_the_calendar_check_warns_before_deadlines_reach_a_year_without_holidays(
    today: date, mark: str, missing: str
) -> None:
    covered = range(2004, 2027)
    assert uncovered_years(today, covered) == ([int(missing)] if missing else [])
    finding = check_calendar(today, covered)
    assert finding.ok, "a missing year is a warning, never a failed installation"
    assert finding.line().startswith(mark)
    assert "2004–2026" in finding.detail
    if missing:
        assert f"{missing} 年节假日安排未收录" in finding.detail

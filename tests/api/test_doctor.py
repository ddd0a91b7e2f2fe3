"""`duban doctor` against real dependencies: a migrated database and the dev server, then broken ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client

import cli
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
    assert set(lines) == {"settings", "database", "temporal", "action key", "audit key"}
    assert all(line.startswith("✓") for line in lines.values())
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
    assert set(lines) == {"settings", "database", "temporal", "action key", "audit key", "smtp", "robots"}
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

"""`duban` admin commands, in-process against a temporary SQLite database."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import cli
import logs
from api.auth import user_id_from
from settings import Settings
from store.db import make_engine, make_sessions
from store.passwords import DEMO_PASSWORD, PasswordStore
from store.unit_secrets import UnitRobots, write_unit_secrets
from tests.fixtures.databases import sqlite_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL of a not-yet-migrated SQLite file; the working directory has no `.env`."""
    url = sqlite_url(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1
    return err


def test_users_before_migrating_says_what_to_do(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["users"]) == 1
    assert "duban migrate" in _one_line_error(capsys)


def test_migrate_load_the_demo_org_then_list_users_and_issue_a_token(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    assert cli.main(["org", "demo"]) == 0
    capsys.readouterr()

    assert cli.main(["users", "--json"]) == 0
    users = json.loads(capsys.readouterr().out)
    assert {
        "id": "sup-zhang",
        "name": "张明",
        "role": "supervisor",
        "unit": "dcs",
        "title": "督查室主任",
    } in users
    assert all(set(user) == {"id", "name", "role", "unit", "title"} for user in users)

    assert cli.main(["users"]) == 0
    table = capsys.readouterr().out
    assert "sup-zhang" in table
    assert "fgw-li" in table

    assert cli.main(["token", "sup-zhang"]) == 0
    token = capsys.readouterr().out.strip()
    assert user_id_from(Settings(_env_file=None), token) == "sup-zhang"


def test_passwd_sets_an_argon2_password_and_production_refuses_the_demo_one(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["migrate"]) == 0
    assert cli.main(["org", "demo"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-secret\n"))
    assert cli.main(["passwd", "fgw-li", "--stdin"]) == 0

    async def check(password: str) -> bool:
        engine = make_engine(database)
        try:
            return await PasswordStore(make_sessions(engine)).check("fgw-li", password)
        finally:
            await engine.dispose()

    assert asyncio.run(check("a-long-secret"))
    assert not asyncio.run(check("a-long-secreT"))
    capsys.readouterr()

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["passwd", "fgw-li", "--stdin"]) == 2
    assert "8" in _one_line_error(capsys)

    for name, value in {
        "ENVIRONMENT": "production",
        "JWT_SECRET": "a-production-secret",
        "ACTION_SIGNING_KEY": "a-production-action-key",
        "AUDIT_SIGNER_FILE": str(Path(database.split("///")[1]).parent / "signer.key"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_PASSWORD + "\n"))
    assert cli.main(["passwd", "fgw-li", "--stdin"]) == 2
    assert "demo password" in _one_line_error(capsys)
    assert asyncio.run(check("a-long-secret"))


def test_token_for_an_unknown_user_is_one_line_and_exit_2(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    assert cli.main(["token", "nobody"]) == 2
    assert "nobody" in _one_line_error(capsys)


def test_org_load_reads_a_chart_and_refuses_a_broken_file(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    chart = {
        "units": [{"id": "u1", "name": "测试单位", "type": "党政机关"}],
        "users": [{"id": "u1-a", "name": "甲", "role": "unit", "unit": "u1"}],
    }
    (tmp_path / "org.json").write_text(json.dumps(chart, ensure_ascii=False), encoding="utf-8")
    assert cli.main(["org", "load", "org.json"]) == 0
    capsys.readouterr()
    assert cli.main(["users", "--json"]) == 0
    assert [u["id"] for u in json.loads(capsys.readouterr().out)] == ["u1-a"]

    (tmp_path / "broken.json").write_text('{"units": []}', encoding="utf-8")
    assert cli.main(["org", "load", "broken.json"]) == 2
    assert "users" in _one_line_error(capsys)
    assert cli.main(["org", "load", "missing.json"]) == 2
    _one_line_error(capsys)


def test_org_load_refuses_robot_secrets_in_the_chart_without_echoing_them(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    unit = {
        "id": "u1",
        "name": "测试单位",
        "type": "党政机关",
        "wecom_webhook": "https://x/send?key=k-secret",
    }
    (tmp_path / "org.json").write_text(json.dumps({"units": [unit], "users": []}), encoding="utf-8")
    capsys.readouterr()

    assert cli.main(["org", "load", "org.json"]) == 2

    error = _one_line_error(capsys)
    assert "UNIT_SECRETS_FILE" in error
    assert "k-secret" not in error


def test_the_worker_refuses_a_robot_secrets_file_others_may_read_in_one_line(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "unit-secrets.toml"
    write_unit_secrets(
        path, {"fgw": UnitRobots.model_validate({"wecom_webhook": "https://x/send?key=k-secret"})}
    )
    path.chmod(0o644)
    monkeypatch.setenv("WEBHOOKS_ENABLED", "true")
    monkeypatch.setenv("UNIT_SECRETS_FILE", str(path))
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # refused before it is dialled
    monkeypatch.setattr(logs, "configure_logging", lambda settings: None)  # keep pytest's log capture

    assert cli.main(["worker"]) == 2

    error = _one_line_error(capsys)
    assert "chmod 600" in error
    assert "k-secret" not in error


def test_the_worker_names_a_metrics_address_it_cannot_serve_in_one_line(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        monkeypatch.setenv("WORKER_METRICS_ADDRESS", address)
        monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # refused before it is dialled
        monkeypatch.setattr(logs, "configure_logging", lambda settings: None)  # keep pytest's log capture

        assert cli.main(["worker"]) == 2

    error = _one_line_error(capsys)
    assert f"WORKER_METRICS_ADDRESS={address}" in error
    assert "in use" in error


def test_bad_arguments_and_an_unreachable_database_are_one_line(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["frobnicate"]) == 2
    assert "frobnicate" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/none")
    assert cli.main(["users"]) == 1
    assert "数据库不可用" in _one_line_error(capsys)


STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)"
)


def test_a_second_stop_signal_kills_children_that_ignore_sigterm_without_a_traceback() -> None:
    children = []
    for name in ("temporal", "api"):
        process = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE)  # noqa: S603
        assert process.stdout is not None
        process.stdout.readline()  # SIGTERM is ignored from here on
        children.append(cli.Child(name, process))
    saved = {signum: signal.getsignal(signum) for signum in cli.STOP_SIGNALS}
    signal.signal(signal.SIGINT, cli._interrupt)
    # The second Ctrl-C, while `up` waits out the first child's grace period.
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        cli._stop_all(children)
    except KeyboardInterrupt:
        pytest.fail("the second signal escaped _stop_all (a traceback, children left running)")
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        for child in children:
            child.kill()

    assert time.monotonic() - started < cli.STOP_SECONDS / 3
    assert [child.process.returncode for child in children] == [-signal.SIGKILL] * 2


HEAVY = {"fastapi", "starlette", "uvicorn", "temporalio", "sqlalchemy", "httpx", "api", "store", "workflows"}
LOADED = f"sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(HEAVY)!r}))"


def test_importing_the_cli_loads_neither_the_web_stack_nor_temporal_nor_the_database() -> None:
    probe = (
        f"import sys, cli\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(HEAVY)!r})))"
    )
    result = subprocess.run(  # noqa: S603 — our own interpreter
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# What only the API, a traced process or a rhythm's documents need (bench/RESULTS.md, figure 6).
NOT_IN_WORKER = {"fastapi", "starlette", "jinja2", "docx", "openpyxl", "api", "pages"}


def test_the_worker_loads_neither_the_web_stack_nor_the_document_libraries() -> None:
    probe = (
        "import sys, worker\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(NOT_IN_WORKER)!r})))"
    )
    result = subprocess.run(  # noqa: S603 — our own interpreter
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_duban_help_lists_the_commands_without_loading_them() -> None:
    probe = (
        "import sys, cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit as done:\n    code = done.code\n"
        f"print('loaded', {LOADED}, 'exit', code)"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "usage: duban" in result.stdout
    for command in ("up", "worker", "api", "migrate", "doctor", "users", "token", "passwd", "org", "audit"):
        assert f"    {command} " in result.stdout or f"    {command}\n" in result.stdout, command
    assert result.stdout.strip().endswith("loaded [] exit 0")

    installed = Path(sys.executable).parent / "duban"  # the console script itself
    assert subprocess.run([installed, "audit", "--help"], capture_output=True, text=True, check=True).stdout  # noqa: S603


def test_worker_py_is_the_worker_process_door() -> None:
    """`python worker.py` is `duban worker` (bootstrap builds it); a stray argument is one line, exit 2."""
    helped = subprocess.run(
        [sys.executable, "worker.py", "--help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert helped.stdout.startswith("usage: duban worker")
    wrong = subprocess.run(
        [sys.executable, "worker.py", "--no-such-flag"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert wrong.returncode == 2
    assert "Traceback" not in wrong.stderr
    assert "--no-such-flag" in wrong.stderr

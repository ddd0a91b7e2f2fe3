"""`duban import items FILE.xlsx`: in-process against a migrated SQLite file, opening real items
through a real worker on the dev server — the same import as the API's, from a terminal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

import cli
from api.import_book import template_workbook
from domain.instants import CHINA
from domain.people import Role
from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.items import ItemFilter, ItemQueries
from store.org import OrgDirectory
from tests.api.import_books import fill_template
from tests.fixtures.databases import migrated_sqlite_url
from tests.fixtures.temporal import run_item_worker
from workflows.messages import workflow_id_for

AHEAD = (datetime.now(CHINA) + timedelta(days=150)).date().isoformat()


def workbook(path: Path, rows: list[dict[str, Any]]) -> Path:
    """The template (with the demo org's choices) holding `rows`, written to `path`."""
    units = [unit for unit in DEMO_ORG.units if unit.kind == "unit"]
    leaders = [user for user in DEMO_ORG.users if user.role is Role.LEADER]
    path.write_bytes(fill_template(template_workbook(units, leaders), rows))
    return path


def row(title: str, **cells: str) -> dict[str, str]:
    """A valid row unless `cells` says otherwise."""
    values = {
        "标题": title,
        "工作要求": "年内完成",
        "类别": "其他",
        "来源": "领导批示",
        "牵头单位": "zgh",
        "责任领导": "leader-wang",
        "办理时限": AHEAD,
    }
    values.update(cells)
    return values


@pytest.fixture
async def served_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temporal_client: Client
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite file with the demo org, a worker on a fresh queue, and the CLI's settings
    pointing at both (no `.env`)."""
    url = await migrated_sqlite_url(tmp_path)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    await OrgDirectory(sessions).load(DEMO_ORG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_client.service_client.config.target_host)
    monkeypatch.delenv("ACTION_SIGNING_KEY", raising=False)
    try:
        async with run_item_worker(temporal_client, sessions) as queue:
            monkeypatch.setenv("TASK_QUEUE", queue)
            yield sessions
    finally:
        await engine.dispose()


async def duban(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `duban argv…` in a thread (it runs its own event loop); exit code, stdout, stderr."""
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


async def titles(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every item's title, from the read model."""
    page = await ItemQueries(sessions).list(ItemFilter(limit=200), now=datetime.now(CHINA))
    return sorted(state.title for state in page.states)


async def test_import_items_validates_previews_opens_and_never_opens_twice(
    served_store: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    temporal_client: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = workbook(tmp_path / "bad.xlsx", [row("职工服务"), row("日期写错", 办理时限="2027.6.30")])
    code, out, _ = await duban(capsys, "import", "items", str(bad), "--as", "sup-zhang")
    assert code == 1
    assert "第 3 行「办理时限」：日期格式应为 YYYY-MM-DD" in out.splitlines()
    assert "未立项任何事项" in out
    assert await titles(served_store) == []

    good = workbook(
        tmp_path / "good.xlsx", [row("工会事项"), row("电力保障", 牵头单位="国网甘肃省电力公司市供电公司")]
    )
    code, out, _ = await duban(capsys, "import", "items", str(good), "--dry-run", "--as", "sup-zhang")
    assert code == 0
    assert "预览：共 2 行，2 行可立项" in out
    assert await titles(served_store) == []

    code, out, _ = await duban(capsys, "import", "items", str(good), "--as", "sup-zhang")
    assert code == 0, out
    assert "新立项 2 项" in out
    assert await titles(served_store) == ["工会事项", "电力保障"]
    page = await ItemQueries(served_store).list(ItemFilter(limit=10), now=datetime.now(CHINA))
    for state in page.states:
        assert state.supervisor == "sup-zhang"
        described = await temporal_client.get_workflow_handle(workflow_id_for(state.id)).describe()
        assert described.status is WorkflowExecutionStatus.RUNNING

    code, out, _ = await duban(capsys, "import", "items", str(good), "--as", "sup-zhang")
    assert code == 0
    assert "2 行此前已立项" in out
    assert await titles(served_store) == ["工会事项", "电力保障"]

    code, out, _ = await duban(capsys, "import", "items", str(bad), "--only-valid", "--as", "sup-zhang")
    assert code == 0
    assert "第 2 行  已立项  职工服务" in out
    assert "第 3 行  有误  日期写错" in out
    assert "新立项 1 项，1 行有误未导入" in out
    assert await titles(served_store) == ["工会事项", "电力保障", "职工服务"]


async def test_import_items_refuses_bad_files_and_callers_in_one_line(
    served_store: async_sessionmaker[AsyncSession], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "list.xlsx"
    await asyncio.to_thread(text.write_bytes, b"not a workbook")
    code, _, err = await duban(capsys, "import", "items", str(text), "--as", "sup-zhang")
    assert code == 2
    assert "不是有效的 Excel 工作簿" in err
    assert len(err.strip().splitlines()) == 1

    good = workbook(tmp_path / "good.xlsx", [row("一项")])
    code, _, err = await duban(capsys, "import", "items", str(good))
    assert code == 2
    assert "--as" in err  # the demo org has two supervisors: say which
    code, _, err = await duban(capsys, "import", "items", str(good), "--as", "fgw-li")
    assert code == 2
    assert "仅限督查室" in err
    code, _, err = await duban(capsys, "import", "items", str(tmp_path / "missing.xlsx"), "--as", "sup-zhang")
    assert code == 2
    assert "无法读取" in err
    assert await titles(served_store) == []

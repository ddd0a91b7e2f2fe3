"""季调度 and the dossier over real HTTP on both back-ends: the documents parsed back agree with the
statistics API, regenerate to the same hash after later events, and are served only to who may read them."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from temporalio.testing import WorkflowEnvironment

from activities.rhythms import RhythmActivities, RhythmSettings
from bootstrap import build_worker
from domain.events import RecordedEvent
from domain.rhythms import Rhythm, quarter_bounds
from settings import TEST_ACTION_KEY
from store.event_log import EventLog
from store.passwords import DEMO_PASSWORD, PasswordStore
from tests.api.conftest import AUDITOR, LEAD, LEADER, OTHER_UNIT, SUPERVISOR, Api, running_api
from tests.rhythms.stories import rhythm_stories, run
from tests.workflows.ladder_support import beijing

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUN_DAY = "2026-10-13"  # the 5th working day of October 2026 (after National Day)
Q3 = {"from": "2026-07-01", "to": "2026-09-30", "as_of": "2026-09-30"}


@pytest.fixture
async def served(database_url: str, time_skipping_server: WorkflowEnvironment) -> AsyncIterator[Api]:
    """The app on a fresh database, talking to the time-skipping server the rhythms run on."""
    async with running_api(database_url, time_skipping_server.client, worker=False) as api:
        yield api


def split_at_run_day(cut_text: str) -> tuple[list[list[RecordedEvent]], list[list[RecordedEvent]]]:
    """Each story's events up to the end of the run day, and those after it."""
    cut = beijing(cut_text) + timedelta(days=1)
    stories = rhythm_stories()
    before = [[e for e in s.events if e.occurred_at < cut] for s in stories]
    after = [[e for e in s.events if e.occurred_at >= cut] for s in stories]
    return before, after


async def download(api: Api, document: dict[str, Any], user: str = LEADER) -> bytes:
    """The bytes of a listed document, checking its content type."""
    response = await api.get(f"/api/documents/{document['id']}", user)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == document["media_type"]
    return response.content


async def test_the_quarterly_summary_agrees_with_the_stats_api_and_regenerates_identically(
    served: Api, time_skipping_server: WorkflowEnvironment
) -> None:
    log = EventLog(served.sessions)
    before, after = split_at_run_day(RUN_DAY)
    for events in before:
        await log.append(events)
    queue = f"rhythm-{uuid.uuid4()}"
    async with build_worker(time_skipping_server.client, queue, served.sessions, action_key=TEST_ACTION_KEY):
        report = await run(time_skipping_server, queue, Rhythm.QUARTERLY, RUN_DAY)
    assert (report.ran, report.period) == (True, "2026-Q3")

    listing = (await served.get("/api/documents", SUPERVISOR)).json()
    by_kind = {d["kind"]: d for d in listing if d["period"] == "2026-Q3"}
    summary, figures = by_kind["quarterly_summary"], by_kind["quarterly_figures"]
    assert (summary["media_type"], figures["media_type"]) == (DOCX, XLSX)
    assert summary["kind_label"] == "季度调度汇总"
    stats = (await served.get("/api/stats/units", SUPERVISOR, params=Q3)).json()
    groups = {g["key"]: g for g in stats["groups"]}

    # The workbook: every figure of every unit equals the API's answer for the same period and instant.
    book = load_workbook(io.BytesIO(await download(served, figures)))
    rows = list(book["各单位"].iter_rows(values_only=True))
    names = rows[1][3:]
    assert rows[0][:3] == ("单位代码", "单位", "排名")
    assert [row[0] for row in rows[2:]] == list(groups)
    for row in rows[2:]:
        group = groups[str(row[0])]
        assert (row[1], row[2]) == (group["label"], group["rank"])
        assert dict(zip(names, row[3:], strict=True)) == {n: f["value"] for n, f in group["figures"].items()}
    assert groups["fgw"]["figures"]["assigned"]["value"] == 2
    red = [row[0] for row in book["红灯及超期"].iter_rows(min_row=2, values_only=True)]
    assert "DB-2026-000201" in red

    # The Word document: the unit table in the same order with the same counts, the red item, the hash.
    word = Document(io.BytesIO(await download(served, summary)))
    units, red_table, _stuck = word.tables
    header = [cell.text for cell in units.rows[0].cells]
    assigned = header.index("交办事项")
    assert [row.cells[0].text for row in units.rows[1:]] == [g["label"] for g in groups.values()]
    assert [int(row.cells[assigned].text) for row in units.rows[1:]] == [
        g["figures"]["assigned"]["value"] for g in groups.values()
    ]
    assert "DB-2026-000201" in [row.cells[0].text for row in red_table.rows[1:]]
    text = "\n".join(p.text for p in word.paragraphs)
    assert summary["figures_hash"] in text
    assert "{{" not in text

    # Later events (October and November progress) change nothing as of the quarter's end.
    appended = 0
    for events in after:
        appended += (await log.append(events)).appended if events else 0
    assert appended >= 3
    _, again = await RhythmActivities(served.sessions, RhythmSettings()).figures(
        Rhythm.QUARTERLY, quarter_bounds("2026-Q3")
    )
    assert again == summary["figures_hash"] == figures["figures_hash"]


async def test_documents_are_for_the_office_and_leaders_and_a_missing_one_is_a_404(served: Api) -> None:
    for user in (SUPERVISOR, LEADER, AUDITOR):
        assert (await served.get("/api/documents", user)).status_code == 200
    refused = await served.get("/api/documents", LEAD)
    assert refused.status_code == 403
    assert "仅限" in refused.json()["detail"]
    missing = await served.get("/api/documents/999", SUPERVISOR)
    assert missing.status_code == 404
    assert "没有编号为 999 的文件" in missing.json()["detail"]
    assert (await served.get("/api/documents/abc", SUPERVISOR)).status_code == 422


async def test_an_items_dossier_is_its_timeline_and_verified_chain_with_chinese_headers(served: Api) -> None:
    story = rhythm_stories()[1]  # fgw's item with a work plan and a progress report
    await EventLog(served.sessions).append(story.events)
    response = await served.get(f"/api/items/{story.item_id}/dossier.xlsx", AUDITOR)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    timeline = list(book["时间线"].iter_rows(values_only=True))
    assert timeline[0][:4] == ("序号", "时间（北京时间）", "事件", "阶段")
    stored = await EventLog(served.sessions).read(story.item_id)
    assert [(row[0], row[2], row[8]) for row in timeline[1:]] == [(e.seq, e.type, e.hash) for e in stored]
    about = {row[0]: row[1] for row in book["事项"].iter_rows(values_only=True)}
    assert (about["编号"], about["审计链校验"]) == ("DB-2026-000202", "完好")
    check = list(book["校验"].iter_rows(values_only=True))
    assert check[1][:3] == ("完好", 1, len(stored))

    # fgw's own user may have it, a leader may not (403); to another unit it does not exist (404,
    # the answer an unknown item gets: a unit never learns which items other units hold).
    assert (await served.get(f"/api/items/{story.item_id}/dossier.xlsx", LEAD)).status_code == 200
    assert (await served.get(f"/api/items/{story.item_id}/dossier.xlsx", SUPERVISOR)).status_code == 200
    other = await served.get(f"/api/items/{story.item_id}/dossier.xlsx", OTHER_UNIT)
    assert other.status_code == 404
    assert other.json()["detail"] == f"督办事项不存在 / no such item: {story.item_id}"
    assert (await served.get(f"/api/items/{story.item_id}/dossier.xlsx", LEADER)).status_code == 403
    assert (await served.get("/api/items/no-such-item/dossier.xlsx", AUDITOR)).status_code == 404


async def signed_in(api: Api, user: str) -> None:
    """Sign `user` in through the pages' form (the client keeps the session cookie)."""
    await PasswordStore(api.sessions).set(user, DEMO_PASSWORD)
    form = await api.http.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = await api.http.post(
        "/login", data={"user_id": user, "password": DEMO_PASSWORD, "csrf": csrf.group(1)}
    )
    assert answer.status_code == 303, answer.text


async def test_the_documents_page_lists_and_serves_them_to_leaders_only(
    served: Api, time_skipping_server: WorkflowEnvironment
) -> None:
    for story in rhythm_stories():
        await EventLog(served.sessions).append(story.events)
    queue = f"rhythm-{uuid.uuid4()}"
    async with build_worker(time_skipping_server.client, queue, served.sessions, action_key=TEST_ACTION_KEY):
        await run(time_skipping_server, queue, Rhythm.MONTHLY, "2026-11-06")
    inbox = (await served.get("/api/me/notifications", LEAD)).json()["notifications"]
    assert [(n["kind"], n["number"]) for n in inbox] == [("monthly", "月督促 2026-11")]
    await signed_in(served, LEADER)
    page = await served.http.get("/documents")
    assert page.status_code == 200
    assert "月度通报（2026-10）" in page.text
    assert "月督促" in page.text  # the run, with the units it asked
    assert 'href="/documents"' in page.text  # the nav link
    links = re.findall(r'href="(/documents/\d+)"', page.text)
    assert len(links) == 2
    downloads = [await served.http.get(link) for link in links]
    assert {d.headers["content-type"] for d in downloads} == {DOCX, XLSX}
    assert (await served.http.get("/documents/999")).status_code == 404

    served.http.cookies.clear()
    await signed_in(served, LEAD)
    workbench = await served.http.get("/workbench")
    assert workbench.status_code == 200
    assert 'href="/documents"' not in workbench.text
    notices = await served.http.get("/notifications")  # the request, linked to the first item listed
    assert notices.status_code == 200
    assert "月督促 2026-11" in notices.text
    assert 'href="/items/r-fgw-1"' in notices.text
    refused = await served.http.get("/documents")
    assert refused.status_code == 403
    assert "仅限" in refused.text

"""年评估 on the time-skipping server over both back-ends, and a published 考核 as files: the annual
draft is stored once on January's working day and publishes nothing, its workbook parsed back equals
`GET /api/assessment` for the year exactly, later events leave its hash as it was, and a publication
downloads as .docx / .xlsx with the figures it stored."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from temporalio.testing import WorkflowEnvironment

from activities.assessment_documents import NO_LINES
from activities.rhythms import RhythmActivities, RhythmSettings
from adapters.workdays import ChinaWorkdays
from bootstrap import build_worker
from domain import commands as cmd
from domain.assessment import Rule
from domain.rhythms import Rhythm, nth_workday
from office.assessment import draft_annual_assessment
from settings import TEST_ACTION_KEY
from store.event_log import EventLog
from store.rhythms import RhythmStore
from tests.api.conftest import AUDITOR, LEADER, SUPERVISOR, Api, append_stories, running_api
from tests.api.test_pages_http import _signed_in
from tests.api.test_stats import closed_late_signer, rectified_then_ineffective, returned_and_overdue
from tests.fixtures.sql import engine_of, log_scans, statements
from tests.rhythms.stories import at, opened, run
from tests.rhythms.test_documents import DOCX, XLSX, download
from tests.store.stories import unit_user
from tests.workflows.ladder_support import beijing
from workflows.rhythm_messages import RhythmRun

YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
SPRING = {"from": "2026-03-01", "to": "2026-04-15"}
SCORE_KEYS = ("unit", "name", "score", "band_label", "band", "rank", "base", "deductions", "bonus")


@pytest.fixture
async def served(database_url: str, time_skipping_server: WorkflowEnvironment) -> AsyncIterator[Api]:
    """The app on a fresh database, talking to the time-skipping server the rhythms run on."""
    async with running_api(database_url, time_skipping_server.client, worker=False) as api:
        yield api


def sheet_rows(content: bytes, sheet: str) -> list[tuple[Any, ...]]:
    """A sheet's rows as values."""
    return list(load_workbook(io.BytesIO(content))[sheet].iter_rows(values_only=True))


def scores_by_name(content: bytes) -> list[dict[str, Any]]:
    """The score sheet's rows keyed by the machine-readable names under the Chinese headers."""
    rows = sheet_rows(content, "各单位得分")
    assert rows[0][:4] == ("单位代码", "单位", "得分", "等次")
    keys = [str(key) for key in rows[1]]
    return [dict(zip(keys, row, strict=True)) for row in rows[2:]]


def assert_sheet_equals_api(sheet: list[dict[str, Any]], api_units: list[dict[str, Any]]) -> None:
    """Every unit's figures in the workbook equal the API's, in the API's order."""
    assert [row["unit"] for row in sheet] == [unit["unit"] for unit in api_units]
    for row, unit in zip(sheet, api_units, strict=True):
        assert {key: row[key] for key in SCORE_KEYS} == {key: unit[key] for key in SCORE_KEYS}
        assert bool(row["bonus_capped"]) is unit["bonus_capped"]
        for rule in Rule:
            total = unit["by_rule"][rule.value]
            assert (row[f"{rule.value}.quantity"], row[f"{rule.value}.points"]) == (
                total["quantity"],
                total["points"],
            )


async def test_the_annual_draft_runs_once_agrees_with_the_api_and_keeps_its_hash(
    served: Api, time_skipping_server: WorkflowEnvironment
) -> None:
    late = returned_and_overdue()  # jtj's milestone runs late to the year's end
    await append_stories(served, closed_late_signer(), late, rectified_then_ineffective())
    due = nth_workday(2027, 1, 5, ChinaWorkdays().is_workday)
    queue = f"rhythm-{uuid.uuid4()}"
    async with build_worker(time_skipping_server.client, queue, served.sessions, action_key=TEST_ACTION_KEY):
        early = await run(time_skipping_server, queue, Rhythm.ANNUAL, (due - timedelta(days=1)).isoformat())
        first = await run(time_skipping_server, queue, Rhythm.ANNUAL, due.isoformat())
        again = await run(time_skipping_server, queue, Rhythm.ANNUAL, due.isoformat())
        later = await run(time_skipping_server, queue, Rhythm.ANNUAL, date(2027, 6, 1).isoformat())
    assert (early.ran, early.period) == (False, "2026")
    assert (first.ran, first.period, len(first.documents)) == (True, "2026", 2)
    assert (again.ran, again.detail) == (False, "本期已执行 / already ran")
    assert not later.ran

    listing = [d for d in (await served.get("/api/documents", LEADER)).json() if d["period"] == "2026"]
    assert len(listing) == 2  # the second and later triggers stored nothing
    by_kind = {d["kind"]: d for d in listing}
    word, figures = by_kind["annual_assessment"], by_kind["annual_assessment_figures"]
    assert (word["media_type"], figures["media_type"]) == (DOCX, XLSX)
    assert word["kind_label"] == "年度考核结果（草案）"
    # A draft: nothing is published until the supervisor publishes on the 考核 page.
    assert (await served.get("/api/assessment/publications", SUPERVISOR)).json()["publications"] == []

    api = (await served.get("/api/assessment", SUPERVISOR, params=YEAR)).json()
    assert any(unit["deductions"] > 0 for unit in api["units"])  # the year has findings to price
    content = await download(served, figures)
    assert_sheet_equals_api(scores_by_name(content), api["units"])
    # The breakdown per item and rule equals each unit's breakdown from the API.
    lines = sheet_rows(content, "扣分加分明细")
    assert lines[0][:6] == ("单位代码", "单位", "事项编号", "事项", "规则", "规则名称")
    for unit in api["units"]:
        breakdown = (
            await served.get(f"/api/assessment/units/{unit['unit']}", SUPERVISOR, params=YEAR)
        ).json()
        expected = [
            (line["number"], line["rule"], line["quantity"], line["points"], ",".join(map(str, line["seqs"])))
            for line in breakdown["lines"]
        ]
        assert [(r[2], r[4], r[6], r[7], r[8]) for r in lines[1:] if r[0] == unit["unit"]] == expected
    assert len(lines) > 1

    # The Word document: the score table in the API's order, the hash, no placeholder left.
    document = Document(io.BytesIO(await download(served, word)))
    score_table, rule_table = document.tables
    assert [row.cells[1].text for row in score_table.rows[1:]] == [unit["name"] for unit in api["units"]]
    assert [row.cells[2].text for row in score_table.rows[1:]] == [f"{u['score']:.2f}" for u in api["units"]]
    assert [row.cells[3].text for row in score_table.rows[1:]] == [
        unit["band_label"].split(" / ")[0] for unit in api["units"]
    ]
    assert len(rule_table.rows) == 1 + len(api["units"])
    text = "\n".join(p.text for p in document.paragraphs)
    assert word["figures_hash"] in text
    assert "草案" in text
    assert "{{" not in text

    recorded = await RhythmStore(served.sessions).run("annual", "2026")
    assert recorded is not None
    assert recorded.figures_hash == word["figures_hash"] == figures["figures_hash"]
    assert recorded.record["policy_version"] == api["policy_version"]
    assert {d["kind"] for d in recorded.record["documents"]} == set(by_kind)

    # jtj finally reaches its milestone in 2027: nothing changes as of the end of 2026.
    before = len(late.events)
    late.act(
        unit_user("jtj"),
        cmd.ReportProgress(summary="已开工", percent=60, milestones_done=["开工"]),
        after=at(late, beijing("2027-01-20 10:00")),
    )
    assert (await EventLog(served.sessions).append(late.events[before:])).appended >= 1
    regenerated = await draft_annual_assessment(2026, served.sessions)
    assert regenerated.figures_hash == recorded.figures_hash
    api_again = (await served.get("/api/assessment", SUPERVISOR, params=YEAR)).json()
    assert api_again["units"] == api["units"]


async def test_a_publication_downloads_as_docx_and_xlsx_with_the_figures_it_stored(served: Api) -> None:
    await append_stories(served, closed_late_signer(), returned_and_overdue(), rectified_then_ineffective())
    published = await served.post("/api/assessment/publish", SUPERVISOR, json={**SPRING, "note": "一季度"})
    assert published.status_code == 201, published.text
    stored = published.json()
    position = stored["position"]
    path = f"/api/assessment/publications/{position}/document"

    sheet = await served.get(path, SUPERVISOR, params={"format": "xlsx"})
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in sheet.headers["content-disposition"]
    rows = scores_by_name(sheet.content)
    assert [row["unit"] for row in rows] == [f["unit"] for f in stored["figures"]]
    for row, published_unit in zip(rows, stored["figures"], strict=True):
        for key in ("score", "band", "rank", "base", "deductions", "bonus"):
            assert row[key] == published_unit[key]
        for rule in Rule:
            assert row[f"{rule.value}.points"] == published_unit["by_rule"][rule.value]["points"]
    about = {row[0]: row[1] for row in sheet_rows(sheet.content, "说明")}
    assert about["数据指纹 SHA-256"] == stored["figures_hash"]
    assert about["考核办法版本"] == stored["policy_version"]
    lines = sheet_rows(sheet.content, "扣分加分明细")
    assert len(lines) > 1
    assert lines[1][0] != NO_LINES  # the breakdown kept with the publication
    breakdown = (await served.get("/api/assessment/units/czj", SUPERVISOR, params=SPRING)).json()
    assert [(row[0], row[2], row[4], row[7]) for row in lines[1:] if row[0] == "czj"] == [
        ("czj", line["number"], line["rule"], line["points"]) for line in breakdown["lines"]
    ]

    word = await served.get(path, AUDITOR)  # .docx by default
    assert word.status_code == 200, word.text
    assert word.headers["content-type"] == DOCX
    document = Document(io.BytesIO(word.content))
    score_table = document.tables[0]
    assert [row.cells[2].text for row in score_table.rows[1:]] == [
        f"{f['score']:.2f}" for f in stored["figures"]
    ]
    text = "\n".join(p.text for p in document.paragraphs)
    assert stored["figures_hash"] in text
    assert "已发布" in text

    # An item told later with a late sign-for inside the period: scoring again no longer gives the
    # stored figures, yet the files are the publication's own, figures and breakdown, read with no
    # scan of the log.
    backfilled = opened("annual-late", "DB-2026-000299", "zjj", "2026-03-05 09:00")
    backfilled.act(unit_user("zjj"), cmd.SignFor(), after=timedelta(days=12))
    await EventLog(served.sessions).append(backfilled.events)
    rescored = (await served.get("/api/assessment", SUPERVISOR, params=SPRING)).json()
    assert [u["score"] for u in rescored["units"]] != [f["score"] for f in stored["figures"]]
    with statements(engine_of(served.app_sessions)) as sent:
        after = await served.get(path, SUPERVISOR, params={"format": "xlsx"})
    assert log_scans(sent) == 0
    assert [row["score"] for row in scores_by_name(after.content)] == [f["score"] for f in stored["figures"]]
    assert sheet_rows(after.content, "扣分加分明细") == lines

    missing = await served.get("/api/assessment/publications/99/document", SUPERVISOR)
    assert missing.status_code == 404
    assert "没有这次发布" in missing.json()["detail"]
    wrong = await served.get(path, SUPERVISOR, params={"format": "pdf"})
    assert wrong.status_code == 422


async def test_every_reader_downloads_a_publication_a_unit_its_own_part_and_drafts_stay_with_the_office(
    served: Api,
) -> None:
    await append_stories(served, closed_late_signer(), returned_and_overdue(), rectified_then_ineffective())
    drafts, _ = await RhythmActivities(served.sessions, RhythmSettings()).annual_documents(2026)
    published = await served.post("/api/assessment/publish", SUPERVISOR, json={**SPRING, "note": "通报"})
    assert published.status_code == 201, published.text
    stored = published.json()
    path = f"/api/assessment/publications/{stored['position']}/document"
    everyone = [f["unit"] for f in stored["figures"]]
    assert len(everyone) > 1

    # The office (supervisor, leader, auditor): the whole 通报, every unit and every line.
    for user in (SUPERVISOR, LEADER, AUDITOR):
        sheet = await served.get(path, user, params={"format": "xlsx"})
        assert sheet.status_code == 200, (user, sheet.text)
        assert [row["unit"] for row in scores_by_name(sheet.content)] == everyone
        units_with_lines = {row[0] for row in sheet_rows(sheet.content, "扣分加分明细")[1:]}
        assert len(units_with_lines) > 1

    # A unit (czj, which has lines): its own row with its rank among all units, its own lines only —
    # what the JSON publication shows it; the .docx says it is the unit's part.
    czj = next(f for f in stored["figures"] if f["unit"] == "czj")
    sheet = await served.get(path, "czj-wu", params={"format": "xlsx"})
    assert sheet.status_code == 200, sheet.text
    [row] = scores_by_name(sheet.content)
    assert (row["unit"], row["score"], row["rank"]) == ("czj", czj["score"], czj["rank"])
    lines = sheet_rows(sheet.content, "扣分加分明细")[1:]
    assert lines
    assert {line[0] for line in lines} == {"czj"}
    as_json = (await served.get(f"/api/assessment/publications/{stored['position']}", "czj-wu")).json()
    assert [f["unit"] for f in as_json["figures"]] == ["czj"]
    word = await served.get(path, "czj-wu")
    assert word.status_code == 200, word.text
    document = Document(io.BytesIO(word.content))
    assert [r.cells[1].text for r in document.tables[0].rows[1:]] == ["市财政局"]
    assert "本单位部分" in "\n".join(p.text for p in document.paragraphs)
    # …and through the page, signed in as the unit.
    async with _signed_in(served, "czj-wu") as browser:
        page = await browser.get(f"/assessment/publications/{stored['position']}/document?format=xlsx")
    assert page.status_code == 200
    assert [r["unit"] for r in scores_by_name(page.content)] == ["czj"]

    # The 年评估 draft is the office's: a unit can neither list nor download it; no such publication is 404.
    assert (await served.get("/api/documents", "czj-wu")).status_code == 403
    for draft in drafts:
        refused = await served.get(f"/api/documents/{draft.id}", "czj-wu")
        assert refused.status_code == 403
        assert refused.json()["detail"].startswith("仅限督查室")
        assert (await served.get(f"/api/documents/{draft.id}", SUPERVISOR)).status_code == 200
    missing = await served.get("/api/assessment/publications/99/document", "czj-wu")
    assert missing.status_code == 404
    assert "没有这次发布" in missing.json()["detail"]


async def test_a_retry_after_a_policy_change_records_the_scores_of_the_documents_it_stored(
    served: Api,
) -> None:
    await append_stories(served, closed_late_signer(), returned_and_overdue(), rectified_then_ineffective())
    activities = RhythmActivities(served.sessions, RhythmSettings())
    # The first attempt stores the documents under version 1, then fails before recording its run.
    stored, first = await activities.annual_documents(2026)
    assert first is not None
    assert first.scored.policy.version == 1
    edited = await served.post(
        "/api/assessment/policies", SUPERVISOR, json={"rules": {"rectify_loop": 10}, "note": "整改扣分加重"}
    )
    assert edited.status_code == 201, edited.text
    now = await draft_annual_assessment(2026, served.sessions)
    assert (now.scored.policy.version, now.figures_hash != first.figures_hash) == (2, True)

    due = nth_workday(2027, 1, 5, ChinaWorkdays().is_workday)
    report = await activities.run_rhythm(RhythmRun(rhythm=Rhythm.ANNUAL, day=due.isoformat()))
    assert report.ran
    assert report.documents == [document.id for document in stored]
    run = await RhythmStore(served.sessions).run(Rhythm.ANNUAL, "2026")
    assert run is not None
    # The record describes the documents stored: their hash, their version, their scores.
    assert run.figures_hash == stored[0].figures_hash == first.figures_hash
    assert run.record["policy_version"] == 1
    assert run.record["scores"] == {s.unit: [str(s.score), s.band.value, s.rank] for s in first.scored.scores}
    sheet = scores_by_name(await download(served, {"id": stored[1].id, "media_type": XLSX}))
    assert {row["unit"]: (row["score"], row["band"], row["rank"]) for row in sheet} == {
        unit: (float(score), band, rank) for unit, (score, band, rank) in run.record["scores"].items()
    }

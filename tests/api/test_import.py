"""Bulk 立项: the template from the API, filled with openpyxl and uploaded back, opening real items
through the real worker on the dev server, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook
from temporalio.client import Client, WorkflowExecutionStatus

from api.import_book import CHOICES_SHEET, HEADERS, ITEMS_SHEET, MAX_ROWS
from domain.instants import CHINA
from tests.api.conftest import LEAD, SUPERVISOR, SUPERVISOR_2, Api
from tests.api.import_books import fill_template
from workflows.messages import workflow_id_for

TODAY = datetime.now(CHINA).date()
AHEAD = TODAY + timedelta(days=200)
SOONER = TODAY + timedelta(days=60)


def row(title: str, **cells: Any) -> dict[str, Any]:
    """One row of the template by header: a valid item unless `cells` says otherwise."""
    values: dict[str, Any] = {
        "标题": title,
        "工作要求": "按会议要求推进并按月报送进展",
        "类别": "重大项目",
        "来源": "会议决定",
        "牵头单位": "市发展和改革委员会",
        "协办单位": "czj、市住房和城乡建设局",
        "责任领导": "王建国",
        "办理时限": AHEAD.isoformat(),
    }
    values.update(cells)
    return values


async def template(api: Api) -> Workbook:
    """The template as the API serves it."""
    response = await api.get("/api/items/import/template.xlsx", SUPERVISOR)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(BytesIO(response.content))


async def filled(api: Api, rows: list[dict[str, Any]]) -> bytes:
    """The API's template with `rows` written under its headers."""
    response = await api.get("/api/items/import/template.xlsx", SUPERVISOR)
    assert response.status_code == 200, response.text
    return fill_template(response.content, rows)


async def upload(api: Api, data: bytes, user: str = SUPERVISOR, **params: str) -> httpx.Response:
    """POST the file to the import as `user`."""
    files = {"file": ("会议决定事项.xlsx", data, "application/octet-stream")}
    return await api.post("/api/items/import", user, files=files, params=params)


async def listed_titles(api: Api) -> list[str]:
    """Titles of every item the list shows the supervisor."""
    response = await api.get("/api/items", SUPERVISOR, params={"limit": "200"})
    assert response.status_code == 200, response.text
    return sorted(item["title"] for item in response.json()["items"])


async def test_the_template_has_chinese_headers_and_a_sheet_of_valid_choices(api: Api) -> None:
    book = await template(api)
    assert book.sheetnames == [ITEMS_SHEET, CHOICES_SHEET]
    headers = [cell.value for cell in book[ITEMS_SHEET][1]]
    assert headers == list(HEADERS)
    for needed in (
        "标题",
        "类别",
        "来源",
        "牵头单位",
        "协办单位",
        "责任领导",
        "办理时限",
        "节点",
        "标签",
        "备注",
    ):
        assert needed in headers
    choices = [
        [cell for cell in line if cell is not None]
        for line in book[CHOICES_SHEET].iter_rows(values_only=True)
    ]
    flat = {cell for line in choices for cell in line}
    assert {"fgw", "市发展和改革委员会", "leader-wang", "王建国", "重大项目", "会议决定", "紧急"} <= flat
    assert "dcs" not in flat  # the office itself is not a unit items go to
    dropdowns = {
        str(v.sqref).split(":")[0]: v.formula1 for v in book[ITEMS_SHEET].data_validations.dataValidation
    }
    assert dropdowns["C2"].startswith(f"'{CHOICES_SHEET}'!")  # 类别
    assert dropdowns["F2"].startswith(f"'{CHOICES_SHEET}'!")  # 牵头单位

    refused = await api.get("/api/items/import/template.xlsx", LEAD)
    assert refused.status_code == 403


async def test_a_valid_file_previews_then_opens_every_row_once(api: Api, temporal_client: Client) -> None:
    data = await filled(
        api,
        [
            row(
                "推进老旧小区改造",
                节点=f"方案报送@{SOONER.isoformat()}；中期评估@{AHEAD.isoformat()}",
                标签="民生，城建",
            ),
            row("城市道路维修", 牵头单位="jtj", 协办单位=None, 责任领导="leader-wang", 紧急程度="紧急"),
            row(
                "保障性住房建设",
                办理时限=datetime(AHEAD.year, AHEAD.month, AHEAD.day),  # noqa: DTZ001 — an Excel date cell is naive
                备注="会议纪要第 3 条",
            ),
        ],
    )

    preview = await upload(api, data, dry_run="true")
    assert preview.status_code == 200, preview.text
    report = preview.json()
    assert (report["total"], report["valid"], report["invalid"], report["opened"]) == (3, 3, 0, 0)
    first = report["rows"][0]
    assert first["row"] == 2
    assert first["status"] == "valid"
    assert first["item"]["lead_unit"] == "fgw"
    assert first["item"]["co_units"] == ["czj", "zjj"]
    assert first["item"]["leader"] == "leader-wang"
    assert [m["name"] for m in first["item"]["milestones"]] == ["方案报送", "中期评估"]
    assert first["item"]["tags"] == ["民生", "城建"]
    assert report["rows"][1]["item"]["priority"] == "urgent"
    assert report["rows"][2]["item"]["requirements"].endswith("备注：会议纪要第 3 条")
    assert await listed_titles(api) == []  # a dry run opens nothing

    opened = await upload(api, data, dry_run="false")
    assert opened.status_code == 201, opened.text
    result = opened.json()
    assert (result["opened"], result["already_opened"]) == (3, 0)
    assert [r["status"] for r in result["rows"]] == ["opened"] * 3
    assert await listed_titles(api) == sorted(["推进老旧小区改造", "城市道路维修", "保障性住房建设"])
    for imported in result["rows"]:
        item = (await api.get(f"/api/items/{imported['item_id']}", SUPERVISOR)).json()
        assert item["number"] == imported["number"]
        assert item["stage"] == "deploy"
        description = await temporal_client.get_workflow_handle(
            workflow_id_for(imported["item_id"])
        ).describe()
        assert description.status is WorkflowExecutionStatus.RUNNING
    deadline = (await api.get(f"/api/items/{result['rows'][2]['item_id']}", SUPERVISOR)).json()["deadline"]
    assert datetime.fromisoformat(deadline) == datetime(AHEAD.year, AHEAD.month, AHEAD.day, 10, tzinfo=UTC)

    again = await upload(api, data, dry_run="false")
    assert again.status_code == 200, again.text
    repeat = again.json()
    assert (repeat["opened"], repeat["already_opened"]) == (0, 3)
    assert [r["status"] for r in repeat["rows"]] == ["already_opened"] * 3
    assert [r["item_id"] for r in repeat["rows"]] == [r["item_id"] for r in result["rows"]]
    assert "3 行此前已立项" in repeat["detail"]
    assert len(await listed_titles(api)) == 3


async def test_invalid_rows_open_nothing_and_are_named_by_row_and_column(api: Api) -> None:
    data = await filled(
        api,
        [
            row("第一项，无误"),
            row("日期写错", 办理时限="2027/06/30"),
            row("单位写错", 牵头单位="市不存在局", 类别="重大事项"),
            row("", 责任领导="fgw-li"),
            row("节点写错", 节点="方案报送 2027-03-31"),
            row("节点晚于时限", 节点=f"验收@{(AHEAD + timedelta(days=5)).isoformat()}"),
            row("时限已过", 办理时限="2020-01-01"),
        ],
    )

    response = await upload(api, data, dry_run="false")
    assert response.status_code == 422, response.text
    report = response.json()
    assert report["opened"] == 0
    assert (report["valid"], report["invalid"]) == (1, 6)
    assert "6 行有误，未立项任何事项" in report["detail"]
    messages = [problem["message"] for problem in report["errors"]]
    assert "第 3 行「办理时限」：日期格式应为 YYYY-MM-DD" in messages
    assert any(
        m.startswith("第 4 行「类别」：应为以下之一：重大政策、重大资金、重大项目、其他") for m in messages
    )
    assert any(m.startswith("第 4 行「牵头单位」：未知单位 市不存在局") for m in messages)
    assert "第 5 行「标题」：必填，不能为空" in messages or "第 5 行「标题」：不能为空" in messages
    assert "第 6 行「节点」：第 1 个节点「方案报送 2027-03-31」应写作 名称@YYYY-MM-DD" in messages
    assert any(m.startswith("第 7 行「节点」：时间节点「验收」晚于办理期限") for m in messages)
    assert any(m.startswith("第 8 行「办理时限」：") for m in messages)
    by_row = {r["row"]: r for r in report["rows"]}
    assert by_row[2]["status"] == "valid"
    assert {e["column"] for e in by_row[4]["errors"]} == {"类别", "牵头单位"}
    assert by_row[4]["cells"]["牵头单位"] == "市不存在局"
    assert await listed_titles(api) == []

    only_valid = await upload(api, data, dry_run="false", only_valid="true")
    assert only_valid.status_code == 201, only_valid.text
    assert (only_valid.json()["opened"], only_valid.json()["invalid"]) == (1, 6)
    assert await listed_titles(api) == ["第一项，无误"]


async def test_a_file_that_is_not_a_list_is_refused_whole_in_chinese(api: Api) -> None:
    not_xlsx = await upload(api, "标题,类别\n推进,重大项目\n".encode())
    assert not_xlsx.status_code == 422
    assert "不是有效的 Excel 工作簿" in not_xlsx.json()["detail"]

    empty = await upload(api, b"")
    assert empty.status_code == 422
    assert "文件为空" in empty.json()["detail"]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["事项", "类别", "截止日期"])
    sheet.append(["推进老旧小区改造", "重大项目", "2027-06-30"])
    wrong = BytesIO()
    book.save(wrong)
    headers = await upload(api, wrong.getvalue())
    assert headers.status_code == 422
    detail = headers.json()["detail"]
    assert "表头与模板不符" in detail
    assert "「事项」" in detail
    assert "缺少必填列" in detail
    assert "「办理时限」" in detail

    no_rows = await upload(api, await filled(api, []))
    assert no_rows.status_code == 422
    assert "没有可导入的数据行" in no_rows.json()["detail"]

    too_many = await upload(api, await filled(api, [{"标题": f"事项{i}"} for i in range(MAX_ROWS + 1)]))
    assert too_many.status_code == 413
    assert f"一次最多导入 {MAX_ROWS} 行" in too_many.json()["detail"]

    unit = await upload(api, await filled(api, [row("单位不能立项")]), user=LEAD, dry_run="false")
    assert unit.status_code == 403
    assert await listed_titles(api) == []


async def test_rows_open_once_by_their_content_whatever_file_carries_them(api: Api) -> None:
    housing, roads, homes = (
        row("推进老旧小区改造"),
        row("城市道路维修", 牵头单位="jtj"),
        row("保障性住房建设"),
    )
    first = await upload(api, await filled(api, [housing, roads, homes]), dry_run="false")
    assert first.status_code == 201, first.text
    opened = {r["item"]["title"]: r["item_id"] for r in first.json()["rows"]}

    # The office corrects one row, reorders the list and saves it again: another file, same rows but one.
    corrected = row("城市道路维修（含桥梁）", 牵头单位="jtj")
    edited = await upload(api, await filled(api, [homes, corrected, housing]), dry_run="false")

    assert edited.status_code == 201, edited.text
    rows = edited.json()["rows"]
    assert [r["status"] for r in rows] == ["already_opened", "opened", "already_opened"]
    assert (rows[0]["item_id"], rows[2]["item_id"]) == (opened["保障性住房建设"], opened["推进老旧小区改造"])
    assert rows[1]["item_id"] not in opened.values()
    assert len(await listed_titles(api)) == 4

    again = await upload(api, await filled(api, [corrected, housing, homes, housing]), dry_run="false")
    assert again.status_code == 200, again.text
    assert [r["status"] for r in again.json()["rows"]] == ["already_opened"] * 4
    assert (
        again.json()["rows"][1]["item_id"] == again.json()["rows"][3]["item_id"] == opened["推进老旧小区改造"]
    )
    assert len(await listed_titles(api)) == 4

    theirs = await upload(api, await filled(api, [housing]), SUPERVISOR_2, dry_run="false")
    assert theirs.status_code == 201, theirs.text  # keys are each user's own, as for POST /api/items
    assert theirs.json()["rows"][0]["item_id"] not in opened.values()

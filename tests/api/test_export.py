"""GET /api/items/export.xlsx: read back with openpyxl, row for row the JSON list under the same filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from temporalio.client import Client

from api.exports import HEADERS
from domain import commands as cmd
from domain.instants import CHINA
from domain.vocabulary import Category
from store.demo_org import DEMO_ORG
from tests.api.conftest import SUPERVISOR, Api, append_stories, running_api
from tests.store.stories import ItemStory, unit_user

UNIT_NAMES = {unit.id: unit.name for unit in DEMO_ORG.units}


def stories() -> list[ItemStory]:
    """Three items: two for zjj (one in implementation), one major-funds item led by jtj."""
    first = ItemStory("export-a", number="DB-2026-000201")
    first.open(title="推进老旧小区改造", lead_unit="zjj", co_units=("czj",))
    first.into_implementation()
    second = ItemStory("export-b", number="DB-2026-000202")
    second.open(title="城市道路维修", lead_unit="jtj", co_units=(), category=Category.MAJOR_FUNDS)
    second.act(unit_user("jtj"), cmd.SignFor())
    third = ItemStory("export-c", number="DB-2026-000203")
    third.open(title="保障性住房建设", lead_unit="zjj", co_units=("jtj",))
    return [first, second, third]


@pytest.fixture
async def ledger_api(database_url: str, temporal_client: Client) -> AsyncIterator[Api]:
    """The app on a fresh database holding the three stories."""
    async with running_api(database_url, temporal_client, worker=False) as served:
        await append_stories(served, *stories())
        yield served


async def exported(api: Api, user: str, **params: str) -> list[list[Any]]:
    """The export's rows (header first) as openpyxl reads them back."""
    response = await api.get("/api/items/export.xlsx", user, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    workbook = load_workbook(BytesIO(response.content), read_only=True)
    assert workbook.sheetnames == ["督办台账"]
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


async def listed(api: Api, user: str, **params: str) -> list[dict[str, Any]]:
    """The JSON list under the same filters, all on one page."""
    response = await api.get("/api/items", user, params={**params, "limit": "200"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def beijing(raw: str | None) -> datetime | None:
    """A JSON instant as the Beijing wall-clock time a cell holds (to the second)."""
    if raw is None:
        return None
    return datetime.fromisoformat(raw).astimezone(CHINA).replace(tzinfo=None, microsecond=0)


def assert_same(rows: list[list[Any]], items: list[dict[str, Any]]) -> None:
    """The sheet holds the list's items, in its order, with its values."""
    assert rows[0] == HEADERS
    body = [dict(zip(HEADERS, row, strict=True)) for row in rows[1:]]
    assert [row["编号"] for row in body] == [item["number"] for item in items]
    for row, item in zip(body, items, strict=True):
        assert row["事项名称"] == item["title"]
        assert row["当前阶段"] == item["stage_label"]
        assert row["牵头单位"] == UNIT_NAMES[item["lead_unit"]]
        assert row["协办单位"] == ("、".join(UNIT_NAMES[u] for u in item["co_units"]) or None)
        assert row["进度（%）"] == item["percent"]
        assert row["是否超期"] == ("是" if item["overdue"] else "否")
        assert row["办理时限"] == beijing(item["deadline"])
        assert row["立项时间"] == beijing(item["opened_at"])
        dues = [step["due"] for step in item["pending"] if step["due"] is not None]
        assert row["最近期限"] == (min(beijing(d) for d in dues) if dues else None)
        assert row["当前待办"].count("：") == len(item["pending"])


async def test_the_export_is_the_list_row_for_row(ledger_api: Api) -> None:
    rows = await exported(ledger_api, SUPERVISOR)
    items = await listed(ledger_api, SUPERVISOR)
    assert len(items) == 3
    assert_same(rows, items)


async def test_the_export_takes_the_lists_filters(ledger_api: Api) -> None:
    for params in ({"category": "major_funds"}, {"unit": "zjj"}, {"stage": "implement"}, {"q": "住房"}):
        items = await listed(ledger_api, SUPERVISOR, **params)
        assert 0 < len(items) < 3, params
        assert_same(await exported(ledger_api, SUPERVISOR, **params), items)


async def test_a_unit_exports_only_its_own_items(ledger_api: Api) -> None:
    rows = await exported(ledger_api, "jtj-ma")
    items = await listed(ledger_api, "jtj-ma")
    assert {item["number"] for item in items} == {"DB-2026-000202", "DB-2026-000203"}
    assert_same(rows, items)


async def test_a_bad_filter_is_a_chinese_first_422(ledger_api: Api) -> None:
    response = await ledger_api.get("/api/items/export.xlsx", SUPERVISOR, params={"stage": "nowhere"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("请求内容有误")

"""The 统计 page over real HTTP on both back-ends: its tables print the JSON API's numbers for the same
query, every number links to the items behind it, a unit sees only its own row and rank, and a bad
date is a Chinese 422 page, not a 500."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from domain.statistics import FIGURE_LABELS, ON_TIME_RATE, SIGNED_LATE
from pages.stats import GROUPS_PER_TABLE, shown
from tests.api.conftest import SUPERVISOR, Api, append_stories, running_api
from tests.api.test_pages_http import _signed_in
from tests.api.test_stats import three_stories
from tests.fixtures.sql import engine_of, log_scans, statements

# A period the stories fall in, read as of a fixed instant: the months are 2025-07 … 2026-06.
PERIOD = {"from": "2026-03-01", "to": "2026-06-30", "as_of": "2026-06-30"}


@pytest.fixture
async def stats_api(database_url: str, temporal_client: Client) -> AsyncIterator[Api]:
    """The app on a fresh database with the statistics tests' three stories in its log (no worker:
    the stories write the log themselves)."""
    async with running_api(database_url, temporal_client, worker=False) as served:
        await append_stories(served, *three_stories())
        yield served


async def _json(api: Api, user: str, **params: str) -> dict[str, Any]:
    response = await api.get("/api/stats/units", user, params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _table(page: str, testid: str) -> str:
    found = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', page, re.S)
    assert found is not None, testid
    return found[0]


def _cells(row: str) -> list[tuple[str, str]]:
    """(data-value, printed text) of each number in a table row."""
    return [
        (html.unescape(value), re.sub(r"<[^>]+>", "", text))
        for value, text in re.findall(r'<td class="number"[^>]*data-value="([^"]*)">(.*?)</td>', row, re.S)
    ]


def _all_figures(page: str) -> tuple[list[str], dict[str, list[tuple[str, str]]]]:
    """The every-figure tables, put together: their group keys (columns) and each figure's row of cells."""
    found = re.search(r'<div data-testid="stats-all">(.*?)</section>', page, re.S)
    assert found is not None, "stats-all"
    keys: list[str] = []
    rows: dict[str, list[tuple[str, str]]] = {}
    for table in re.findall(r"<table.*?</table>", found[1], re.S):
        keys += re.findall(r'<th scope="col" data-key="([^"]+)"', table)
        for figure, row in re.findall(r'<tr data-figure="([^"]+)">(.*?)</tr>', table, re.S):
            rows[figure] = rows.get(figure, []) + _cells(row)
    return keys, rows


def _same(value: str, expected: Any) -> bool:
    return (value == "" and expected is None) or (expected is not None and float(value) == expected)


async def test_the_tables_print_the_apis_numbers_and_link_to_the_items(stats_api: Api) -> None:
    answer = await _json(stats_api, SUPERVISOR)
    async with _signed_in(stats_api, SUPERVISOR) as browser:
        page = await browser.get("/stats", params={**PERIOD, "figure": SIGNED_LATE})
        assert page.status_code == 200, page.text
        text = page.text
        # Every figure of every group, as the API answers the same query.
        keys, rows = _all_figures(text)
        assert keys == [g["key"] for g in answer["groups"]]
        # In parts of a few groups each, so every part fits a laptop's width (the browser test measures).
        parts = re.findall(r'<table class="matrix figures"(.*?)</table>', text, re.S)
        assert len(parts) == -(-len(keys) // GROUPS_PER_TABLE) > 1
        assert all(part.count('<th scope="col" data-key=') <= GROUPS_PER_TABLE for part in parts)
        assert list(rows) == list(FIGURE_LABELS)
        for figure, cells in rows.items():
            for group, (value, printed) in zip(answer["groups"], cells, strict=True):
                expected = group["figures"][figure]["value"]
                assert _same(value, expected), (figure, group["key"], value, expected)
                assert printed == shown(figure, expected)
        # The chosen figure's table, ranked as the API ranks.
        groups = _table(text, "stats-groups")
        for group in answer["groups"]:
            row = re.search(rf'<tr data-key="{group["key"]}">(.*?)</tr>', groups, re.S)
            assert row is not None
            assert f"{group['rank']} / {answer['ranked']}" in row[1]
            [(value, printed)] = _cells(row[1])
            assert printed == str(group["figures"][SIGNED_LATE]["value"])
            if group["key"] == "zjj":
                assert (value, printed) == ("1", "1")  # the story's late sign-for

        # A month of the line chart's table is the API's answer for that month, as of its end.
        months = _table(text, "stats-months")
        headers = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r'<th scope="col">(.*?)</th>', months)][1:]
        assert headers == [f"2025年{m}月" for m in range(7, 13)] + [f"2026年{m}月" for m in range(1, 7)]
        march_end = "2026-03-31"
        march = await _json(
            stats_api, SUPERVISOR, **{"from": "2026-03-01", "to": march_end, "as_of": march_end}
        )
        for group in march["groups"]:
            row = re.search(rf'<tr data-key="{group["key"]}">(.*?)</tr>', months, re.S)
            assert row is not None
            value, _ = _cells(row[1])[headers.index("2026年3月")]
            assert _same(value, group["figures"][SIGNED_LATE]["value"])

        # A number is a link to the items behind it: zjj's late sign-for is item stats-a.
        link = re.search(r'<tr data-key="zjj">.*?<a href="([^"]+)">1</a>', groups, re.S)
        assert link is not None
        items = await browser.get(html.unescape(link[1]))
        assert items.status_code == 200, items.text
        behind = _table(items.text, "figure-items")
        assert '<a href="/items/stats-a">DB-2026-000101</a>' in behind
        assert behind.count("<tr data-item=") == 1
        assert "超时签收" in items.text
        assert 'data-testid="figure-value">1<' in items.text


async def test_the_period_and_its_twelve_months_are_read_in_one_pass_over_the_log(stats_api: Api) -> None:
    async with _signed_in(stats_api, SUPERVISOR) as browser:
        with statements(engine_of(stats_api.app_sessions)) as sent:
            page = await browser.get("/stats", params={**PERIOD, "figure": SIGNED_LATE})
        assert page.status_code == 200, page.text
        with statements(engine_of(stats_api.app_sessions)) as api_sent:
            await stats_api.get("/api/stats/units", SUPERVISOR, params=PERIOD)
    # 13 answers (the period and 12 months), each the API's own, from the single scan one answer costs.
    months = re.findall(r"<th scope=\"col\">(.*?)</th>", _table(page.text, "stats-months"))[1:]
    labels = [re.sub(r"<[^>]+>", "", month) for month in months]  # a header wraps between year and month
    assert len(labels) == 12
    assert all(re.fullmatch(r"\d{4}年\d+月", label) for label in labels), labels
    assert log_scans(sent) == log_scans(api_sent) == 1


async def test_the_page_groups_by_category_like_the_api(stats_api: Api) -> None:
    answer = await _json(stats_api, SUPERVISOR, group_by="category")
    async with _signed_in(stats_api, "leader-wang") as browser:
        page = await browser.get("/stats", params={**PERIOD, "group_by": "category"})
        assert page.status_code == 200, page.text
    keys, rows = _all_figures(page.text)
    assert keys == [g["key"] for g in answer["groups"]]
    for group, (value, _) in zip(answer["groups"], rows[ON_TIME_RATE], strict=True):
        assert _same(value, group["figures"][ON_TIME_RATE]["value"])


async def test_a_unit_sees_only_its_own_row_and_its_rank(stats_api: Api) -> None:
    everyone = await _json(stats_api, SUPERVISOR)
    zjj = next(g for g in everyone["groups"] if g["key"] == "zjj")
    async with _signed_in(stats_api, "zjj-he") as browser:
        page = await browser.get("/stats", params=PERIOD)
        assert page.status_code == 200, page.text
        groups = _table(page.text, "stats-groups")
        assert re.findall(r'<tr data-key="([^"]+)"', groups) == ["zjj"]
        assert f"{zjj['rank']} / {everyone['ranked']}" in groups
        keys, _ = _all_figures(page.text)
        assert keys == ["zjj"]
        assert re.findall(r'<tr data-key="([^"]+)"', _table(page.text, "stats-months")) == ["zjj"]
        assert 'name="group_by" value="unit"' in page.text  # no other grouping to choose

        other = await browser.get("/stats/items", params={**PERIOD, "key": "czj", "figure": "assigned"})
        assert other.status_code == 403
        assert "本单位" in other.text
        grouped = await browser.get("/stats", params={**PERIOD, "group_by": "category"})
        assert grouped.status_code == 403
        assert "本单位" in grouped.text
        mine = await browser.get("/stats/items", params={**PERIOD, "key": "zjj", "figure": SIGNED_LATE})
        assert mine.status_code == 200
        assert "DB-2026-000101" in mine.text


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"from": "2026-13-01"}, "须为日期"),
        ({"as_of": "2026-03-01T10:00:00"}, "时区"),
        ({"from": "2026-06-01", "to": "2026-05-01"}, "起始时间晚于截止时间"),
        ({"figure": "happiness"}, "未知统计项"),
        ({"group_by": "planet"}, "内容有误"),
    ],
)
async def test_a_bad_query_is_a_chinese_422_page(stats_api: Api, params: dict[str, str], words: str) -> None:
    async with _signed_in(stats_api, SUPERVISOR) as browser:
        page = await browser.get("/stats", params=params)
        items = await browser.get("/stats/items", params={"key": "zjj", "figure": "assigned", **params})
    for answer in (page, items):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert words in answer.text


async def test_the_page_needs_a_sign_in_and_a_reading_role(stats_api: Api) -> None:
    anonymous = await stats_api.http.get("/stats")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=%2Fstats")
    async with _signed_in(stats_api, "admin") as browser:
        refused: httpx.Response = await browser.get("/stats")
    assert refused.status_code == 403

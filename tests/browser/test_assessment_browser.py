"""The 考核 page in a real browser: scores with bands, a unit's breakdown, a draft policy's what-if
side by side, publishing and downloading the published result, and a unit seeing only itself."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.async_api import BrowserContext, expect

from store.event_log import EventLog
from tests.api.test_stats import three_stories
from tests.browser.conftest import Site, screenshot, sign_in
from tests.unit.test_assessment import ladder_story

PERIOD = "from=2026-03-01&to=2026-04-15"


async def test_the_assessment_page_shows_scores_and_runs_a_what_if(
    site: Site, context: BrowserContext
) -> None:
    for story in three_stories():
        await EventLog(site.sessions).append(story.events)
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.click("nav >> text=考核")
    await expect(page.locator("h1")).to_contain_text("考核")
    await page.goto(f"{site.url}/assessment?{PERIOD}")
    czj = page.locator("[data-testid=scores] tr[data-unit=czj]")
    await expect(czj).to_be_visible()
    before = float(await czj.get_by_test_id("score").inner_text())
    assert before < 100
    await expect(page.locator("[data-testid=scores] tr[data-unit=gzw] [data-testid=score]")).to_have_text(
        "100.00"
    )
    await expect(page.locator("[data-testid=scores]")).to_contain_text("优秀")

    await czj.locator("a").click()
    breakdown = page.get_by_test_id("breakdown")
    await expect(breakdown).to_contain_text("市财政局 明细")
    await expect(breakdown).to_contain_text("整改")
    await expect(breakdown).to_contain_text("DB-2026-000103")

    # A draft that makes each rectify loop cost 10: the what-if shows czj 8 points lower.
    await page.click("text=修改考核办法")
    editor = page.get_by_test_id("policy-editor")
    await editor.locator("input[name=rectify_loop]").fill("10")
    await editor.locator("input[name=note]").fill("整改扣分加重（试算）")
    await editor.locator("input[name=draft]").check()
    await editor.locator("button[type=submit]").click()
    table = page.get_by_test_id("what-if-table")
    await expect(table).to_be_visible()
    await expect(table.locator("tr[data-unit=czj] [data-testid=delta]")).to_have_text("-8.00")
    await expect(table.locator("tr[data-unit=gzw] [data-testid=delta]")).to_have_text("+0.00")
    await expect(page.get_by_test_id("scores").locator("tr[data-unit=czj] [data-testid=score]")).to_have_text(
        f"{before:.2f}"
    )  # the same period as before the edit
    await screenshot(page, "assessment-what-if")

    # The draft is not in force; publishing the period records it under v1.
    await page.goto(f"{site.url}/assessment?{PERIOD}")
    await expect(page.locator("h1")).to_contain_text("v1")
    await page.get_by_test_id("publish").locator("input[name=note]").fill("一季度考核")
    await page.get_by_test_id("publish").locator("button[type=submit]").click()
    await expect(page.locator("#publications")).to_contain_text("第 1 版")
    # The published result downloads as the office's files; the workbook holds the published score.
    async with page.expect_download() as downloading:
        await page.locator("#publications a", has_text="数据 .xlsx").click()
    saved = await asyncio.to_thread(Path(await (await downloading.value).path()).read_bytes)
    sheet = load_workbook(io.BytesIO(saved))["各单位得分"]
    scores = {row[0]: row[2] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert scores["czj"] == before
    async with page.expect_download() as downloading:
        await page.locator("#publications a", has_text="考核结果 .docx").click()
    assert (await downloading.value).suggested_filename.endswith(".docx")
    # Publishing the same period again is refused with the reason, in Chinese.
    await page.goto(f"{site.url}/assessment?{PERIOD}")
    await page.get_by_test_id("publish").locator("button[type=submit]").click()
    await expect(page.get_by_test_id("error-detail")).to_contain_text("该期间已发布")
    await page.close()


async def test_a_unit_sees_only_its_own_row_and_no_editor(site: Site, context: BrowserContext) -> None:
    page = await context.new_page()
    await sign_in(page, site, "czj-wu")
    await page.goto(f"{site.url}/assessment?{PERIOD}")
    rows = page.locator("[data-testid=scores] tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-unit", "czj")
    await expect(page.get_by_test_id("breakdown")).to_contain_text("市财政局 明细")
    await expect(page.get_by_test_id("policy-editor")).to_have_count(0)
    await expect(page.get_by_test_id("publish")).to_have_count(0)
    await expect(page.get_by_test_id("what-if")).to_have_count(0)
    response = await page.goto(f"{site.url}/assessment?{PERIOD}&unit=fgw")
    assert response is not None
    assert response.status == 403
    await page.close()


async def test_a_ladder_version_replayed_over_a_past_month_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    story, _, _ = ladder_story()
    await EventLog(site.sessions).append(story.events)
    page = await context.new_page()
    await sign_in(page, site, "audit-zhao")
    await page.goto(f"{site.url}/policies/major_project/high")
    form = page.get_by_test_id("ladder-what-if")
    await form.locator("select[name=version]").select_option("1")
    await form.locator("input[name=from]").fill("2026-03-01")
    await form.locator("input[name=to]").fill("2026-03-31")
    await form.locator("button[type=submit]").click()
    replay = page.get_by_test_id("ladder-replay")
    mine = replay.locator("tbody tr", has_text=story.number)
    await expect(mine).to_have_count(2)  # the reminder and the warning the log raised, replayed the same
    for row in range(2):
        await expect(mine.nth(row)).to_contain_text("sign_for:czj")
        await expect(mine.nth(row)).to_contain_text("相同")
    await screenshot(page, "ladder-what-if")
    await page.close()

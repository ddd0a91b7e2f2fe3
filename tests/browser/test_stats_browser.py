"""The 统计 page in a real browser: ECharts draws both charts on canvases of real size, a number in
the table opens the items behind it, and a unit sees only its own row."""

from __future__ import annotations

from playwright.async_api import BrowserContext, Page, expect

from store.event_log import EventLog
from tests.api.test_stats import three_stories
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, Site, screenshot, sign_in

PERIOD = "from=2026-03-01&to=2026-06-30&as_of=2026-06-30"


async def _drawn(page: Page, chart: str) -> None:
    """ECharts drew `chart` on a canvas with a non-zero size."""
    canvas = page.locator(f"#{chart} canvas")
    await expect(canvas.first).to_be_visible()
    box = await canvas.first.bounding_box()
    assert box is not None
    assert box["width"] > 0
    assert box["height"] > 0


LAPTOP = {"width": 1366, "height": 768}

# Every table's own box on the 统计 pages, as (what, scrollWidth, clientWidth) — a box that scrolls
# sideways has more to show than it is wide.
TABLE_WIDTHS = """() => [...document.querySelectorAll('main table')].flatMap(table =>
  [table, table.parentElement].map(box => [
    `${table.getAttribute('aria-label') || table.dataset.testid} ${box.tagName}.${box.className}`,
    box.scrollWidth,
    box.clientWidth,
  ])
)"""


async def _tables_fit(page: Page, where: str) -> None:
    """No table on the page, nor the box around it, scrolls sideways."""
    widths = await page.evaluate(TABLE_WIDTHS)
    assert widths, f"no table on {where}"
    wide = [(what, scroll, client) for what, scroll, client in widths if scroll > client]
    assert not wide, f"{where} at {LAPTOP['width']} px: tables wider than their box {wide}"


async def test_the_stats_page_draws_charts_and_a_number_opens_its_items(
    site: Site, context: BrowserContext
) -> None:
    for story in three_stories():
        await EventLog(site.sessions).append(story.events)
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.click("nav >> text=统计")
    await expect(page.locator("h1")).to_contain_text("统计")
    await _drawn(page, "stats-bar")  # reached through htmx's boosted link: the charts draw too

    await page.goto(f"{site.url}/stats?{PERIOD}&figure=signed_late")
    await _drawn(page, "stats-bar")
    await _drawn(page, "stats-line")
    zjj = page.get_by_test_id("stats-groups").locator("tr[data-key=zjj]")
    await expect(zjj.get_by_test_id("value")).to_have_text("1")
    await screenshot(page, "stats")
    # A laptop's 1366×768: every table fits its box, nothing to scroll sideways.
    await page.set_viewport_size(LAPTOP)
    await _tables_fit(page, "统计")
    await page.screenshot(path=SCREENSHOTS / "stats-1366x768.png", full_page=True)
    await page.set_viewport_size(DESKTOP)

    # The form picks another figure and grouping; the chart is drawn again.
    await page.locator("select[name=group_by]").select_option("category")
    await page.locator("select[name=figure]").select_option("assigned")
    await page.get_by_test_id("stats-filters").locator("button[type=submit]").click()
    await expect(page.locator("h1")).to_contain_text("事项类别")
    await _drawn(page, "stats-bar")

    await page.goto(f"{site.url}/stats?{PERIOD}&figure=signed_late")
    await zjj.get_by_test_id("value").locator("a").click()
    items = page.get_by_test_id("figure-items")
    await expect(items.locator("tbody tr")).to_have_count(1)
    await expect(items).to_contain_text("DB-2026-000101")
    await expect(page.get_by_test_id("figure-summary")).to_contain_text("超时签收")
    assert "/stats/items?" in page.url
    await screenshot(page, "stats-items")
    await page.set_viewport_size(LAPTOP)
    await _tables_fit(page, "统计明细")
    await page.screenshot(path=SCREENSHOTS / "stats-items-1366x768.png", full_page=True)
    await page.set_viewport_size(DESKTOP)
    await items.locator("a", has_text="DB-2026-000101").click()
    await expect(page).to_have_url(f"{site.url}/items/stats-a")
    await page.close()


async def test_a_unit_sees_only_its_own_row_in_the_browser(site: Site, context: BrowserContext) -> None:
    page = await context.new_page()
    await sign_in(page, site, "czj-wu")
    await page.goto(f"{site.url}/stats?{PERIOD}")
    rows = page.get_by_test_id("stats-groups").locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-key", "czj")
    await expect(page.locator("select[name=group_by]")).to_have_count(0)
    await _drawn(page, "stats-bar")
    # At phone width the page does not scroll sideways (the wide tables scroll in their own box).
    await page.set_viewport_size(PHONE)
    await _drawn(page, "stats-line")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"统计 is {width} px wide at {PHONE['width']} px"
    await page.close()

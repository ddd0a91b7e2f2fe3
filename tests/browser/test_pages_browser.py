"""The workbench's newer parts in a real browser: the 台账 at phone width with sort and counts,
an action swapped in place by htmx, the same action as a plain form with JavaScript off, the
role queues, and the timeline and facts in Chinese with names instead of codes."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, BrowserContext, Page, expect

from store.event_log import EventLog
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, Site, act, open_item, screenshot, sign_in


async def test_the_ledger_fits_a_phone_sorts_by_header_and_counts_lights(
    site: Site, context: BrowserContext
) -> None:
    for _ in range(2):
        await open_item(site, context)
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.set_viewport_size(PHONE)
    await page.goto(f"{site.url}/items")
    await expect(page.locator("table.items tbody tr")).not_to_have_count(0)
    # htmx loads the counts after the table.
    await expect(page.get_by_test_id("counts").locator("[data-count=green] b")).to_have_text(
        re.compile(r"^\d+")
    )
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the 台账 is {width} px wide at {PHONE['width']} px"
    await screenshot(page, "ledger")
    await page.set_viewport_size(PHONE)
    await page.click("th a[data-sort=number]")
    await expect(page).to_have_url(re.compile(r"sort=number"))
    await expect(page.locator("th[aria-sort=ascending] a[data-sort=number]")).to_be_visible()
    ascending = await page.locator("table.items td.number").all_inner_texts()
    assert ascending == sorted(ascending)
    await page.click("th a[data-sort=number]")
    await expect(page).to_have_url(re.compile(r"sort=-number"))
    descending = await page.locator("table.items td.number").all_inner_texts()
    assert descending == sorted(ascending, reverse=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Names, not codes.
    await expect(page.locator("table.items td[data-label=牵头单位]").first).to_have_text("市发展和改革委员会")


async def test_an_action_swaps_the_item_panel_in_place(site: Site, context: BrowserContext) -> None:
    item_id = await open_item(site, context)
    page = await context.new_page()
    await sign_in(page, site, "fgw-li")
    await page.goto(f"{site.url}/items/{item_id}")
    await expect(page.get_by_test_id("lead-unit")).to_have_text("市发展和改革委员会")
    await expect(page.get_by_test_id("leader")).to_have_text("王建国")
    await page.evaluate("window.__sameDocument = 'yes'")
    async with page.expect_response(re.compile(r"/act/sign_for$")) as answered:
        await act(page, "sign_for")
    response = await answered.value
    assert response.status == 200
    assert "<html" not in await response.text()  # the panel only, not a page
    assert await page.evaluate("window.__sameDocument") == "yes"  # no reload happened
    await expect(page.locator("details[data-action=sign_for]")).to_have_count(0)
    await expect(page.locator("details[data-action=submit_plan]")).to_have_count(1)


async def test_the_action_form_works_without_javascript(site: Site, browser: Browser) -> None:
    setup = await browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    item_id = await open_item(site, setup)
    await setup.close()
    plain = await browser.new_context(
        viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai", java_script_enabled=False
    )
    try:
        page = await plain.new_page()
        await sign_in(page, site, "czj-wu")
        await page.goto(f"{site.url}/items/{item_id}")
        form = page.locator("details[data-action=sign_for]")
        if await form.get_attribute("open") is None:
            await form.locator("summary").click()
        async with page.expect_navigation():
            await form.locator("button[type=submit]").click()
        await expect(page).to_have_url(re.compile(rf"/items/{item_id}$"))
        await expect(page.locator("details[data-action=sign_for]")).to_have_count(0)
        assert "AssignmentSigned" in [e.type for e in await EventLog(site.sessions).read(item_id)]
    finally:
        await plain.close()


async def test_the_supervisor_sees_role_queues_and_a_chinese_timeline(
    site: Site, context: BrowserContext
) -> None:
    item_id = await open_item(site, context)
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    for queue in ("approve_plan", "decide_extension", "inspect", "evaluate", "flagged"):
        await expect(page.locator(f"section[data-queue={queue}]")).to_have_count(1)
    await expect(page.locator("section[data-queue=approve_plan] h2")).to_contain_text("待审方案")
    await page.goto(f"{site.url}/items/{item_id}")
    opened = page.locator(".timeline .event[data-type=ItemOpened]")
    await expect(opened.locator(".what")).to_have_text("立项")
    await expect(opened.locator(".actor")).to_have_text("张明")
    await page.set_viewport_size(PHONE)
    await expect(opened.locator(".actor")).to_be_visible()  # at phone width too
    await page.set_viewport_size(DESKTOP)
    await expect(opened.locator(".payload")).to_contain_text("市发展和改革委员会")
    await expect(page.locator("#timeline")).not_to_contain_text("ItemOpened")
    await expect(page.locator("#timeline")).not_to_contain_text("{'")
    await page.goto(f"{site.url}/audit/items/{item_id}")
    await expect(page.locator(".timeline")).not_to_contain_text("PolicyApplied")
    await expect(page.locator(".timeline .event[data-type=PolicyApplied] .what")).to_have_text("适用督办阶梯")


async def test_the_item_timeline_numbers_every_event_and_folds_system_entries_visibly(
    site: Site, context: BrowserContext
) -> None:
    item_id = await open_item(site, context)
    page = await context.new_page()
    await sign_in(page, site, "audit-zhao")
    before = await site.event_count(item_id)
    await page.goto(f"{site.url}/items/{item_id}")
    timeline = page.locator("#timeline")
    seqs = [
        int(s) for s in await timeline.locator(".event").evaluate_all("els => els.map(e => e.dataset.seq)")
    ]
    assert sorted(seqs) == list(range(1, len(seqs) + 1)), seqs
    assert before <= len(seqs) <= await site.event_count(item_id)
    # The folded run says how many entries it holds and which seqs; opened, it shows each of them.
    folded = timeline.locator(".folded").first
    await expect(folded.locator("summary")).to_contain_text("条系统记录 / system entries")
    await expect(folded.locator("summary .seqs")).to_have_text(re.compile(r"^#\d+(–#\d+)?$"))
    hidden = folded.locator(".event").first
    await expect(hidden).to_be_hidden()
    await folded.locator("summary").click()
    await expect(hidden).to_be_visible()
    await expect(hidden.locator(".what")).to_have_text("适用督办阶梯")
    await screenshot(page, "item-timeline-folded")
    await folded.get_by_role("link", name=re.compile("审计视图")).click()
    await expect(page).to_have_url(re.compile(rf"/audit/items/{item_id}#seq-\d+$"))
    await expect(page.locator(".timeline .folded")).to_have_count(0)  # the audit view folds nothing
    await page.close()


async def test_pages_speak_zh_cn_in_beijing_time(site: Site, context: BrowserContext) -> None:
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.goto(f"{site.url}/items/new")
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    assert await page.evaluate("navigator.language") == "zh-CN"
    zone = await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert zone == "Asia/Shanghai"
    # The date input's own face, drawn by the browser in its locale: year first, as 年/月/日.
    await page.fill("input[name=deadline]", "2028-01-07")
    shown = await page.evaluate("new Intl.DateTimeFormat(navigator.language).format(new Date(2028, 0, 7))")
    assert shown == "2028/1/7"
    await screenshot(page, "new-item-zh")


# Every collapsed part of a page opened (action forms, folded timeline rows), then how wide the page
# is and which boxes in it hold more than they are wide (a word pushing out, a table scrolling inside).
OPEN_ALL_AND_MEASURE = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true });
  const wide = [...document.querySelectorAll('main *')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => `${el.tagName}.${el.className} ${el.scrollWidth}>${el.clientWidth}`);
  return [document.documentElement.scrollWidth, wide];
}"""


async def _fits_a_phone(page: Page, name: str) -> None:
    """At 390 px, with everything folded opened, the page does not scroll sideways; saved to look at."""
    await page.set_viewport_size(PHONE)
    width, wide = await page.evaluate(OPEN_ALL_AND_MEASURE)
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}-390.png", full_page=True)
    assert width <= PHONE["width"], f"{name} is {width} px wide at {PHONE['width']} px: {wide}"
    assert not wide, f"{name} at {PHONE['width']} px: boxes wider inside than out {wide}"


async def test_the_item_page_and_the_workbench_fit_a_phone(site: Site, context: BrowserContext) -> None:
    title = "推进城区老旧小区改造暨背街小巷环境整治提升工程（含雨污分流、管网改造、加装电梯）"
    # A word that does not break by itself: a link, in the requirements and in a 留言.
    link = "https://zwgk.example.gov.cn/xxgk/tzgg/2026/12/t20261201_1234567890_laojiuxiaoqugaizao.html"
    item_id = await open_item(site, context, title=title, requirements=f"按照 {link} 的要求推进改造")
    page = await context.new_page()
    await sign_in(page, site, "fgw-li")
    await expect(page.locator("main")).to_contain_text(title)
    await _fits_a_phone(page, "workbench-unit")
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{site.url}/items/{item_id}")
    await act(page, "sign_for")
    plan = {
        "measures": "分三批推进：" + "摸底、设计、招标、施工、验收；" * 6,
        "milestone_name": "完成全部小区入户摸底调查并形成问题清单和改造方案初稿",
        "milestone_due": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d"),
    }
    await act(page, "submit_plan", plan)
    await expect(page.get_by_test_id("refusal")).to_have_count(0)
    await act(page, "comment", {"text": f"材料见 {link}"})
    await expect(page.get_by_test_id("refusal")).to_have_count(0)
    await _fits_a_phone(page, "item-unit")
    await page.set_viewport_size(DESKTOP)
    await page.click("form.who button")
    await sign_in(page, site, "sup-zhang")
    await _fits_a_phone(page, "workbench-supervisor")
    await page.goto(f"{site.url}/items/{item_id}")
    await expect(page.locator("#actions details").first).to_be_visible()
    await expect(page.locator("#timeline .folded").first).to_be_visible()
    await expect(page.locator("#timeline")).to_contain_text(link)  # the unit's 留言, as typed
    await _fits_a_phone(page, "item-supervisor")
    await page.close()

"""A whole closed loop carried through the pages by four roles, clicking and typing in chromium."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import BrowserContext, Page, expect

from domain.instants import CHINA
from tests.browser.conftest import Site, act, screenshot, sign_in, sign_out


def _day(days: int) -> str:
    return (datetime.now(CHINA) + timedelta(days=days)).strftime("%Y-%m-%d")


async def _as(page: Page, site: Site, user: str, item_id: str) -> None:
    """Sign out whoever is in, sign in as `user`, open the item from the workbench or by address."""
    if await page.locator("form.who").count():
        await sign_out(page)
    await sign_in(page, site, user)
    await page.goto(f"{site.url}/items/{item_id}")


async def _stage(page: Page, label: str) -> None:
    await expect(page.get_by_test_id("stage")).to_have_text(label)


async def test_four_roles_carry_an_item_through_the_loop_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.click("nav >> text=立项")
    await page.fill("input[name=title]", "推进老旧小区改造（浏览器）")
    await page.fill("textarea[name=requirements]", "年内完成 30 个小区改造并报送成效")
    await page.select_option("select[name=category]", "major_project")
    await page.select_option("select[name=lead_unit]", "fgw")
    await page.select_option("select[name=co_units]", ["czj"])
    await page.select_option("select[name=leader]", "leader-wang")
    await page.fill("input[name=deadline]", _day(365))
    await page.fill("input[name=tags]", "民生, 城建")
    await screenshot(page, "new-item")
    await page.click("form.form button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/items/[0-9a-f-]{36}$"))
    item_id = page.url.rsplit("/", 1)[1]
    await _stage(page, "研究部署")
    await expect(page.get_by_test_id("number")).to_have_text(re.compile(r"^DB-"))

    await sign_out(page)
    await sign_in(page, site, "fgw-li")
    await expect(page.locator(".queue")).to_contain_text("推进老旧小区改造（浏览器）")
    await expect(page.locator(".queue")).to_contain_text("签收")
    await screenshot(page, "workbench")
    await page.click("text=推进老旧小区改造（浏览器）")
    await act(page, "sign_for")
    await act(
        page,
        "submit_plan",
        {"measures": "分片包干，月度调度", "milestone_name": "完成摸底", "milestone_due": _day(90)},
    )
    await expect(page.locator("#actions")).not_to_contain_text("报送工作方案")

    await _as(page, site, "czj-wu", item_id)
    await act(page, "sign_for")

    await _as(page, site, "sup-zhang", item_id)
    await act(page, "approve_plan", {"comment": "同意"})
    await _stage(page, "狠抓落实")
    # The picker has whole seconds: the midpoint is the next whole second, and nothing happens before it.
    midpoint = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    await asyncio.sleep(1.2)

    await _as(page, site, "fgw-li", item_id)
    await act(page, "report_progress", {"summary": "摸底完成", "percent": "60"}, milestones_done="完成摸底")
    await act(page, "claim_completion", {"summary": "全部完成"})
    await _stage(page, "督促检查")

    await _as(page, site, "sup-zhang", item_id)
    await screenshot(page, "item")
    await act(
        page,
        "inspect",
        {"result": "rectify", "findings": "台账不全", "requirements": "补齐台账", "new_deadline": _day(30)},
    )
    await _stage(page, "狠抓落实")

    await _as(page, site, "fgw-li", item_id)
    await act(page, "claim_completion", {"summary": "已补齐台账"})

    await _as(page, site, "sup-zhang", item_id)
    await act(page, "inspect", {"result": "pass", "findings": "属实"})
    await _stage(page, "及时报告")
    await act(page, "submit_report", {"summary": "已按期办结"})

    await _as(page, site, "leader-wang", item_id)
    await act(page, "sign_off", {"approve": "true", "instructions": "同意，抓好长效"})
    await _stage(page, "跟踪问效")

    await _as(page, site, "sup-zhang", item_id)
    await act(page, "evaluate", {"effective": "true", "rating": "excellent"})
    await _stage(page, "办结归档")
    await expect(page.get_by_test_id("no-actions")).to_be_visible()
    await screenshot(page, "item-closed")

    await _as(page, site, "audit-zhao", item_id)
    await page.goto(f"{site.url}/audit/items/{item_id}")
    await expect(page.get_by_test_id("verify-ok")).to_be_visible()
    await expect(page.locator(".timeline .event[data-type=ItemClosed]")).to_have_count(1)
    await expect(page.locator(".timeline .event[data-type=RectificationOrdered]")).to_have_count(1)
    await page.fill("input[name=as_of]", midpoint.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S"))
    await page.click("text=回放")
    await expect(page.get_by_test_id("as-of-stage")).to_have_text("狠抓落实")
    await screenshot(page, "audit-item")
    await page.goto(f"{site.url}/audit/verify")
    await expect(page.get_by_test_id("verify-ok")).to_be_visible()


async def test_every_main_page_renders_for_its_role_at_both_widths_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(f"{site.url}/login")
    await screenshot(page, "login")
    await sign_in(page, site, "sup-zhang")
    for path, name, marker in [
        ("/items", "ledger", "台账"),
        ("/items?stage=closed", "ledger-filtered", "台账"),
        ("/notifications", "notifications", "通知"),
        ("/policies", "policies", "督办阶梯"),
    ]:
        response = await page.goto(f"{site.url}{path}")
        assert response is not None
        assert response.status == 200, path
        await expect(page.locator("h1")).to_contain_text(marker)
        await screenshot(page, name)
    await sign_out(page)
    await sign_in(page, site, "audit-zhao")
    await page.goto(f"{site.url}/audit")
    await screenshot(page, "audit-home")
    await page.goto(f"{site.url}/audit/people?actor=fgw-li")
    await expect(page.locator("main")).to_contain_text("共")
    await screenshot(page, "person")
    download = await page.request.get(f"{site.url}/audit/export")
    assert download.status in (200, 409)
    await sign_out(page)
    await sign_in(page, site, "admin")
    await page.goto(f"{site.url}/policies")
    await screenshot(page, "policies-admin")

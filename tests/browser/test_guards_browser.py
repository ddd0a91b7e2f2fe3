"""What the pages refuse, in a real browser: another unit's item, a refused action, a form without
its CSRF token, a wrong password, an expired session — and titles stay text."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import BrowserContext, expect

from store.passwords import DEMO_PASSWORD
from tests.browser.conftest import Site, act, open_item, screenshot, served, sign_in


async def test_a_unit_gets_a_404_page_for_another_units_item_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    item_id = await open_item(site, context)
    page = await context.new_page()
    await sign_in(page, site, "jtj-ma")
    response = await page.goto(f"{site.url}/items/{item_id}")
    assert response is not None
    # The same page as for an item that does not exist: the unit learns nothing of it.
    assert response.status == 404
    detail = page.get_by_test_id("error-detail")
    await expect(detail).to_contain_text(f"督办事项不存在 / no such item: {item_id}")
    await expect(page.locator("body")).not_to_contain_text("Traceback")
    await screenshot(page, "forbidden")


async def test_a_refused_action_shows_its_reason_and_writes_nothing_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    item_id = await open_item(site, context)
    page = await context.new_page()
    await sign_in(page, site, "fgw-li")
    await page.goto(f"{site.url}/items/{item_id}")
    await act(page, "sign_for")
    before = await site.event_count(item_id)
    # A plan milestone after the deadline: offered, but refused by decide for its content.
    late = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%d")
    await act(
        page, "submit_plan", {"measures": "分片包干", "milestone_name": "完成摸底", "milestone_due": late}
    )
    await expect(page.get_by_test_id("refusal")).to_contain_text("晚于办理期限")
    await expect(page.locator("details[data-action=submit_plan] textarea[name=measures]")).to_have_value(
        "分片包干"
    )
    assert await site.event_count(item_id) == before
    await screenshot(page, "refused")


async def test_a_form_post_without_the_csrf_token_is_refused_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    item_id = await open_item(site, context)
    page = await context.new_page()
    await sign_in(page, site, "fgw-li")
    before = await site.event_count(item_id)
    # The session cookie rides along (same site), but the token a page would carry does not.
    response = await page.request.post(f"{site.url}/items/{item_id}/act/sign_for", form={"x": "1"})
    assert response.status == 403
    assert "CSRF" in await response.text()
    assert await site.event_count(item_id) == before


async def test_a_script_in_a_title_shows_as_text_in_the_browser(site: Site, context: BrowserContext) -> None:
    title = "<script>window.pwned = 1</script><b>加粗</b>"
    item_id = await open_item(site, context, title=title)
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.goto(f"{site.url}/items/{item_id}")
    await expect(page.get_by_test_id("title")).to_have_text(title)
    assert await page.evaluate("window.pwned") is None
    await page.goto(f"{site.url}/items?q=pwned")
    await expect(page.locator("table.items")).to_contain_text("<script>")
    assert await page.evaluate("window.pwned") is None


async def test_a_wrong_password_is_told_and_signs_nobody_in_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(f"{site.url}/login")
    await page.fill("input[name=user_id]", "sup-zhang")
    await page.fill("input[name=password]", DEMO_PASSWORD + "x")
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    await screenshot(page, "login-failed")
    await page.goto(f"{site.url}/workbench")
    await expect(page).to_have_url(re.compile(r"/login\?next="))


async def test_an_expired_session_returns_to_the_login_page_in_the_browser(
    site: Site, context: BrowserContext
) -> None:
    async with served(site.client, site.database_url, site.task_queue, session_ttl_seconds=1) as url:
        page = await context.new_page()
        await sign_in(
            page, Site(url, site.sessions, site.database_url, site.task_queue, site.client), "fgw-li"
        )
        await asyncio.sleep(2.5)
        await page.goto(f"{url}/notifications")
        await expect(page).to_have_url(re.compile(r"/login\?next=%2Fnotifications"))
        await expect(page.locator("body")).to_contain_text("登录")

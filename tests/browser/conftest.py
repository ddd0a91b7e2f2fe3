"""The pages in a real browser: Debian's chromium driven by Playwright, against the app served by
uvicorn on a free port, with the real Temporal dev server, a real worker and a real database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bootstrap import create_app
from store.db import make_engine, make_sessions
from store.demo_org import DEMO_ORG
from store.event_log import EventLog
from store.org import OrgDirectory
from store.passwords import DEMO_PASSWORD, PasswordStore
from tests.api.conftest import app_settings, open_body
from tests.fixtures.databases import migrated_sqlite_url
from tests.fixtures.temporal import run_item_worker

SCREENSHOTS = Path("build/screenshots")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",
]
# Date and time inputs draw in the browser's own locale, which chromium on Linux takes from the
# environment (with chromium-l10n's zh-CN.pak): 年/月/日 as users here see them, not mm/dd/yyyy.
# LANGUAGE picks the language; LANG stays C.UTF-8, a locale every machine has — a zh_CN.UTF-8 the
# system has not generated makes chromium read non-ASCII file names (an upload's) as nothing.
CHROMIUM_ENV = {"LANGUAGE": "zh_CN:zh", "LANG": "C.UTF-8"}
# The demo users the tests sign in as (all share the demo password).
USERS = ("sup-zhang", "fgw-li", "czj-wu", "jtj-ma", "leader-wang", "audit-zhao", "admin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    """The app on a real port, and what a test needs to look behind it."""

    url: str
    sessions: async_sessionmaker[AsyncSession]
    database_url: str
    task_queue: str
    client: Client

    async def event_count(self, item_id: str) -> int:
        """How many audit events the item has, read from the log itself."""
        return len(await EventLog(self.sessions).read(item_id))


@asynccontextmanager
async def served(client: Client, database_url: str, task_queue: str, **overrides: Any) -> AsyncIterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1; yields its base URL."""
    app = create_app(app_settings(database_url, task_queue, **overrides), temporal_client=client)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def site(
    dev_server: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    """One app, worker and SQLite database per test module; the demo users have the demo password."""
    database_url = await migrated_sqlite_url(tmp_path_factory.mktemp("pages"))
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    queue = f"duban-pages-{uuid.uuid4()}"
    try:
        await OrgDirectory(sessions).load(DEMO_ORG)
        passwords = PasswordStore(sessions)
        for user in USERS:
            await passwords.set(user, DEMO_PASSWORD)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(run_item_worker(dev_server.client, sessions, task_queue=queue))
            url = await stack.enter_async_context(served(dev_server.client, database_url, queue))
            yield Site(url, sessions, database_url, queue, dev_server.client)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium (never a downloaded build), headless."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, env={**os.environ, **CHROMIUM_ENV}
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies) at desktop width."""
    ctx = await browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(15_000)
    yield ctx
    await ctx.close()


async def open_item(site: Site, context: BrowserContext, **overrides: object) -> str:
    """Open an item as the supervisor through the browser's own session (the JSON API needs a token)."""
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    body = open_body(**overrides)
    await page.goto(f"{site.url}/items/new")
    await page.fill("input[name=title]", str(body["title"]))
    await page.fill("textarea[name=requirements]", str(body["requirements"]))
    await page.select_option("select[name=lead_unit]", "fgw")
    await page.select_option("select[name=co_units]", ["czj"])
    await page.select_option("select[name=leader]", "leader-wang")
    await page.fill("input[name=deadline]", (datetime.now(UTC) + timedelta(days=200)).strftime("%Y-%m-%d"))
    await page.click("form.form button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/items/[0-9a-f-]{36}$"))
    item_id = page.url.rsplit("/", 1)[1]
    await page.close()
    await context.clear_cookies()
    return item_id


async def sign_in(page: Page, site: Site, user_id: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, as a person would; lands on the workbench."""
    await page.goto(f"{site.url}/login")
    await page.fill("input[name=user_id]", user_id)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/workbench$"))


async def act(page: Page, action: str, fields: dict[str, str] | None = None, **checks: str) -> None:
    """Open the action's form on the item page, fill it, submit it, and wait for htmx to settle.

    `fields` maps a field's name to a value (text and dates filled, select chosen, radio and
    checkbox values `name=value` checked); `checks` names checkboxes to tick by value.
    """
    form = page.locator(f"details[data-action={action}]")
    if await form.get_attribute("open") is None:
        await form.locator("summary").click()
    for name, value in (fields or {}).items():
        target = form.locator(f"[name={name}]").first
        kind = await target.get_attribute("type")
        tag = await target.evaluate("element => element.tagName")
        if kind in ("radio", "checkbox"):
            await form.locator(f"[name={name}][value='{value}']").check()
        elif tag == "SELECT":
            await target.select_option(value)
        else:
            await target.fill(value)
    for name, value in checks.items():
        await form.locator(f"[name={name}][value='{value}']").check()
    await page.evaluate(
        "window.__settled = false;"
        " document.body.addEventListener('htmx:afterSettle', () => { window.__settled = true }, {once: true})"
    )
    await form.locator("button[type=submit]").click()
    await page.wait_for_function("window.__settled === true")


async def sign_out(page: Page) -> None:
    """The header's 退出 button."""
    await page.click("form.who button")
    await expect(page).to_have_url(re.compile(r"/login$"))


async def screenshot(page: Page, name: str) -> None:
    """Save the page at desktop width, then at phone width (and back), under build/screenshots/."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)

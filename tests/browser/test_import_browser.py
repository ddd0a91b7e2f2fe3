"""批量立项 in a real browser: from the 台账 to the template, upload, a preview marking the wrong
cell, confirmation of the valid rows, and a second confirmation that opens nothing new."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path

from playwright.async_api import BrowserContext, Page, expect

from domain.instants import CHINA
from store.items import ItemFilter, ItemQueries
from tests.api.import_books import fill_template
from tests.browser.conftest import Site, screenshot, sign_in


def _row(title: str, **cells: str) -> dict[str, str]:
    ahead = (datetime.now(CHINA) + timedelta(days=180)).date().isoformat()
    values = {
        "标题": title,
        "工作要求": "按会议要求推进",
        "类别": "重大政策",
        "来源": "会议决定",
        "牵头单位": "市教育局",
        "责任领导": "王建国",
        "办理时限": ahead,
    }
    values.update(cells)
    return values


async def _preview(page: Page, path: Path) -> None:
    """Choose `path` in the upload form and ask for its preview."""
    await page.set_input_files("input[name=file]", str(path))
    await page.get_by_role("button", name="上传并预览").click()


async def _titles(site: Site) -> list[str]:
    page = await ItemQueries(site.sessions).list(
        ItemFilter(text="导入", limit=200, offset=0), now=datetime.now(CHINA), visible_to_unit=None
    )
    return sorted(state.title for state in page.states)


async def test_import_previews_marks_the_wrong_cell_and_opens_the_valid_rows(
    site: Site, context: BrowserContext, tmp_path: Path
) -> None:
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.goto(f"{site.url}/items")
    await page.get_by_test_id("import-link").click()
    await expect(page).to_have_url(re.compile(r"/items/import$"))

    async with page.expect_download() as downloading:
        await page.get_by_test_id("template").click()
    download = await downloading.value
    template = await asyncio.to_thread(Path(await download.path()).read_bytes)
    rows = [
        _row("导入事项一"),
        _row("导入事项二", 办理时限="明年六月"),
        _row("导入事项三", 协办单位="市财政局"),
    ]
    upload = tmp_path / "会议决定事项.xlsx"
    await asyncio.to_thread(upload.write_bytes, fill_template(template, rows))

    await _preview(page, upload)
    await expect(page.get_by_test_id("summary")).to_contain_text("预览：共 3 行，2 行可立项，1 行有误")
    wrong = page.locator("tr[data-row='3'] td.cell-error")
    await expect(wrong).to_have_count(1)
    await expect(wrong).to_have_attribute("data-column", "办理时限")
    await expect(wrong).to_have_text("明年六月")
    await expect(page.get_by_test_id("problems")).to_contain_text(
        "第 3 行「办理时限」：日期格式应为 YYYY-MM-DD"
    )
    await screenshot(page, "import-preview")
    assert await _titles(site) == []  # the preview opened nothing

    await page.get_by_role("button", name="仅立项无误的 2 行").click()
    await expect(page.get_by_test_id("summary")).to_contain_text("新立项 2 项")
    await expect(page.locator("tr.status-opened")).to_have_count(2)
    assert await _titles(site) == ["导入事项一", "导入事项三"]
    await page.locator("tr[data-row='4'] a").click()
    await expect(page.locator("h1")).to_contain_text("导入事项三")

    # The same file again, confirmed again: every row was opened before, nothing new.
    await page.goto(f"{site.url}/items/import")
    await _preview(page, upload)
    await page.get_by_role("button", name="仅立项无误的 2 行").click()
    await expect(page.get_by_test_id("summary")).to_contain_text("2 行此前已立项")
    assert await _titles(site) == ["导入事项一", "导入事项三"]


async def test_a_file_that_is_not_a_workbook_is_refused_on_the_page(
    site: Site, context: BrowserContext, tmp_path: Path
) -> None:
    page = await context.new_page()
    await sign_in(page, site, "sup-zhang")
    await page.goto(f"{site.url}/items/import")
    text = tmp_path / "清单.xlsx"
    await asyncio.to_thread(text.write_bytes, "标题,类别\n".encode())
    await _preview(page, text)
    await expect(page.get_by_test_id("import-problem")).to_contain_text("不是有效的 Excel 工作簿")
    await expect(page.get_by_test_id("report")).to_have_count(0)

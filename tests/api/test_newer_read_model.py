"""A read-model row written by a newer duban (a rolling upgrade, or a rollback): the lists and the
item answer 503 naming the cause, logged once, instead of a bare 500; the row rebuilt from the log
reads again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import structlog
from sqlalchemy import update
from temporalio.client import Client

from api.errors import NEWER_DATA, RETRY_AFTER_SECONDS
from store.event_log import EventLog
from store.projection import READ_MODEL_VERSION
from store.schema import items
from tests.api.conftest import SUPERVISOR, Api, append_stories, running_api
from tests.api.test_pages_http import _signed_in
from tests.store.stories import ItemStory


@pytest.fixture
async def api(database_url: str, temporal_client: Client) -> AsyncIterator[Api]:
    """Two items in the log, one of them with its row rewritten in a version this release does not know."""
    async with running_api(database_url, temporal_client, worker=False) as served:
        old, new = (
            ItemStory("item-old", number="DB-2026-000001"),
            ItemStory("item-new", number="DB-2026-000002"),
        )
        old.open()
        new.open(title="新版本写入的事项")
        await append_stories(served, old, new)
        newer = {"version": READ_MODEL_VERSION + 1, "state": new.state.model_dump(mode="json")}
        async with served.sessions() as session, session.begin():
            await session.execute(update(items).where(items.c.id == "item-new").values(state=newer))
        yield served


async def test_a_row_of_a_newer_release_answers_503_naming_the_cause_logged_once(api: Api) -> None:
    with structlog.testing.capture_logs() as lines:
        answers = [
            await api.get("/api/items", SUPERVISOR),
            await api.get("/api/items?sort=number", SUPERVISOR),
            await api.get("/api/items/item-new", SUPERVISOR),
        ]

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"] == NEWER_DATA
        assert answer.json()["detail"].startswith("数据由更新版本写入")
        assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    warned = [line for line in lines if line["event"] == "read model written by a newer duban"]
    assert len(warned) == 1
    assert f"version {READ_MODEL_VERSION + 1} is unknown" in warned[0]["error"]
    assert not [line for line in lines if line["log_level"] == "error"]
    assert (await api.get("/api/items/item-old", SUPERVISOR)).status_code == 200


async def test_the_row_rebuilt_from_the_log_lists_again(api: Api) -> None:
    await EventLog(api.sessions).rebuild_read_model("item-new")

    listed = await api.get("/api/items", SUPERVISOR)

    assert listed.status_code == 200, listed.text
    assert {item["id"] for item in listed.json()["items"]} == {"item-old", "item-new"}


async def test_the_ledger_page_answers_the_same_503(api: Api) -> None:
    async with _signed_in(api, SUPERVISOR) as page:
        answer = await page.get("/items")
    assert answer.status_code == 503
    assert answer.json()["detail"] == NEWER_DATA

"""GET /api/me/notifications and marking read, over real HTTP through the ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.notify import ChannelSettings
from api.auth import issue_token
from bootstrap import create_app, notify_activities
from settings import Settings
from store.demo_org import DEMO_ORG
from store.org import OrgDirectory
from workflows.messages import DeliveryRequest, Notice


def notice(seq: int, kind: str = "reminder") -> Notice:
    """A notice about one item, caused by its event `seq`."""
    return Notice(
        item_id="item-inbox",
        number="DB-2026-000009",
        title="推进老旧小区改造",
        kind=kind,
        message=f"第 {seq} 号事件的提醒",
        due=datetime(2026, 10, 9, 10, tzinfo=UTC),
        event_seq=seq,
    )


class Client:
    """The app over HTTP, signed in as whoever a call names."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    def headers(self, user: str) -> dict[str, str]:
        """The bearer header of `user`."""
        return {"Authorization": f"Bearer {issue_token(self.settings, user)}"}

    async def get(self, path: str, user: str, **params: str | int | bool) -> httpx.Response:
        """GET as `user`."""
        return await self.http.get(path, headers=self.headers(user), params=params)

    async def post(self, path: str, user: str) -> httpx.Response:
        """POST as `user`."""
        return await self.http.post(path, headers=self.headers(user))


@pytest.fixture
async def client(database_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Client]:
    """The app on the test database (its Temporal client is lazy and never used here), with four notices."""
    await OrgDirectory(sessions).load(DEMO_ORG)
    async with httpx.AsyncClient() as robots:
        activities = notify_activities(sessions, ChannelSettings(), robots)
        for seq, user, kind in [
            (3, "fgw-li", "reminder"),
            (5, "fgw-li", "warning"),
            (8, "fgw-li", "overdue"),
        ]:
            await activities.deliver_notification(
                DeliveryRequest(notice=notice(seq, kind), recipient=user, channel="inbox")
            )
        await activities.deliver_notification(
            DeliveryRequest(notice=notice(5), recipient="czj-wu", channel="inbox")
        )
    settings = Settings(_env_file=None, environment="test", database_url=database_url)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://duban.test") as http,
    ):
        yield Client(http, settings)


async def test_a_user_lists_their_notices_newest_first_with_counts(client: Client) -> None:
    response = await client.get("/api/me/notifications", "fgw-li")

    assert response.status_code == 200
    body = response.json()
    assert [(n["event_seq"], n["kind"], n["read"]) for n in body["notifications"]] == [
        (8, "overdue", False),
        (5, "warning", False),
        (3, "reminder", False),
    ]
    assert (body["total"], body["unread"], body["limit"], body["offset"]) == (3, 3, 50, 0)
    first = body["notifications"][0]
    assert first["number"] == "DB-2026-000009"
    assert first["message"] == "第 8 号事件的提醒"
    assert first["due"] == "2026-10-09T10:00:00Z"


async def test_pages_follow_limit_and_offset(client: Client) -> None:
    response = await client.get("/api/me/notifications", "fgw-li", limit=2, offset=1)

    assert [n["event_seq"] for n in response.json()["notifications"]] == [5, 3]
    assert response.json()["total"] == 3


async def test_marking_one_read_leaves_it_out_of_the_unread_filter(client: Client) -> None:
    listed = (await client.get("/api/me/notifications", "fgw-li")).json()["notifications"]
    target = next(n for n in listed if n["event_seq"] == 5)

    marked = await client.post(f"/api/me/notifications/{target['id']}/read", "fgw-li")
    unread = (await client.get("/api/me/notifications", "fgw-li", unread=True)).json()

    assert marked.status_code == 200
    assert marked.json()["read"] is True
    assert marked.json()["read_at"] is not None
    assert [n["event_seq"] for n in unread["notifications"]] == [8, 3]
    assert (unread["total"], unread["unread"]) == (2, 2)


async def test_mark_all_read_empties_the_unread_filter(client: Client) -> None:
    response = await client.post("/api/me/notifications/read-all", "fgw-li")
    again = await client.post("/api/me/notifications/read-all", "fgw-li")
    unread = (await client.get("/api/me/notifications", "fgw-li", unread=True)).json()

    assert response.json() == {"marked": 3}
    assert again.json() == {"marked": 0}
    assert (unread["notifications"], unread["unread"]) == ([], 0)
    others = (await client.get("/api/me/notifications", "czj-wu", unread=True)).json()
    assert others["unread"] == 1


async def test_a_user_never_sees_nor_marks_another_users_notice(client: Client) -> None:
    theirs = (await client.get("/api/me/notifications", "czj-wu")).json()["notifications"]
    [only] = theirs

    mine = (await client.get("/api/me/notifications", "fgw-li")).json()["notifications"]
    refused = await client.post(f"/api/me/notifications/{only['id']}/read", "fgw-li")
    still = (await client.get("/api/me/notifications", "czj-wu", unread=True)).json()

    assert only["id"] not in {n["id"] for n in mine}
    assert refused.status_code == 404
    assert refused.json()["detail"].startswith("消息不存在")
    assert still["unread"] == 1
    assert (await client.get("/api/me/notifications", "leader-top")).json()["total"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/me/notifications"),
        ("POST", "/api/me/notifications/1/read"),
        ("POST", "/api/me/notifications/read-all"),
    ],
)
async def test_the_inbox_needs_a_token(client: Client, method: str, path: str) -> None:
    response = await client.http.request(method, path)

    assert response.status_code == 401
    assert response.json()["detail"].startswith("需要登录")

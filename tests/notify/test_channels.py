"""deliver_notification over real channels: the inbox, a real SMTP server, a real robot receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from store.inbox import Inbox
from tests.notify.conftest import DING_SECRET, SENDER, Mailbox, NotifyHarness, channels
from workflows.messages import DeliveryRequest, Notice

NOTICE = Notice(
    item_id="item-ch",
    number="DB-2026-000042",
    title="推进老旧小区改造",
    kind="overdue",
    message="计划报送已超期 3 个工作日，请立即办理",
    rule="plan.overdue",
    due=datetime(2026, 10, 9, 10, tzinfo=UTC),
    event_seq=12,
)

EXPECTED_BODY = (
    "计划报送已超期 3 个工作日，请立即办理\n"
    "\n"
    "督办事项 / item：DB-2026-000042 推进老旧小区改造\n"
    "期限 / due：2026-10-09 18:00（北京时间）\n"
    "规则 / rule：plan.overdue\n"
)
EXPECTED_MARKDOWN = (
    "### 【督办超期】DB-2026-000042 推进老旧小区改造\n"
    "\n"
    "计划报送已超期 3 个工作日，请立即办理\n"
    "\n"
    "- 期限 / due：2026-10-09 18:00（北京时间）\n"
    "- 规则 / rule：plan.overdue"
)


def delivery(recipient: str, channel: str, address: str = "", *, digest: bool = False) -> DeliveryRequest:
    """One delivery of NOTICE."""
    return DeliveryRequest(
        notice=NOTICE, recipient=recipient, channel=channel, address=address, digest=digest
    )


async def test_email_reaches_a_real_smtp_server_with_the_exact_subject_and_body(
    notify: NotifyHarness, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server

    outcome = await notify.activities(channels(port)).deliver_notification(
        delivery("leader-wang", "email", "leader-wang@duban.example")
    )

    assert outcome.delivered
    assert not outcome.queued
    assert outcome.detail == "邮件已发送 / emailed to leader-wang@duban.example"
    [(recipients, message)] = mailbox.messages
    assert recipients == ["leader-wang@duban.example"]
    assert message["From"] == SENDER
    assert message["Subject"] == "【督办超期】DB-2026-000042 推进老旧小区改造"
    assert message["Message-ID"] == "<duban.item-ch.12.leader-wang@duban>"
    assert message.get_content().replace("\r\n", "\n") == EXPECTED_BODY  # SMTP carries CRLF line ends


async def test_an_unreachable_smtp_server_raises_a_retryable_failure(notify: NotifyHarness) -> None:
    with pytest.raises(ApplicationError) as failure:
        await notify.activities(channels(1)).deliver_notification(
            delivery("leader-wang", "email", "leader-wang@duban.example")
        )

    assert not failure.value.non_retryable
    assert failure.value.message.startswith("邮件发送失败 / SMTP failed")


async def test_dingtalk_robot_gets_the_exact_markdown_json_with_a_valid_sign(notify: NotifyHarness) -> None:
    outcome = await notify.activities(channels()).deliver_notification(delivery("fgw", "dingtalk"))

    assert outcome.delivered
    [posted] = notify.receiver.at("/dingtalk")
    assert posted.body == {
        "msgtype": "markdown",
        "markdown": {"title": "【督办超期】DB-2026-000042", "text": EXPECTED_MARKDOWN},
        "at": {"atMobiles": [], "isAtAll": False},
    }
    assert posted.query["access_token"] == "fgw-token"
    expected_sign = base64.b64encode(
        hmac.new(
            DING_SECRET.encode(), f"{posted.query['timestamp']}\n{DING_SECRET}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert posted.query["sign"] == expected_sign  # parse_qs has undone the URL encoding


async def test_wecom_robot_gets_the_exact_markdown_json(notify: NotifyHarness) -> None:
    outcome = await notify.activities(channels()).deliver_notification(delivery("czj", "wecom"))

    assert outcome.delivered
    [posted] = notify.receiver.at("/wecom")
    assert posted.body == {"msgtype": "markdown", "markdown": {"content": EXPECTED_MARKDOWN}}
    assert posted.query == {"key": "czj-key"}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        pytest.param("/down", "返回 HTTP 503", id="http-503"),
        pytest.param("/refuse", "拒收 errcode 310000: sign not match", id="errcode"),
    ],
)
async def test_a_robot_that_fails_or_refuses_raises_a_retryable_failure_without_its_token(
    notify: NotifyHarness, path: str, reason: str
) -> None:
    notify.use_robots(ding=path)

    with pytest.raises(ApplicationError) as failure:
        await notify.activities(channels()).deliver_notification(delivery("fgw", "dingtalk"))

    assert not failure.value.non_retryable
    assert reason in failure.value.message
    assert "fgw-token" not in failure.value.message


async def test_robots_switched_off_refuse_for_good(notify: NotifyHarness) -> None:
    with pytest.raises(ApplicationError) as failure:
        await notify.activities(channels(webhooks=False)).deliver_notification(delivery("czj", "wecom"))

    assert failure.value.non_retryable
    assert notify.receiver.received == []


async def test_a_retried_inbox_delivery_leaves_one_notice(notify: NotifyHarness) -> None:
    activities = notify.activities(channels())

    first = await activities.deliver_notification(delivery("fgw-li", "inbox"))
    again = await activities.deliver_notification(delivery("fgw-li", "inbox"))

    assert (first.delivered, again.delivered) == (True, True)
    assert again.detail == "站内消息已在 / already in the inbox"
    page = await Inbox(notify.sessions).page("fgw-li", unread_only=False, limit=10, offset=0)
    assert [(e.item_id, e.event_seq, e.kind, e.message) for e in page.entries] == [
        ("item-ch", 12, "overdue", NOTICE.message)
    ]
    # The header badge's count agrees, and falls to zero once read.
    inbox = Inbox(notify.sessions)
    assert (await inbox.unread("fgw-li"), await inbox.unread("czj-wu")) == (1, 0)
    await inbox.mark_all_read("fgw-li", datetime.now(UTC))
    assert await inbox.unread("fgw-li") == 0


async def test_a_routine_delivery_is_queued_for_the_digest_and_sends_nothing(
    notify: NotifyHarness, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    activities = notify.activities(channels(port))

    email = await activities.deliver_notification(
        delivery("fgw-li", "email", "fgw-li@duban.example", digest=True)
    )
    robot = await activities.deliver_notification(delivery("fgw", "dingtalk", digest=True))

    assert email.queued
    assert robot.queued
    assert mailbox.messages == []
    assert notify.receiver.received == []

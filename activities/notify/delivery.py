"""The notify activities: plan a notice's deliveries, deliver one, and send the daily digests.

Each delivery is at-least-once: the inbox and the digest queue are keyed by the notice, so a
retry writes nothing twice; an email or robot message re-sent after a lost acknowledgement
carries the same Message-ID or title, which is the most a channel without idempotency allows.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notify import render
from activities.notify.channels import (
    ChannelSettings,
    dingtalk_payload,
    dingtalk_signed_url,
    post_robot,
    send_email,
    wecom_payload,
)
from activities.notify.plan import DINGTALK, EMAIL, INBOX, WECOM, plan
from domain.org import OrgChart
from store.digest_queue import DigestEntry, DigestKey, DigestQueue
from store.inbox import Inbox, InboxNotice
from store.org import OrgDirectory
from workflows.digest_messages import (
    COLLECT_DIGESTS_ACTIVITY,
    SEND_DIGEST_ACTIVITY,
    CoveredItem,
    DigestBatch,
    DigestBatches,
    DigestRun,
    DigestSent,
)
from workflows.messages import (
    NOTIFY_DELIVER_ACTIVITY,
    NOTIFY_PLAN_ACTIVITY,
    DeliveryOutcome,
    DeliveryPlan,
    DeliveryRequest,
    Notice,
    PlanDeliveries,
)

ROBOT_NAMES = {DINGTALK: "钉钉机器人", WECOM: "企业微信机器人"}


def _now() -> datetime:
    return datetime.now(UTC)


def _not_retryable(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _message_id(notice: Notice, recipient: str) -> str:
    return f"<duban.{notice.item_id}.{notice.event_seq}.{recipient}@duban>"


class NotifyActivities:
    """Activities bound to their stores, the channel settings and one HTTP client.

    Everything is handed in (`bootstrap.notify_activities` builds it). Without an HTTP client the
    robots are off whatever the settings say: the worker's owner opens and closes the client.
    """

    def __init__(
        self,
        org: OrgDirectory,
        inbox: Inbox,
        queue: DigestQueue,
        channels: ChannelSettings,
        http: httpx.AsyncClient | None,
    ) -> None:
        self._org = org
        self._inbox = inbox
        self._queue = queue
        self._channels = channels
        self._http = http

    @activity.defn(name=NOTIFY_PLAN_ACTIVITY)
    async def plan_deliveries(self, request: PlanDeliveries) -> DeliveryPlan:
        """Resolve the audience against the org chart as it is now: one delivery per recipient and channel."""
        chart = OrgChart(units=await self._org.units(), users=await self._org.users())
        return DeliveryPlan(deliveries=plan(chart, request, self._channels))

    @activity.defn(name=NOTIFY_DELIVER_ACTIVITY)
    async def deliver_notification(self, request: DeliveryRequest) -> DeliveryOutcome:
        """Deliver one notice over one channel; raise (and be retried) when the channel fails."""
        outcome = DeliveryOutcome(recipient=request.recipient, channel=request.channel, delivered=True)
        if request.channel == INBOX:
            added = await self._inbox.add(request.recipient, _inbox_notice(request.notice), _now())
            detail = "已送达站内消息 / in the inbox" if added else "站内消息已在 / already in the inbox"
            return outcome.model_copy(update={"detail": detail})
        if request.digest:
            await self._queue.queue(_digest_entry(request), _now())
            return outcome.model_copy(
                update={"queued": True, "detail": "已排入每日提醒汇总 / queued for the daily digest"}
            )
        notice = request.notice
        if request.channel == EMAIL:
            address = request.address or await self._email_of(request.recipient)
            body = render.email_body(notice)
            await self._email(
                address, render.email_subject(notice), body, _message_id(notice, request.recipient)
            )
            return outcome.model_copy(update={"detail": f"邮件已发送 / emailed to {address}"})
        await self._robot(
            request.recipient,
            request.channel,
            render.robot_title(notice),
            render.robot_markdown(notice),
        )
        return outcome.model_copy(update={"detail": f"{ROBOT_NAMES[request.channel]}已发送 / posted"})

    @activity.defn(name=COLLECT_DIGESTS_ACTIVITY)
    async def collect_digests(self, run: DigestRun) -> DigestBatches:
        """Claim the waiting routine reminders for `run.day`'s digests; the digests still to send."""
        batches = []
        for key in await self._queue.claim(run.day, _now()):
            entries = await self._queue.entries(key)
            covered: dict[str, list[int]] = {}
            for entry in entries:
                covered.setdefault(entry.item_id, []).append(entry.event_seq)
            batches.append(
                DigestBatch(
                    recipient=key.recipient,
                    channel=key.channel,
                    day=key.day,
                    covered=[CoveredItem(item_id=item, event_seqs=seqs) for item, seqs in covered.items()],
                )
            )
        return DigestBatches(batches=batches)

    @activity.defn(name=SEND_DIGEST_ACTIVITY)
    async def send_digest(self, batch: DigestBatch) -> DigestSent:
        """Send one recipient's digest of the day once; a retry after success sends nothing."""
        key = DigestKey(recipient=batch.recipient, channel=batch.channel, day=batch.day)
        if await self._queue.is_sent(key):
            return DigestSent(detail="当日汇总已发送 / the day's digest had gone out")
        notices = [Notice.model_validate(entry.notice) for entry in await self._queue.entries(key)]
        if batch.channel == EMAIL:
            address = await self._email_of(batch.recipient)
            message_id = f"<duban.digest.{batch.day}.{batch.recipient}@duban>"
            subject, body = render.digest_subject(batch.day, notices), render.digest_body(batch.day, notices)
            await self._email(address, subject, body, message_id)
            detail = f"每日汇总邮件已发送 / digest emailed to {address}"
        else:
            title = render.digest_subject(batch.day, notices)
            await self._robot(
                batch.recipient, batch.channel, title, render.digest_markdown(batch.day, notices)
            )
            detail = f"每日汇总{ROBOT_NAMES[batch.channel]}已发送 / digest posted"
        await self._queue.mark_sent(key, _now())
        return DigestSent(detail=detail)

    async def _email_of(self, user_id: str) -> str:
        user = await self._org.user(user_id)
        if user is None or not user.email:
            raise _not_retryable(f"用户 {user_id} 没有邮箱 / no email address", "NoAddress")
        return user.email

    async def _email(self, address: str, subject: str, body: str, message_id: str) -> None:
        if not self._channels.email_enabled:
            raise _not_retryable("未配置邮件服务器 / SMTP_HOST is not set", "EmailDisabled")
        await send_email(self._channels, address, subject, body, message_id)

    async def _robot(self, unit_id: str, channel: str, title: str, markdown: str) -> None:
        robots = self._channels.robots.get(unit_id)
        name = ROBOT_NAMES.get(channel)
        if name is None:
            raise _not_retryable(f"未知渠道 {channel} / unknown channel", "UnknownChannel")
        robot = f"单位 {unit_id} 的{name}"
        if not self._channels.webhooks_enabled or self._http is None:
            raise _not_retryable(f"{robot}：机器人推送未开启 / WEBHOOKS_ENABLED is off", "RobotsDisabled")
        timeout = self._channels.webhook_timeout_seconds
        if channel == DINGTALK and robots is not None and robots.dingtalk_webhook:
            url = robots.dingtalk_webhook.get_secret_value()
            if robots.dingtalk_secret:
                secret = robots.dingtalk_secret.get_secret_value()
                url = dingtalk_signed_url(url, secret, int(time.time() * 1000))
            await post_robot(self._http, url, dingtalk_payload(title, markdown), timeout, robot)
            return
        if channel == WECOM and robots is not None and robots.wecom_webhook:
            url = robots.wecom_webhook.get_secret_value()
            await post_robot(self._http, url, wecom_payload(markdown), timeout, robot)
            return
        raise _not_retryable(f"{robot}未配置 / no robot configured", "NoRobot")


def _inbox_notice(notice: Notice) -> InboxNotice:
    return InboxNotice.model_validate(notice.model_dump())


def _digest_entry(request: DeliveryRequest) -> DigestEntry:
    return DigestEntry(
        item_id=request.notice.item_id,
        event_seq=request.notice.event_seq,
        recipient=request.recipient,
        channel=request.channel,
        notice=request.notice.model_dump(mode="json"),
    )

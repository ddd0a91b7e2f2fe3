"""The daily digest: one message per recipient, channel and day, reported to every item it covered."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.notify.conftest import Mailbox, NotifyHarness, channels
from tests.notify.probes import ItemProbeWorkflow
from workflows.digest import DigestWorkflow
from workflows.digest_messages import DigestReport, DigestRun
from workflows.messages import DeliveryRequest, DigestOutcome, Notice, workflow_id_for

DAY = "2026-10-09"


def reminder(item: str, seq: int, message: str) -> Notice:
    """A routine reminder about `item`, caused by its audit event `seq`."""
    return Notice(
        item_id=item,
        number=f"DB-2026-{seq:06d}",
        title=f"事项 {item}",
        kind="reminder",
        message=message,
        event_seq=seq,
    )


def queued(notice: Notice, recipient: str, channel: str) -> DeliveryRequest:
    """The digest delivery of `notice` to `recipient` over `channel`."""
    address = f"{recipient}@duban.example" if channel == "email" else ""
    return DeliveryRequest(notice=notice, recipient=recipient, channel=channel, address=address, digest=True)


@asynccontextmanager
async def digest_worker(env: WorkflowEnvironment, notify: NotifyHarness, port: int) -> AsyncIterator[str]:
    """A real worker with the digest workflow, the notify activities and the item stand-in."""
    activities = notify.activities(channels(port))
    task_queue = f"digest-test-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[DigestWorkflow, ItemProbeWorkflow],
        activities=[activities.collect_digests, activities.send_digest],
    ):
        yield task_queue


async def run_digest(client: Client, task_queue: str, day: str) -> DigestReport:
    """Run one day's digest to the end."""
    return await client.execute_workflow(
        DigestWorkflow.run, DigestRun(day=day), id=f"digest-{uuid.uuid4()}", task_queue=task_queue
    )


async def item_probe(
    client: Client, task_queue: str, item: str, expected: int
) -> WorkflowHandle[ItemProbeWorkflow, list[DigestOutcome]]:
    """Start the stand-in for `item`'s workflow, under the item's own workflow id."""
    return await client.start_workflow(
        ItemProbeWorkflow.run,
        expected,
        id=workflow_id_for(item),
        task_queue=task_queue,
    )


async def test_several_reminders_for_one_person_on_one_day_make_one_digest_email(
    notify_time_server: WorkflowEnvironment, notify: NotifyHarness, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    client = notify_time_server.client
    item_a, item_b = f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
    first, second, third = (
        reminder(item_a, 5, "计划报送将于 2 个工作日后到期"),
        reminder(item_a, 9, "第一个时间节点将于 2 个工作日后到期"),
        reminder(item_b, 3, "签收将于 2 个工作日后到期"),
    )
    activities = notify.activities(channels(port))
    for request in (
        queued(first, "fgw-li", "email"),
        queued(second, "fgw-li", "email"),
        queued(third, "fgw-li", "email"),
        queued(third, "czj-wu", "email"),
        queued(first, "fgw", "dingtalk"),
    ):
        assert (await activities.deliver_notification(request)).queued
    assert mailbox.messages == []

    async with digest_worker(notify_time_server, notify, port) as task_queue:
        probe_a = await item_probe(client, task_queue, item_a, expected=2)
        probe_b = await item_probe(client, task_queue, item_b, expected=2)

        report = await run_digest(client, task_queue, DAY)
        again = await run_digest(client, task_queue, DAY)
        outcomes_a, outcomes_b = await probe_a.result(), await probe_b.result()

    assert report == DigestReport(day=DAY, sent=3, failed=0)
    assert again == DigestReport(day=DAY, sent=0, failed=0)
    by_recipient = {recipients[0]: message for recipients, message in mailbox.messages}
    assert len(mailbox.messages) == 2
    assert set(by_recipient) == {"fgw-li@duban.example", "czj-wu@duban.example"}
    digest = by_recipient["fgw-li@duban.example"]
    assert digest["Subject"] == f"【督办提醒汇总】{DAY} 共 3 条 / daily reminders"
    body = digest.get_content().replace("\r\n", "\n")
    assert body.startswith(f"{DAY} 督办提醒汇总 / daily reminders (3)\n\n---\n\n{first.message}\n")
    assert body.index(first.message) < body.index(second.message) < body.index(third.message)
    assert (
        by_recipient["czj-wu@duban.example"]["Subject"] == f"【督办提醒汇总】{DAY} 共 1 条 / daily reminders"
    )
    [robot] = notify.receiver.at("/dingtalk")
    assert robot.body["markdown"]["title"] == f"【督办提醒汇总】{DAY} 共 1 条 / daily reminders"

    assert sorted((o.recipient, o.channel, tuple(o.event_seqs), o.delivered) for o in outcomes_a) == [
        ("fgw", "dingtalk", (5,), True),
        ("fgw-li", "email", (5, 9), True),
    ]
    assert sorted((o.recipient, o.channel, tuple(o.event_seqs), o.delivered) for o in outcomes_b) == [
        ("czj-wu", "email", (3,), True),
        ("fgw-li", "email", (3,), True),
    ]
    assert all(o.day == DAY for o in outcomes_a + outcomes_b)


async def test_a_reminder_queued_after_the_days_digest_waits_for_the_next_day(
    notify_time_server: WorkflowEnvironment, notify: NotifyHarness, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    client = notify_time_server.client
    activities = notify.activities(channels(port))
    # No workflow runs for "closed-item": the digest's outcome signal finds none and the digest goes on.
    await activities.deliver_notification(
        queued(reminder("closed-item", 4, "早上的提醒"), "fgw-zhou", "email")
    )

    async with digest_worker(notify_time_server, notify, port) as task_queue:
        morning = await run_digest(client, task_queue, DAY)
        await activities.deliver_notification(
            queued(reminder("closed-item", 6, "下午的提醒"), "fgw-zhou", "email")
        )
        evening = await run_digest(client, task_queue, DAY)
        tomorrow = await run_digest(client, task_queue, "2026-10-10")

    assert (morning.sent, evening.sent, tomorrow.sent) == (1, 0, 1)
    subjects = [message["Subject"] for _, message in mailbox.messages]
    assert subjects == [
        f"【督办提醒汇总】{DAY} 共 1 条 / daily reminders",
        "【督办提醒汇总】2026-10-10 共 1 条 / daily reminders",
    ]


async def test_a_digest_to_a_dead_robot_is_reported_failed_to_its_items(
    notify_time_server: WorkflowEnvironment, notify: NotifyHarness
) -> None:
    notify.use_robots(wecom="/down")
    client = notify_time_server.client
    item = f"c-{uuid.uuid4().hex[:8]}"
    await notify.activities(channels()).deliver_notification(
        queued(reminder(item, 2, "提醒"), "czj", "wecom")
    )

    async with digest_worker(notify_time_server, notify, 0) as task_queue:
        probe = await item_probe(client, task_queue, item, expected=1)
        report = await run_digest(client, task_queue, DAY)
        [outcome] = await probe.result()

    assert report == DigestReport(day=DAY, sent=0, failed=1)
    assert outcome == DigestOutcome(
        item_id=item,
        event_seqs=[2],
        recipient="czj",
        channel="wecom",
        day=DAY,
        delivered=False,
        detail="单位 czj 的企业微信机器人返回 HTTP 503 / robot refused",
    )
    assert len(notify.receiver.at("/down")) == 5

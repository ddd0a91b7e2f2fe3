"""A dead channel is retried with backoff, then reported `failed`; the calling workflow goes on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.notify.conftest import NotifyHarness, channels
from tests.notify.probes import DeliveryProbeWorkflow
from workflows.messages import DELIVERY_RETRY, DeliveryOutcome, DeliveryRequest, Notice

NOTICE = Notice(
    item_id="item-retry",
    number="DB-2026-000077",
    title="推进老旧小区改造",
    kind="top",
    message="挂牌督办：计划报送超期 7 个工作日",
    due=datetime(2026, 10, 9, 10, tzinfo=UTC),
    event_seq=21,
)


async def deliver_through_worker(
    env: WorkflowEnvironment, notify: NotifyHarness, request: DeliveryRequest
) -> DeliveryOutcome:
    """Run the probe workflow on a real worker of the time-skipping server."""
    activities = notify.activities(channels())
    task_queue = f"notify-test-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[DeliveryProbeWorkflow],
        activities=[activities.deliver_notification],
    ):
        return await env.client.execute_workflow(
            DeliveryProbeWorkflow.run, request, id=f"probe-{uuid.uuid4()}", task_queue=task_queue
        )


async def test_a_dead_robot_is_tried_five_times_then_reported_failed(
    notify_time_server: WorkflowEnvironment, notify: NotifyHarness
) -> None:
    notify.use_robots(wecom="/down")

    outcome = await deliver_through_worker(
        notify_time_server, notify, DeliveryRequest(notice=NOTICE, recipient="czj", channel="wecom")
    )

    assert outcome == DeliveryOutcome(
        recipient="czj",
        channel="wecom",
        delivered=False,
        detail="单位 czj 的企业微信机器人返回 HTTP 503 / robot refused",
    )
    assert len(notify.receiver.at("/down")) == DELIVERY_RETRY.maximum_attempts == 5


async def test_a_misconfigured_robot_fails_at_once_without_retries(
    notify_time_server: WorkflowEnvironment, notify: NotifyHarness
) -> None:
    outcome = await deliver_through_worker(
        notify_time_server, notify, DeliveryRequest(notice=NOTICE, recipient="jtj", channel="dingtalk")
    )

    assert not outcome.delivered
    assert outcome.detail == "单位 jtj 的钉钉机器人未配置 / no robot configured"
    assert notify.receiver.received == []


async def test_a_live_robot_is_delivered_through_the_worker(
    notify_time_server: WorkflowEnvironment, notify: NotifyHarness
) -> None:
    outcome = await deliver_through_worker(
        notify_time_server, notify, DeliveryRequest(notice=NOTICE, recipient="fgw", channel="dingtalk")
    )

    assert outcome.delivered
    assert len(notify.receiver.at("/dingtalk")) == 1

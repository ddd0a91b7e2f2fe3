"""Over which channels a notice travels: one delivery per recipient and channel.

Who hears it is the domain's rule (`domain.audience`); this adds the channels the settings enable.
"""

from __future__ import annotations

from collections.abc import Iterable

from activities.notify.channels import ChannelSettings
from domain.audience import recipients, robot_units
from domain.org import OrgChart, UnitRecord
from workflows.messages import DeliveryRequest, PlanDeliveries

INBOX = "inbox"
EMAIL = "email"
DINGTALK = "dingtalk"
WECOM = "wecom"


def _robots(unit: UnitRecord, channels: ChannelSettings) -> Iterable[str]:
    robots = channels.robots.get(unit.id)
    if robots is not None and robots.dingtalk_webhook:
        yield DINGTALK
    if robots is not None and robots.wecom_webhook:
        yield WECOM


def plan(chart: OrgChart, request: PlanDeliveries, channels: ChannelSettings) -> list[DeliveryRequest]:
    """One delivery per recipient and channel: each person's inbox and email, then the units' robots.

    Robot deliveries name the unit as recipient and leave the address empty: the URL holds the
    robot's token, so the delivery looks it up rather than carry it through the workflow history.
    """
    notice, digest = request.notice, request.routine
    deliveries: list[DeliveryRequest] = []
    for user in recipients(chart, request):
        deliveries.append(DeliveryRequest(notice=notice, recipient=user.id, channel=INBOX))
        if channels.email_enabled and user.email:
            deliveries.append(
                DeliveryRequest(
                    notice=notice, recipient=user.id, channel=EMAIL, address=user.email, digest=digest
                )
            )
    if channels.webhooks_enabled:
        deliveries += [
            DeliveryRequest(notice=notice, recipient=unit.id, channel=robot, digest=digest)
            for unit in robot_units(chart, request)
            for robot in _robots(unit, channels)
        ]
    return deliveries

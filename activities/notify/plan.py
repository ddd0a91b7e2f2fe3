"""Who hears of a notice, and over which channels: the audience resolved against the org chart."""

from __future__ import annotations

from collections.abc import Iterable

from activities.notify.channels import ChannelSettings
from domain.people import Role
from store.org import OrgChart, UnitRecord, UserRecord
from workflows.messages import Audience, DeliveryRequest, PlanDeliveries

INBOX = "inbox"
EMAIL = "email"
DINGTALK = "dingtalk"
WECOM = "wecom"


def _discipline_units(chart: OrgChart) -> list[UnitRecord]:
    return sorted((unit for unit in chart.units if unit.kind == "discipline"), key=lambda unit: unit.id)


def _members(chart: OrgChart, unit_id: str, role: Role | None = None) -> list[str]:
    return sorted(u.id for u in chart.users if u.unit == unit_id and (role is None or u.role == role))


def audience_members(chart: OrgChart, request: PlanDeliveries, audience: Audience) -> list[str]:
    """The user ids one audience kind names, in a fixed order (ids the org chart lacks are kept)."""
    units = {unit.id: unit for unit in chart.units}
    if audience is Audience.UNIT_HANDLERS:
        return [user for unit in request.units for user in _members(chart, unit, Role.UNIT)]
    if audience is Audience.UNIT_LEADER:
        return [leader for unit in request.units if (leader := _leader(units.get(unit)))]
    if audience is Audience.RESPONSIBLE_LEADER:
        return [request.leader] if request.leader else []
    if audience is Audience.TOP_LEADER:
        return sorted(user.id for user in chart.users if user.top_leader)
    if audience is Audience.DISCIPLINE:
        return [user for unit in _discipline_units(chart) for user in _members(chart, unit.id)]
    return [request.supervisor] if request.supervisor else []


def _leader(unit: UnitRecord | None) -> str | None:
    return None if unit is None else unit.leader_user_id


def recipients(chart: OrgChart, request: PlanDeliveries) -> list[UserRecord]:
    """Every user the notice reaches, once each, in audience order; unknown ids are left out."""
    users = {user.id: user for user in chart.users}
    seen: dict[str, UserRecord] = {}
    for audience in request.audience:
        for user_id in audience_members(chart, request, audience):
            if user_id in users and user_id not in seen:
                seen[user_id] = users[user_id]
    return list(seen.values())


def robot_units(chart: OrgChart, request: PlanDeliveries) -> list[UnitRecord]:
    """The units whose group robots hear the notice: the concerned units, and 纪检 when it is told."""
    units = {unit.id: unit for unit in chart.units}
    chosen: list[UnitRecord] = []
    if Audience.UNIT_HANDLERS in request.audience:
        chosen += [units[unit] for unit in request.units if unit in units]
    if Audience.DISCIPLINE in request.audience:
        chosen += _discipline_units(chart)
    return list({unit.id: unit for unit in chosen}.values())


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

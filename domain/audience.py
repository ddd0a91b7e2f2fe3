"""Who hears a notice: every rule of it, pure, on the org chart as a domain type.

A rung or an urge names audience kinds (`Audience`); which kinds a step's owner stands in for,
which units a step concerns, and which users and unit robots each kind reaches on the org chart
are decided here, and only here. The workflow asks for the kinds and units (deterministic: the
item's state alone); the notify activity resolves them against the org chart as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.ladder import Audience
from domain.org import OrgChart, UnitRecord, UserRecord
from domain.people import Role
from domain.state import ItemState, signing_unit

URGE_AUDIENCE = [Audience.UNIT_HANDLERS, Audience.UNIT_LEADER]
"""Whom a supervisor's 催办 reaches: the units' handlers and heads."""

STEP_OWNERS = {
    "submit_report": Audience.SUPERVISOR,
    "evaluate": Audience.SUPERVISOR,
    "sign_off": Audience.RESPONSIBLE_LEADER,
}
"""Waiting steps that no unit owns, and who stands in for "the unit" on their ladders."""

_UNIT_AUDIENCES = (Audience.UNIT_HANDLERS, Audience.UNIT_LEADER)
_LEAD_UNIT_STEPS = ("submit_plan", "milestone", "claim_completion")


def audience_for(step: str, audience: list[Audience]) -> list[Audience]:
    """Who a rung reaches on `step`: a step owned by the supervisor or the leader tells them
    where a unit's step would tell the unit."""
    owner = STEP_OWNERS.get(step.split(":", 1)[0])
    if owner is None:
        return list(audience)
    result: list[Audience] = []
    for who in audience:
        target = owner if who in _UNIT_AUDIENCES else who
        if target not in result:
            result.append(target)
    return result


def step_units(state: ItemState, step: str) -> list[str]:
    """The units a step concerns: the signing unit, the lead unit for its own steps, else none."""
    if (unit := signing_unit(step)) is not None:
        return [unit]
    return [state.lead_unit] if step.partition(":")[0] in _LEAD_UNIT_STEPS else []


class Addressees(Protocol):
    """What a notice is addressed to: audience kinds, the units concerned, the item's people."""

    @property
    def audience(self) -> Sequence[Audience]: ...

    @property
    def units(self) -> Sequence[str]: ...

    @property
    def leader(self) -> str | None: ...

    @property
    def supervisor(self) -> str | None: ...


def _discipline_units(chart: OrgChart) -> list[UnitRecord]:
    return sorted((unit for unit in chart.units if unit.kind == "discipline"), key=lambda unit: unit.id)


def _members(chart: OrgChart, unit_id: str, role: Role | None = None) -> list[str]:
    return sorted(u.id for u in chart.users if u.unit == unit_id and (role is None or u.role == role))


def _leader(unit: UnitRecord | None) -> str | None:
    return None if unit is None else unit.leader_user_id


def audience_members(chart: OrgChart, to: Addressees, audience: Audience) -> list[str]:
    """The user ids one audience kind names, in a fixed order (ids the org chart lacks are kept)."""
    units = {unit.id: unit for unit in chart.units}
    if audience is Audience.UNIT_HANDLERS:
        return [user for unit in to.units for user in _members(chart, unit, Role.UNIT)]
    if audience is Audience.UNIT_LEADER:
        return [leader for unit in to.units if (leader := _leader(units.get(unit)))]
    if audience is Audience.RESPONSIBLE_LEADER:
        return [to.leader] if to.leader else []
    if audience is Audience.TOP_LEADER:
        return sorted(user.id for user in chart.users if user.top_leader)
    if audience is Audience.DISCIPLINE:
        return [user for unit in _discipline_units(chart) for user in _members(chart, unit.id)]
    return [to.supervisor] if to.supervisor else []


def recipients(chart: OrgChart, to: Addressees) -> list[UserRecord]:
    """Every user the notice reaches, once each, in audience order; unknown ids are left out."""
    users = {user.id: user for user in chart.users}
    seen: dict[str, UserRecord] = {}
    for audience in to.audience:
        for user_id in audience_members(chart, to, audience):
            if user_id in users and user_id not in seen:
                seen[user_id] = users[user_id]
    return list(seen.values())


def robot_units(chart: OrgChart, to: Addressees) -> list[UnitRecord]:
    """The units whose group robots hear the notice: the concerned units, and 纪检 when it is told."""
    units = {unit.id: unit for unit in chart.units}
    chosen: list[UnitRecord] = []
    if Audience.UNIT_HANDLERS in to.audience:
        chosen += [units[unit] for unit in to.units if unit in units]
    if Audience.DISCIPLINE in to.audience:
        chosen += _discipline_units(chart)
    return list({unit.id: unit for unit in chosen}.values())

"""Checks against the org chart that the workflow cannot make: units and leaders must exist."""

from __future__ import annotations

from collections.abc import Iterable

from domain.people import Role
from domain.refusals import CommandRefused, invalid
from store.org import OrgDirectory


async def check_units(org: OrgDirectory, units: Iterable[str]) -> None:
    """422 naming every unit the org chart does not know."""
    known = {unit.id for unit in await org.units()}
    unknown = [unit for unit in units if unit not in known]
    if unknown:
        names = "、".join(unknown)
        raise CommandRefused(invalid(f"未知单位 {names} / unknown unit(s): {', '.join(unknown)}"))


async def check_leader(org: OrgDirectory, user_id: str) -> None:
    """422 unless `user_id` is a leader in the org chart."""
    user = await org.user(user_id)
    if user is None or user.role is not Role.LEADER:
        raise CommandRefused(invalid(f"{user_id} 不是责任领导 / {user_id} is not a leader"))

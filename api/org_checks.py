"""Checks against the org chart that the workflow cannot make: units and leaders must exist."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from domain.people import Role
from domain.refusals import CommandRefused, invalid
from store.org import UnitRecord, UserRecord


class OrgLookup(Protocol):
    """What the checks read of the org chart: the store's OrgDirectory, or a snapshot of it."""

    async def units(self) -> Sequence[UnitRecord]:
        """Every unit."""
        ...

    async def user(self, user_id: str) -> UserRecord | None:
        """One user, or None."""
        ...


async def check_units(org: OrgLookup, units: Iterable[str]) -> None:
    """422 naming every unit the org chart does not know."""
    known = {unit.id for unit in await org.units()}
    unknown = [unit for unit in units if unit not in known]
    if unknown:
        names = "、".join(unknown)
        raise CommandRefused(invalid(f"未知单位 {names} / unknown unit(s): {', '.join(unknown)}"))


async def check_leader(org: OrgLookup, user_id: str) -> None:
    """422 unless `user_id` is a leader in the org chart."""
    user = await org.user(user_id)
    if user is None or user.role is not Role.LEADER:
        raise CommandRefused(invalid(f"{user_id} 不是责任领导 / {user_id} is not a leader"))

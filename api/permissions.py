"""Who may call what: role checks as typed dependencies, and a unit's view of items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from api.auth import CurrentActor
from domain.people import ROLE_LABELS, Actor, Role
from domain.refusals import CommandRefused, forbidden
from domain.state import ItemState


def role_in(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets only `roles` through (403 otherwise)."""
    allowed = "、".join(ROLE_LABELS[role].split(" / ")[0] for role in roles)
    names = ", ".join(role.value for role in roles)

    async def check(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise CommandRefused(
                forbidden(f"仅限{allowed}，当前用户角色为 {actor.role.value} / only {names} may do this")
            )
        return actor

    return check


ItemReader = Annotated[Actor, Depends(role_in(Role.SUPERVISOR, Role.LEADER, Role.AUDITOR, Role.UNIT))]
"""Anyone who works with items; units see only those assigned to them."""
Supervisor = Annotated[Actor, Depends(role_in(Role.SUPERVISOR))]
HistoryReader = Annotated[Actor, Depends(role_in(Role.SUPERVISOR, Role.AUDITOR))]
Auditor = Annotated[Actor, Depends(role_in(Role.AUDITOR))]


def unit_scope(actor: Actor) -> str | None:
    """The unit whose items a unit user is limited to; None for roles that see every item."""
    if actor.role is not Role.UNIT:
        return None
    if not actor.unit:
        raise CommandRefused(forbidden("该账号未关联承办单位 / this unit account has no unit"))
    return actor.unit


def require_visible(actor: Actor, state: ItemState) -> None:
    """403 for a unit user looking at an item its unit is not assigned to."""
    unit = unit_scope(actor)
    if unit is not None and unit not in state.assignments:
        raise CommandRefused(forbidden("本单位不是该事项的承办单位 / your unit is not assigned to this item"))

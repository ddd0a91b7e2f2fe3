"""Who may call what: role checks as typed dependencies, and a unit's view of items.

The rules themselves live in `domain.access` (used by `decide` too); this module turns them
into FastAPI dependencies and HTTP answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from api.auth import CurrentActor
from api.errors import item_not_found
from api.request_log import bind_request
from api.services import Services
from domain import access
from domain.people import Actor, Role
from domain.refusals import CommandRefused, Refusal
from domain.state import ItemState
from workflows.messages import workflow_id_for


def role_in(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets only `roles` through (403 otherwise)."""

    async def check(actor: CurrentActor) -> Actor:
        if (refusal := access.role_refusal(actor, *roles)) is not None:
            raise CommandRefused(refusal)
        return actor

    return check


ItemReader = Annotated[Actor, Depends(role_in(Role.SUPERVISOR, Role.LEADER, Role.AUDITOR, Role.UNIT))]
"""Anyone who works with items; units see only those assigned to them."""
Supervisor = Annotated[Actor, Depends(role_in(Role.SUPERVISOR))]
HistoryReader = Annotated[Actor, Depends(role_in(Role.SUPERVISOR, Role.AUDITOR))]
Auditor = Annotated[Actor, Depends(role_in(Role.AUDITOR))]


def unit_scope(actor: Actor) -> str | None:
    """The unit whose items a unit user is limited to; None for roles that see every item."""
    scope = access.unit_scope(actor)
    if isinstance(scope, Refusal):
        raise CommandRefused(scope)
    return scope


def require_visible(actor: Actor, state: ItemState) -> None:
    """404 for an item the actor may not see (a unit not assigned to it), exactly as for an unknown
    item: a unit never learns which items other units hold."""
    unit_scope(actor)  # a unit account without a unit: 403
    if not access.may_see(actor, state):
        raise item_not_found(state.id)


async def visible_item(services: Services, actor: Actor, item_id: str) -> ItemState:
    """The item's state if it exists and the actor may see it; 404 otherwise (the same answer)."""
    bind_request(item_id=item_id, workflow_id=workflow_id_for(item_id))
    state = await services.items.get(item_id)
    if state is None:
        raise item_not_found(item_id)
    require_visible(actor, state)
    return state

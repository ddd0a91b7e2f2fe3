"""GET /api/items/{id}/actions: what the caller may do on an item now, asked of the domain's `decide`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from adapters.workdays import dues_at
from api.errors import item_not_found
from api.permissions import ItemReader, require_visible
from api.request_log import bind_request
from api.services import Services, ServicesDep
from domain.decide import Context, allowed_actions
from domain.people import Actor
from domain.state import ItemState
from domain.vocabulary import ACTION_LABELS
from workflows.messages import workflow_id_for

router = APIRouter(prefix="/api/items", tags=["items"])


class ActionPublic(BaseModel):
    """One action open to the caller: its name in `POST /api/items/{id}/actions/{action}` and label."""

    action: str
    label: str


class ItemActions(BaseModel):
    """The actions the caller may take on the item at this moment, in the loop's order."""

    item_id: str
    stage: str
    actions: list[ActionPublic]


def actions_for(state: ItemState, actor: Actor, now: datetime) -> list[ActionPublic]:
    """The actions `decide` would not refuse `actor` on `state` at `now` (for content-free reasons)."""
    ctx = Context(actor=actor, now=now, dues=dues_at(now), number=state.number)
    return [ActionPublic(action=name, label=ACTION_LABELS[name]) for name in allowed_actions(state, ctx)]


async def visible_state(services: Services, actor: Actor, item_id: str) -> ItemState:
    """The item's state if it exists (404) and the actor may see it (403)."""
    bind_request(item_id=item_id, workflow_id=workflow_id_for(item_id))
    state = await services.items.get(item_id)
    if state is None:
        raise item_not_found(item_id)
    require_visible(actor, state)
    return state


@router.get("/{item_id}/actions", summary="可办理的操作 / actions open to the caller")
async def item_actions(item_id: str, actor: ItemReader, services: ServicesDep) -> ItemActions:
    """The actions the caller may take on the item now, by the same rules that decide an action.

    An action listed here may still be refused for its content (a date in the past, an unknown
    milestone) or because the item moved on in between; one not listed would be refused as it stands.
    """
    state = await visible_state(services, actor, item_id)
    return ItemActions(
        item_id=state.id, stage=state.stage.value, actions=actions_for(state, actor, datetime.now(UTC))
    )

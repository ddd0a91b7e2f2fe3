"""Actions on an item: what the caller may do now, and one typed route per action of the loop.

`POST /api/items/{item_id}/actions/{action}` exists once per action of `domain.commands.ACTIONS`
(but `open`, which is `POST /api/items`), each with its command as the request body's schema, so
the OpenAPI describes every body and a generated client gets one typed call per action. The body
is parsed once, here at the edge, into the domain's command, and travels typed to the workflow.

Checks run in one order, the same for every action: 401 no valid token → 403 the role works with
no items → 404 unknown action, or an item the caller may not see (as if it did not exist) → 409
the item is closed or cancelled → 403 `decide`'s role and unit guards → 422 the body's schema →
the workflow decides: 409 not waiting for this action now, 422 content (a date in the past).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from adapters.workdays import dues_at
from api.errors import SIGNED_IN_ERRORS, NotFound, error_responses
from api.org_checks import check_units
from api.permissions import ItemReader, visible_item
from api.request_log import bind_request
from api.schemas import ItemPublic, item_public
from api.services import Services, ServicesDep
from domain import access
from domain.commands import ACTIONS, Command, Reassign
from domain.decide import Context, allowed_actions, refusal_of
from domain.people import Actor
from domain.refusals import CommandRefused, RefusalKind
from domain.state import ItemState
from domain.vocabulary import ACTION_LABELS
from ledger.hashing import canonical_json
from workflows.messages import ActionRequest

router = APIRouter(prefix="/api/items", tags=["items"], responses=SIGNED_IN_ERRORS)

ACTION_NAMES = tuple(name for name in ACTIONS if name != "open")
"""The actions `POST /api/items/{item_id}/actions/{action}` takes, in the loop's order."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="重试时携带同一键，得到第一次请求的真实结果 / send the same key on a retry "
        "(e.g. after a 504) to get the first attempt's real outcome instead of acting twice; "
        "honoured for the item's current workflow run",
    ),
]


class ActionPublic(BaseModel):
    """One action open to the caller: its name in `POST /api/items/{id}/actions/{action}` and label."""

    action: str
    label: str


class ItemActions(BaseModel):
    """The actions the caller may take on the item at this moment, in the loop's order."""

    item_id: str
    stage: str
    actions: list[ActionPublic]


def _now() -> datetime:
    return datetime.now(UTC)


def _context(state: ItemState, actor: Actor, now: datetime) -> Context:
    return Context(actor=actor, now=now, dues=dues_at(now), number=state.number)


def actions_for(state: ItemState, actor: Actor, now: datetime) -> list[ActionPublic]:
    """The actions `decide` would not refuse `actor` on `state` at `now` (for content-free reasons)."""
    return [
        ActionPublic(action=name, label=ACTION_LABELS[name])
        for name in allowed_actions(state, _context(state, actor, now))
    ]


visible_state = visible_item
"""The item's state if it exists and the actor may see it (404 otherwise); the pages use it too."""


@router.get(
    "/{item_id}/actions",
    summary="可办理的操作 / actions open to the caller",
    responses=error_responses(404),
)
async def item_actions(item_id: str, actor: ItemReader, services: ServicesDep) -> ItemActions:
    """The actions the caller may take on the item now, by the same rules that decide an action.

    An action listed here may still be refused for its content (a date in the past, an unknown
    milestone) or because the item moved on in between; one not listed would be refused as it stands.
    """
    state = await visible_state(services, actor, item_id)
    return ItemActions(item_id=state.id, stage=state.stage.value, actions=actions_for(state, actor, _now()))


def _command_type(action: str) -> type[Command]:
    command_type = ACTIONS.get(action)
    if command_type is None or action == "open":
        valid = ", ".join(ACTION_NAMES)
        raise NotFound(f"未知操作 {action}；可用的操作 / unknown action; valid actions: {valid}")
    return command_type


def authorize(state: ItemState, action: str, actor: Actor) -> None:
    """Who may act, before the body is read: 409 for an item no longer open, then `decide`'s own
    role and unit guards for `action` (403), so a caller who may not act never learns what the body
    lacks. Whether the item waits for this action now (409) is decided after the body, with it."""
    if (closed := access.open_item_refusal(state)) is not None:
        raise CommandRefused(closed)
    refusal = refusal_of(state, action, _context(state, actor, _now()))
    if refusal is not None and refusal.kind is RefusalKind.FORBIDDEN:
        raise CommandRefused(refusal)


def authorized(action: str) -> Callable[..., Awaitable[ItemState]]:
    """A dependency: the item's state once the caller may see it and may perform `action` on it now."""

    async def check(item_id: str, actor: ItemReader, services: ServicesDep) -> ItemState:
        bind_request(action=action)
        state = await visible_item(services, actor, item_id)
        authorize(state, action, actor)
        return state

    return check


def _parsed(command_type: type[Command], body: dict[str, Any]) -> Command:
    try:
        return command_type.model_validate(body)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors, body=body) from error


async def _submit(
    services: Services,
    actor: Actor,
    item_id: str,
    command: Command,
    *,
    action: str,
    idempotency_key: str | None,
) -> ItemPublic:
    """Hand the typed command to the item's workflow, which decides again and records it."""
    if isinstance(command, Reassign):
        await check_units(services.org, [command.lead_unit, *command.co_units])
    fields = command.model_dump(mode="json")
    request = ActionRequest(
        action=action,
        actor=actor,
        body=command,
        dues=dues_at(_now()),
        fingerprint=hashlib.sha256(canonical_json({"action": action, "body": fields})).hexdigest(),
    )
    # Scoped to the caller: another user's key never names this user's update.
    update_id = f"{actor.id}/{idempotency_key}" if idempotency_key else None
    result = await services.gateway.act(item_id, request, update_id)
    return item_public(result.state, _now())


async def perform_action(
    item_id: str,
    action: str,
    actor: Actor,
    services: Services,
    *,
    body: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> ItemPublic:
    """Perform `action` with an untyped `body` (the pages' forms), in the routes' order of checks.

    Raises NotFound, CommandRefused, or RequestValidationError for a body its command refuses.
    """
    bind_request(action=action)
    command_type = _command_type(action)
    state = await visible_item(services, actor, item_id)
    authorize(state, action, actor)
    command = _parsed(command_type, body or {})
    return await _submit(services, actor, item_id, command, action=action, idempotency_key=idempotency_key)


ACTION_ERRORS = error_responses(404, 409, 429, 504)


def _body_parameter(command_type: type[Command]) -> inspect.Parameter:
    """The route's body: the command itself; optional when every field has a default (e.g. sign_for)."""
    optional = not any(field.is_required() for field in command_type.model_fields.values())
    return inspect.Parameter(
        "body",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[command_type, Body()],
        default=command_type() if optional else inspect.Parameter.empty,
    )


def _add_action_route(action: str, command_type: type[Command]) -> None:
    async def act(
        *,
        item_id: str,
        state: ItemState,
        actor: Actor,
        services: Services,
        body: Command,
        idempotency_key: str | None = None,
    ) -> ItemPublic:
        return await _submit(services, actor, state.id, body, action=action, idempotency_key=idempotency_key)

    keyword = inspect.Parameter.KEYWORD_ONLY
    # Built as objects, not strings: the body's type is this action's command.
    act.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("item_id", keyword, annotation=str),
            inspect.Parameter("state", keyword, annotation=Annotated[ItemState, Depends(authorized(action))]),
            inspect.Parameter("actor", keyword, annotation=ItemReader),
            inspect.Parameter("services", keyword, annotation=ServicesDep),
            _body_parameter(command_type),
            inspect.Parameter("idempotency_key", keyword, annotation=IdempotencyKey, default=None),
        ],
        return_annotation=ItemPublic,
    )
    doc = (command_type.__doc__ or "").strip()
    router.add_api_route(
        f"/{{item_id}}/actions/{action}",
        act,
        methods=["POST"],
        response_model=ItemPublic,
        summary=f"{ACTION_LABELS[action]} / {action}",
        description=f"{doc}\n\n200 with the item's new state. A refusal writes no event.",
        operation_id=f"act_{action}",
        responses=ACTION_ERRORS,
    )


for _name in ACTION_NAMES:
    _add_action_route(_name, ACTIONS[_name])


@router.post("/{item_id}/actions/{action}", include_in_schema=False)
async def unknown_action(item_id: str, action: str, actor: ItemReader) -> None:
    """404 naming the valid actions, for an action the loop does not have (after sign-in)."""
    _command_type(action)

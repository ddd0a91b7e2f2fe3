"""Who may see and act on an item: the access rules, in one place for the API and for `decide`.

Each rule answers a `Refusal` (or None when it holds), so every edge translates it once:

- role gates: the actor's role is one of those allowed (403);
- unit visibility: a unit user sees only the items its unit is assigned to. The API answers an
  item the caller may not see exactly like an item that does not exist (404), so that a unit
  cannot learn which items other units hold; `decide` itself still refuses such an actor (403)
  for any caller that reaches it without the API;
- the item must be open (opened, not yet closed or cancelled) for any action but `open` (409);
- auditors only read (403).
"""

from __future__ import annotations

from domain.people import ROLE_LABELS, Actor, Role
from domain.refusals import Refusal, conflict, forbidden
from domain.state import ItemState, describe_waiting

NOT_ASSIGNED = "本单位不是该事项的承办单位 / your unit is not assigned to this item"
NO_UNIT = "该账号未关联承办单位 / this unit account has no unit"
READ_ONLY = "审计角色只读 / auditors have read-only access"
NOT_OPENED = "事项尚未立项 / the item has not been opened"


def role_refusal(actor: Actor, *roles: Role) -> Refusal | None:
    """403 unless the actor's role is one of `roles`."""
    if actor.role in roles:
        return None
    allowed = "、".join(ROLE_LABELS[role].split(" / ")[0] for role in roles)
    names = ", ".join(role.value for role in roles)
    return forbidden(f"仅限{allowed}，当前用户角色为 {actor.role.value} / only {names} may do this")


def unit_scope(actor: Actor) -> str | Refusal | None:
    """The unit a unit user is limited to; None for roles that see every item; a refusal for a
    unit account without a unit."""
    if actor.role is not Role.UNIT:
        return None
    return actor.unit or forbidden(NO_UNIT)


def may_see(actor: Actor, state: ItemState) -> bool:
    """Whether the actor may see the item at all: every role but a unit, which sees its own items."""
    scope = unit_scope(actor)
    return scope is None or (isinstance(scope, str) and scope in state.assignments)


def own_unit_refusal(actor: Actor, state: ItemState) -> Refusal | None:
    """403 unless the actor's unit is assigned to the item."""
    if actor.unit in state.assignments:
        return None
    return forbidden(NOT_ASSIGNED)


def open_item_refusal(state: ItemState) -> Refusal | None:
    """409 unless the item has been opened and is not yet closed or cancelled."""
    if not state.opened:
        return conflict(NOT_OPENED)
    if not state.stage.is_open:
        return conflict(describe_waiting(state))
    return None


def read_only_refusal(actor: Actor) -> Refusal | None:
    """403 for an auditor: auditors read, they never act."""
    return forbidden(READ_ONLY) if actor.role is Role.AUDITOR else None

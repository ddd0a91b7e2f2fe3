"""立项 as one function: the checks an opening must pass, then the opening itself (with its key).

`POST /api/items`, the pages' 立项 form and the bulk import all open items through `open_one`,
so an item is opened by one rule whichever door it came through.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.workdays import dues_at
from api.errors import InvalidRequest
from api.org_checks import OrgLookup, check_leader, check_units
from api.request_log import bind_request
from api.schemas import ItemCreate, ItemPublic, item_public
from api.services import Services
from domain.decide import Context, decide
from domain.dues import ComputedDues
from domain.people import Actor
from domain.refusals import CommandRefused, Refusal, RefusalKind
from domain.state import ItemState
from ledger.hashing import canonical_json
from store.idempotency import KeyClaim
from workflows.messages import workflow_id_for

KEY_REUSED = "Idempotency-Key 已用于不同的请求内容 / the key was used with a different request body"


@dataclass(frozen=True)
class Opened:
    """An opening's outcome: the item, and whether this call opened it (False: its key had already)."""

    item: ItemPublic
    created: bool


def request_hash(body: ItemCreate) -> str:
    """The body as validated (defaults filled in), canonical JSON, SHA-256: a retry hashes the same."""
    return hashlib.sha256(canonical_json(body.model_dump(mode="json"))).hexdigest()


def _same_request(claim: KeyClaim, body_hash: str) -> str:
    if claim.request_hash != body_hash:
        raise InvalidRequest(KEY_REUSED)
    return claim.item_id


def _bind_item(item_id: str) -> None:
    bind_request(item_id=item_id, workflow_id=workflow_id_for(item_id))


def precheck_opening(actor: Actor, body: ItemCreate, now: datetime) -> ComputedDues:
    """The due instants of an opening at `now`; CommandRefused when the workflow would refuse it
    (deadline or milestone in the past, milestone after the deadline, not a supervisor)."""
    dues = dues_at(now)
    decision = decide(ItemState(), body, Context(actor=actor, now=now, dues=dues, number="pending"))
    if isinstance(decision, Refusal):
        raise CommandRefused(decision)
    return dues


async def check_opening(org: OrgLookup, actor: Actor, body: ItemCreate, now: datetime) -> ComputedDues:
    """Every check an opening passes before it may start a workflow: the org chart knows its units
    and leader, and `decide` accepts it. Raises CommandRefused (422 / 403) otherwise."""
    await check_units(org, [body.lead_unit, *body.co_units])
    await check_leader(org, body.leader)
    return precheck_opening(actor, body, now)


async def open_one(
    services: Services,
    actor: Actor,
    body: ItemCreate,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> Opened:
    """Open the item `body` describes, or answer with the item `idempotency_key` already opened for it.

    The key with a different body is InvalidRequest (422); a refused opening takes no key.
    """
    now = now or datetime.now(UTC)
    body_hash = request_hash(body)
    if idempotency_key and (prior := await services.idempotency.find(actor.id, idempotency_key, now)):
        existing = await services.items.get(_same_request(prior, body_hash))
        if existing is not None:
            _bind_item(existing.id)
            return Opened(item_public(existing, now), created=False)
    # Refuse here what the workflow would refuse, so a bad opening never starts a workflow (nor takes a key).
    dues = await check_opening(services.org, actor, body, now)
    if idempotency_key:
        claim = await services.idempotency.claim(actor.id, idempotency_key, body_hash, now)
        item_id = _same_request(claim, body_hash)
    else:
        item_id = str(uuid.uuid4())
    _bind_item(item_id)
    try:
        result = await services.gateway.open(item_id, actor, body, dues)
    except CommandRefused as refused:
        # Two requests with one key raced: the loser answers with the winner's item.
        existing = await services.items.get(item_id) if idempotency_key else None
        if refused.refusal.kind is not RefusalKind.CONFLICT or existing is None:
            raise
        return Opened(item_public(existing, now), created=False)
    return Opened(item_public(result.state, now), created=True)

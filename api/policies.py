"""/api/policies: the escalation ladders per category and priority, listed and edited by admins.

An edit publishes a new version; earlier versions stay as they were, and every item keeps
the version it was opened under (recorded in its `PolicyApplied` event).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import ConfigDict, Field

from api.errors import SIGNED_IN_ERRORS
from api.permissions import role_in
from api.services import ServicesDep
from domain.ladder import LadderRules
from domain.people import Actor, Role
from domain.vocabulary import Category, Priority
from store.policies import PolicyStore, PolicyVersion

router = APIRouter(prefix="/api/policies", tags=["policies"], responses=SIGNED_IN_ERRORS)

Admin = Annotated[Actor, Depends(role_in(Role.ADMIN))]
PolicyReader = Annotated[Actor, Depends(role_in(Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR))]


class PolicyUpdate(LadderRules):
    """A new ladder for one category and priority: one rung per level, later levels strictly later."""

    note: Annotated[str, Field(max_length=400)] = ""


class PolicyPublic(PolicyVersion):
    """One version of a category and priority's ladder, as the API shows it."""

    model_config = ConfigDict(frozen=True, from_attributes=True)


def _public(version: PolicyVersion) -> PolicyPublic:
    return PolicyPublic.model_validate(version)


@router.get("", summary="督办阶梯 / escalation policies")
async def list_policies(actor: PolicyReader, services: ServicesDep) -> list[PolicyPublic]:
    """The current version of every category and priority's ladder."""
    return [_public(v) for v in await PolicyStore(services.sessions).list_current()]


@router.get("/{category}/{priority}/versions", summary="督办阶梯历史版本 / policy versions")
async def policy_versions(
    category: Category, priority: Priority, actor: PolicyReader, services: ServicesDep
) -> list[PolicyPublic]:
    """Every version of one category and priority's ladder, oldest first."""
    return [_public(v) for v in await PolicyStore(services.sessions).versions(category, priority)]


@router.put("/{category}/{priority}", summary="修改督办阶梯 / publish a new policy version")
async def publish_policy(
    category: Category, priority: Priority, body: PolicyUpdate, actor: Admin, services: ServicesDep
) -> PolicyPublic:
    """Publish `body` as the next version; items opened from now on run under it, running items keep theirs.

    403 not an admin · 422 a malformed ladder (a level twice, levels out of order, no audience).
    """
    ladder = LadderRules(rungs=body.rungs)
    published = await PolicyStore(services.sessions).publish(
        category, priority, ladder, author=actor.id, note=body.note
    )
    return _public(published)

"""督办阶梯: every category and priority's current ladder, its versions (who changed what), and the
admin's editor, which publishes a new version through the API's own handler."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api import policies as policy_routes
from api.policies import Admin, PolicyReader, PolicyUpdate
from api.services import ServicesDep
from domain.ladder import LEVEL_LABELS, Audience, Level
from domain.vocabulary import Category, Priority
from pages.errors import mark_page
from pages.web import CsrfChecked, PageActor, passes, render, require, see_other

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

AUDIENCE_LABELS = {
    Audience.UNIT_HANDLERS: "承办人",
    Audience.UNIT_LEADER: "单位负责人",
    Audience.RESPONSIBLE_LEADER: "责任领导",
    Audience.TOP_LEADER: "一把手",
    Audience.DISCIPLINE: "纪检监察",
    Audience.SUPERVISOR: "督查室",
}


async def _page(
    request: Request, actor: PageActor, services: ServicesDep, status: int = 200, **extra: Any
) -> Response:
    current = await policy_routes.list_policies(actor, services)
    return render(
        request,
        "policies.html",
        status,
        current=current,
        can_edit=await passes(Admin, actor),
        levels=list(Level),
        level_labels={level.value: label for level, label in LEVEL_LABELS.items()},
        audiences=list(Audience),
        audience_labels={a.value: label for a, label in AUDIENCE_LABELS.items()},
        **extra,
    )


@router.get("/policies")
async def policies(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """The current ladders (and the editor, for admins)."""
    await require(PolicyReader, actor)
    return await _page(request, actor, services)


@router.get("/policies/{category}/{priority}")
async def versions(
    category: Category, priority: Priority, request: Request, actor: PageActor, services: ServicesDep
) -> Response:
    """Every version of one ladder, oldest first: who published it, when, and why."""
    await require(PolicyReader, actor)
    found = await policy_routes.policy_versions(category, priority, actor, services)
    return await _page(request, actor, services, versions=found, category=category, priority=priority)


@router.get("/policies/{category}/{priority}/what-if")
async def what_if(  # noqa: PLR0917 — the page's path and query
    category: Category,
    priority: Priority,
    request: Request,
    actor: PageActor,
    services: ServicesDep,
    version: Annotated[int, Query(ge=1, le=1_000_000)],
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """One version replayed over a past period: item by item, the rungs it would raise against the log's."""
    await require(PolicyReader, actor)
    found = await policy_routes.policy_versions(category, priority, actor, services)
    replay = await policy_routes.version_what_if(
        category=category,
        priority=priority,
        version=version,
        actor=actor,
        services=services,
        from_=from_ or None,
        to=to or None,
    )
    return await _page(
        request, actor, services, versions=found, category=category, priority=priority, replay=replay
    )


@router.post("/policies/{category}/{priority}", dependencies=[CsrfChecked])
async def publish(
    category: Category, priority: Priority, request: Request, actor: PageActor, services: ServicesDep
) -> Response:
    """Publish the edited ladder as the next version."""
    await require(Admin, actor)
    form = await request.form()
    rungs = [
        {
            "level": level.value,
            "offset_days": str(form.get(f"{level.value}_offset") or "0"),
            "audience": [str(a) for a in form.getlist(f"{level.value}_audience")],
        }
        for level in Level
        if form.get(f"{level.value}_on")
    ]
    try:
        body = PolicyUpdate.model_validate({"rungs": rungs, "note": str(form.get("note") or "")})
    except ValidationError as error:
        problem = "；".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        return await _page(
            request, actor, services, 422, problem=problem, editing=f"{category.value}/{priority.value}"
        )
    await policy_routes.publish_policy(category, priority, body, actor, services)
    return see_other(f"/policies/{category.value}/{priority.value}")

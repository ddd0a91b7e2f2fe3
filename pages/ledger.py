"""台账 (the item table: filters, paging, counts) and 立项 (the form that opens an item)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from api import items as item_routes
from api.permissions import ItemReader, Supervisor
from api.schemas import ItemCreate, ItemListQuery
from api.services import ServicesDep
from domain.people import Role
from domain.refusals import CommandRefused
from pages.errors import mark_page
from pages.web import CsrfChecked, PageActor, render, require, see_other

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

PAGE_SIZE = 20
LIST_FIELDS = ("co_units", "tags")


@router.get("/items")
async def ledger(
    request: Request, actor: PageActor, services: ServicesDep, query: Annotated[ItemListQuery, Query()]
) -> Response:
    """The items matching the filters, a page at a time, through the JSON list's own function."""
    await require(ItemReader, actor)
    query = query.model_copy(update={"limit": min(query.limit, PAGE_SIZE)})
    listed = await item_routes.list_items(actor=actor, services=services, query=query)
    units = await services.org.units()
    filters = {k: v for k, v in query.model_dump(exclude={"limit", "offset"}).items() if v not in (None, "")}
    return render(request, "ledger.html", listed=listed, query=query, filters=filters, units=units)


async def _form_choices(services: ServicesDep) -> dict[str, Any]:
    units = [u for u in await services.org.units() if u.kind == "unit"]
    leaders = [u for u in await services.org.users() if u.role is Role.LEADER]
    return {"units": units, "leaders": leaders}


@router.get("/items/new")
async def new_item_form(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """The 立项 form; its idempotency key makes a double submit open one item."""
    await require(Supervisor, actor)
    return render(
        request,
        "new_item.html",
        values={"idempotency_key": str(uuid.uuid4())},
        errors={},
        problem="",
        **await _form_choices(services),
    )


def _open_body(form: Any) -> dict[str, Any]:
    """The form as the JSON body of `POST /api/items` (empty fields left out, lists as lists)."""
    body: dict[str, Any] = {}
    for key in ("title", "requirements", "source", "category", "priority", "lead_unit", "leader", "deadline"):
        value = str(form.get(key) or "").strip()
        if value:
            body[key] = value
    body["co_units"] = [u for u in form.getlist("co_units") if u and u != body.get("lead_unit")]
    body["tags"] = [t.strip() for t in str(form.get("tags") or "").replace("，", ",").split(",") if t.strip()]
    names, dues = form.getlist("milestone_name"), form.getlist("milestone_due")
    body["milestones"] = [
        {"name": str(n).strip(), "due": str(d)} for n, d in zip(names, dues, strict=False) if str(n).strip()
    ]
    return body


def _field_errors(errors: list[Any]) -> dict[str, str]:
    """Pydantic's errors by the form field they belong to (the first one of each field)."""
    found: dict[str, str] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        field = loc[0] if loc else "__all__"
        found.setdefault(field, str(error.get("msg", "")).removeprefix("Value error, "))
    return found


@router.post("/items/new", dependencies=[CsrfChecked])
async def open_from_form(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """Open the item through the API's own `open_item`; errors go back inline, by field."""
    await require(Supervisor, actor)
    form = await request.form()
    values: dict[str, Any] = {key: form.get(key) for key in form}
    values["co_units"] = form.getlist("co_units")
    body = _open_body(form)
    errors: dict[str, str] = {}
    problem = ""
    try:
        parsed = ItemCreate.model_validate(body)
        created = await item_routes.open_item(
            body=parsed,
            actor=actor,
            services=services,
            response=Response(),
            idempotency_key=str(form.get("idempotency_key") or "") or None,
        )
    except ValidationError as error:
        errors = _field_errors(list(error.errors(include_url=False)))
    except RequestValidationError as error:
        errors = _field_errors(list(error.errors()))
    except CommandRefused as refused:
        problem = refused.refusal.reason
    else:
        return see_other(f"/items/{created.id}")
    problem = problem or errors.pop("__all__", "")
    return render(
        request,
        "new_item.html",
        422,
        values=values,
        errors=errors,
        problem=problem,
        **await _form_choices(services),
    )

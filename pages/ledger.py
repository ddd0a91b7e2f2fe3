"""台账 (the item table: filters, paging, counts) and 立项 (the form that opens an item)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from api import items as item_routes
from api.permissions import ItemReader, Supervisor, unit_scope
from api.schemas import ItemCreate, ItemFilterQuery, ItemListQuery
from api.services import ServicesDep
from domain.people import Role
from domain.refusals import CommandRefused
from domain.stages import Light
from pages.errors import mark_page
from pages.web import CsrfChecked, PageActor, light_label, render, require, see_other
from store.items import DEFAULT_SORT

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

PAGE_SIZE = 20
LIST_FIELDS = ("co_units", "tags")


# The 台账's sortable columns: header label and the sort key (ascending first; a second click reverses).
SORT_COLUMNS = (
    ("number", "编号"),
    ("light", "灯"),
    ("stage", "阶段"),
    ("deadline", "期限"),
    ("updated", "更新"),
)


def _filters(query: ItemFilterQuery) -> dict[str, Any]:
    """The query's filters as URL parameters (empty ones and the default order left out)."""
    found = query.model_dump(mode="json", exclude={"limit", "offset"})
    if found.get("sort") == DEFAULT_SORT.value:
        del found["sort"]
    return {k: str(v).lower() if isinstance(v, bool) else v for k, v in found.items() if v not in (None, "")}


@router.get("/items")
async def ledger(
    request: Request, actor: PageActor, services: ServicesDep, query: Annotated[ItemListQuery, Query()]
) -> Response:
    """The items matching the filters, a page at a time, through the JSON list's own function."""
    await require(ItemReader, actor)
    query = query.model_copy(update={"limit": min(query.limit, PAGE_SIZE)})
    listed = await item_routes.list_items(actor=actor, services=services, query=query)
    filters = _filters(query)
    unsorted = {k: v for k, v in filters.items() if k != "sort"}
    return render(
        request,
        "ledger.html",
        listed=listed,
        query=query,
        filters=filters,
        unsorted=unsorted,
        sort_columns=SORT_COLUMNS,
        counts_url="/items/counts?" + urlencode(filters),
    )


@router.get("/items/counts")
async def ledger_counts(
    request: Request, actor: PageActor, services: ServicesDep, query: Annotated[ItemFilterQuery, Query()]
) -> Response:
    """How many items of the filter each light and 已超期 would leave (the 台账 loads it after the table).

    Each count stops at the list's cap ("1000+"), so a broad filter costs no full count.
    """
    await require(ItemReader, actor)
    now = datetime.now(UTC)
    scope = unit_scope(actor)
    base = query.model_copy(update={"light": None, "overdue": None})
    counts = []
    for light in Light:
        narrowed = base.model_copy(update={"light": light})
        total, exact = await services.items.count(narrowed.item_filter(), now=now, visible_to_unit=scope)
        counts.append((light.value, light_label(light), total, exact, _filters(narrowed)))
    late = query.model_copy(update={"overdue": True})
    total, exact = await services.items.count(late.item_filter(), now=now, visible_to_unit=scope)
    counts.append(("overdue", "已超期", total, exact, _filters(late)))
    return render(request, "_ledger_counts.html", counts=counts, query=query)


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

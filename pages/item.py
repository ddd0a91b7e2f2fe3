"""The item page: number, title, light, the five stages, pending steps, timeline, and the actions
`decide` allows the signed-in user now — each a form that posts through the API's own handler."""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from api.errors import REFUSAL_STATUS, NotFound
from api.item_actions import actions_for, perform_action, visible_state
from api.permissions import HistoryReader
from api.services import ServicesDep
from domain.commands import ACTIONS
from domain.events import SYSTEM_EVENT_TYPES
from domain.people import Actor
from domain.refusals import CommandRefused
from domain.stages import Stage
from domain.state import ItemState
from pages.errors import mark_page
from pages.timeline import timeline_rows
from pages.web import LOOP_STAGES, CsrfChecked, PageActor, org_names, passes, render, see_other

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

# Event types that move the item back to an earlier stage (the progress bar marks them as loops).
LOOP_BACKS = {"RectificationOrdered": "整改", "ItemReopened": "重新落实", "ReportSentBack": "报告退回"}


def _stages_seen(events: list[Any]) -> set[str]:
    return {str(event.stage) for event in events}


async def _item_view(
    request: Request,
    actor: Actor,
    services: ServicesDep,
    state: ItemState,
    *,
    status: int = 200,
    failed: str = "",
    reason: str = "",
    field_errors: dict[str, str] | None = None,
    prev: dict[str, str] | None = None,
    prev_lists: dict[str, list[str]] | None = None,
) -> Response:
    """The item page, with a refusal's reason (and what was typed) in the form of the refused action.

    An htmx request (an action posted from the page itself) gets only the item's panel and
    timeline, which htmx swaps in place; a plain form POST or a GET gets the whole page.
    """
    now = datetime.now(UTC)
    history = await passes(HistoryReader, actor)
    logged = await services.events.read(state.id) if history else []
    # The item page tells what people did; the ladder's and deliveries' own events fold into one
    # line per run that still shows their seqs, so the numbering has no unexplained gaps.
    events = [e for e in logged if e.type not in SYSTEM_EVENT_TYPES]
    stage_index = LOOP_STAGES.index(state.stage) if state.stage in LOOP_STAGES else len(LOOP_STAGES)
    units = (await org_names(services.org)).responsible_units()
    partial = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "item"
    return render(
        request,
        "_item_panel.html" if partial else "item.html",
        status,
        state=state,
        overdue=any(step.due is not None and step.due < now for step in state.pending),
        actions=actions_for(state, actor, now),
        timeline=timeline_rows(logged, SYSTEM_EVENT_TYPES),
        audit_url=f"/audit/items/{state.id}",
        history=history,
        stage_index=stage_index,
        stages_seen=_stages_seen(events),
        loop_backs=[(e, LOOP_BACKS[e.type]) for e in events if e.type in LOOP_BACKS],
        closed=state.stage is Stage.CLOSED,
        failed=failed,
        reason=reason,
        field_errors=field_errors or {},
        prev=prev or {},
        prev_lists=prev_lists or {},
        units=units,
        idempotency_key=str(uuid.uuid4()),
    )


@router.get("/items/{item_id}")
async def item_page(item_id: str, request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """One item as the signed-in user may see it (403 page for another unit's item)."""
    return await _item_view(request, actor, services, await visible_state(services, actor, item_id))


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def action_body(action: str, form: Any) -> dict[str, Any]:
    """The form as the action's JSON body: empty fields left out (their defaults apply), lists as lists."""
    fields = ACTIONS[action].model_fields
    body: dict[str, Any] = {}
    for name, field in fields.items():
        if name == "milestones":
            names, dues = form.getlist("milestone_name"), form.getlist("milestone_due")
            body[name] = [
                {"name": str(n).strip(), "due": str(d)}
                for n, d in zip(names, dues, strict=False)
                if str(n).strip()
            ]
        elif _is_list(field.annotation):
            body[name] = [str(v) for v in form.getlist(name) if str(v).strip()]
        elif (value := str(form.get(name) or "").strip()) != "":
            body[name] = value
    links = [line.strip() for line in str(form.get("evidence_links") or "").splitlines() if line.strip()]
    if links and "summary" in fields:
        # The command's evidence pins each document by its content hash, which a link cannot give;
        # the links travel in the claim's own text, recorded in its event like the rest of it.
        body["summary"] = "\n".join([body.get("summary", ""), "佐证材料 / evidence:", *links]).strip()
    return body


def _field_errors(error: RequestValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.errors():
        loc = [str(part) for part in problem.get("loc", ()) if part != "body"]
        found.setdefault(
            loc[0] if loc else "__all__", str(problem.get("msg", "")).removeprefix("Value error, ")
        )
    return found


@router.post("/items/{item_id}/act/{action}", dependencies=[CsrfChecked])
async def act(
    item_id: str, action: str, request: Request, actor: PageActor, services: ServicesDep
) -> Response:
    """Perform the action through the API's `perform_action`; a refusal comes back beside its form."""
    state = await visible_state(services, actor, item_id)
    if action not in ACTIONS or action == "open":
        raise NotFound(f"未知操作 {action} / unknown action")
    form = await request.form()
    typed = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    typed_lists = {name: [str(v) for v in form.getlist(name)] for name in ("milestone_name", "milestone_due")}
    key = str(form.get("idempotency_key") or "") or None
    try:
        await perform_action(
            item_id, action, actor, services, body=action_body(action, form), idempotency_key=key
        )
    except CommandRefused as refused:
        status = REFUSAL_STATUS[refused.refusal.kind]
        return await _refused(
            request,
            actor,
            services,
            state,
            action=action,
            status=status,
            reason=refused.refusal.reason,
            prev=typed,
            prev_lists=typed_lists,
        )
    except RequestValidationError as error:
        errors = _field_errors(error)
        reason = errors.pop("__all__", "请检查标出的内容 / please check the marked fields")
        return await _refused(
            request,
            actor,
            services,
            state,
            action=action,
            status=422,
            reason=reason,
            field_errors=errors,
            prev=typed,
            prev_lists=typed_lists,
        )
    if request.headers.get("HX-Request") == "true":
        # htmx: the item's panel and timeline, re-rendered in place (no redirect, no full page).
        return await _item_view(request, actor, services, await services.items.get(item_id) or state)
    return see_other(f"/items/{item_id}")


async def _refused(
    request: Request,
    actor: Actor,
    services: ServicesDep,
    state: ItemState,
    *,
    action: str,
    status: int,
    reason: str,
    field_errors: dict[str, str] | None = None,
    prev: dict[str, str] | None = None,
    prev_lists: dict[str, list[str]] | None = None,
) -> Response:
    # htmx swaps only what the server calls a success unless told otherwise; the page says so in
    # its htmx config, so the status stays honest for plain forms and scripts alike.
    fresh = await services.items.get(state.id) or state
    return await _item_view(
        request,
        actor,
        services,
        fresh,
        status=status,
        failed=action,
        reason=reason,
        field_errors=field_errors,
        prev=prev,
        prev_lists=prev_lists,
    )

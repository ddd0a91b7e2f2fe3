"""工作台 (what waits for the signed-in user) and 通知 (their inbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from adapters.workdays import dues_at
from api.errors import NotFound
from api.permissions import ItemReader, unit_scope
from api.services import ServicesDep
from domain.decide import Context, waiting_actions
from domain.people import Actor, Role
from domain.stages import Light, Stage
from domain.state import ItemState, PlanStatus, sign_for_step
from domain.vocabulary import ACTION_LABELS
from pages.errors import mark_page
from pages.web import CsrfChecked, PageActor, PageUser, passes, render, see_other
from store.inbox import Inbox
from store.items import ItemFilter

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

# The queues look at this many of the most recently changed items the user may see.
QUEUE_WINDOW = 200
# A milestone of an approved plan joins 临期节点 this long before it falls due (and stays while late).
MILESTONE_HORIZON = timedelta(days=7)
# 红黄牌 lists at most this many items of each light.
FLAGGED_LIMIT = 50

# Each role's queues, in the order shown: key, label, and the waiting actions that put an item there.
# An item joins the first queue one of its waiting actions belongs to; what no queue names goes to 其他待办.
QUEUES: dict[Role, tuple[tuple[str, str, frozenset[str]], ...]] = {
    Role.UNIT: (
        ("sign_for", "待签收", frozenset({"sign_for"})),
        ("submit_plan", "待报方案", frozenset({"submit_plan"})),
        ("milestones", "临期节点", frozenset()),  # filled from the approved plan's milestones, not actions
        ("rectify", "待整改", frozenset()),  # in 狠抓落实 again after an inspection ordered 整改
    ),
    Role.LEADER: (("sign_off", "待签批", frozenset({"sign_off"})),),
    Role.SUPERVISOR: (
        ("approve_plan", "待审方案", frozenset({"approve_plan"})),
        ("decide_extension", "待审延期", frozenset({"decide_extension"})),
        ("inspect", "待检查", frozenset({"inspect"})),
        ("evaluate", "待评估", frozenset({"evaluate"})),
    ),
}
OTHER = ("other", "其他待办")
MILESTONES = "milestones"
FLAGGED = ("flagged", "红黄牌")

# Which pending step's due instant an action answers (the rest use the item's soonest due).
_ACTION_STEPS = {"submit_plan": "submit_plan", "sign_off": "sign_off", "evaluate": "evaluate"}


def _due(state: ItemState, actions: list[str], actor: Actor) -> datetime | None:
    """When the first of `actions` is due for `actor` (the step's own due, else the item's soonest)."""
    wanted = {_ACTION_STEPS[a] for a in actions if a in _ACTION_STEPS}
    if "sign_for" in actions and actor.unit:
        wanted.add(sign_for_step(actor.unit))
    dues = [step.due for step in state.pending if step.due is not None]
    own = [step.due for step in state.pending if step.due is not None and step.step in wanted]
    return min(own or dues) if (own or dues) else None


def _queue_of(state: ItemState, waiting: list[str], role: Role) -> tuple[str, str]:
    for key, label, actions in QUEUES.get(role, ()):
        if key == MILESTONES:
            continue
        if key == "rectify":
            if state.stage is Stage.IMPLEMENT and state.rectify_rounds > 0:
                return key, label
        elif actions & set(waiting):
            return key, label
    return OTHER


def _row(
    state: ItemState, actions: list[str], due: datetime | None, now: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "state": state,
        "actions": [ACTION_LABELS[a] for a in actions],
        "due": due,
        "overdue": due is not None and due < now,
        **extra,
    }


def _milestones_due(state: ItemState, actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """临期节点: the lead unit's undone milestones of an approved plan due within the horizon (or late)."""
    plan = state.plan
    if actor.unit != state.lead_unit or plan is None or plan.status is not PlanStatus.APPROVED:
        return []
    if not state.stage.is_open:
        return []
    return [
        _row(state, ["report_progress"], m.due, now, milestone=m.name)
        for m in plan.milestones
        if m.done_at is None and m.due <= now + MILESTONE_HORIZON
    ]


async def _flagged(services: ServicesDep, actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """红黄牌: open items with a red light, then a yellow one."""
    rows: list[dict[str, Any]] = []
    for light in (Light.RED, Light.YELLOW):
        flt = ItemFilter(light=light, limit=FLAGGED_LIMIT)
        listed = await services.items.list(flt, now=now, visible_to_unit=unit_scope(actor))
        rows.extend(_row(s, [], _due(s, [], actor), now) for s in listed.states if s.stage.is_open)
    return rows


def _empty_queues(role: Role) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    queues: dict[str, tuple[str, list[dict[str, Any]]]] = {
        key: (label, []) for key, label, _ in QUEUES.get(role, ())
    }
    if role is Role.SUPERVISOR:
        queues[FLAGGED[0]] = (FLAGGED[1], [])
    queues[OTHER[0]] = (OTHER[1], [])
    return queues


@router.get("/workbench")
async def workbench(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """What waits for the user now, in their role's queues, each soonest due first."""
    queues = _empty_queues(actor.role)
    if await passes(ItemReader, actor):
        now = datetime.now(UTC)
        flt = ItemFilter(limit=QUEUE_WINDOW)
        page = await services.items.list(flt, now=now, visible_to_unit=unit_scope(actor))
        ctx = Context(actor=actor, now=now, dues=dues_at(now))
        for state in page.states:
            waiting = waiting_actions(state, ctx.model_copy(update={"number": state.number}))
            if waiting:
                key, _ = _queue_of(state, waiting, actor.role)
                queues[key][1].append(_row(state, waiting, _due(state, waiting, actor), now))
            if actor.role is Role.UNIT:
                queues[MILESTONES][1].extend(_milestones_due(state, actor, now))
        if actor.role is Role.SUPERVISOR:
            queues[FLAGGED[0]][1].extend(await _flagged(services, actor, now))
    far = datetime.max.replace(tzinfo=UTC)
    for _, rows in queues.values():
        rows.sort(key=lambda row: row["due"] if isinstance(row["due"], datetime) else far)
    shown = [(key, label, rows) for key, (label, rows) in queues.items() if rows or key != OTHER[0]]
    return render(request, "workbench.html", queues=shown, waiting=sum(len(rows) for _, _, rows in shown))


@router.get("/notifications")
async def notifications(
    request: Request,
    user: PageUser,
    services: ServicesDep,
    unread: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The user's notices, newest first."""
    page = await Inbox(services.sessions).page(user.id, unread_only=unread, limit=50, offset=offset)
    return render(request, "notifications.html", page=page, only_unread=unread, offset=offset)


@router.post("/notifications/{notification_id}/read", dependencies=[CsrfChecked])
async def read_one(notification_id: int, user: PageUser, services: ServicesDep) -> Response:
    """Mark one notice read."""
    if await Inbox(services.sessions).mark_read(user.id, notification_id, datetime.now(UTC)) is None:
        raise NotFound(f"消息不存在 / no such notification: {notification_id}")
    return see_other("/notifications")


@router.post("/notifications/read-all", dependencies=[CsrfChecked])
async def read_all(user: PageUser, services: ServicesDep) -> Response:
    """Mark every notice read."""
    await Inbox(services.sessions).mark_all_read(user.id, datetime.now(UTC))
    return see_other("/notifications")

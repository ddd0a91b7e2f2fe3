"""What every page shares: the templates, the signed-in user from the session cookie, CSRF, errors.

The pages are one more edge of the same services: they read and act through the functions the
JSON routes use, and a template only shows what those return (the actions from `decide`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, get_args
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.request_log import bind_request
from api.services import ServicesDep
from domain.instants import CHINA
from domain.people import ROLE_LABELS, Actor
from domain.refusals import CommandRefused
from domain.stages import STAGE_LABELS, Light, Stage
from domain.state import PendingStep
from domain.vocabulary import ACTION_LABELS, CATEGORY_LABELS, PRIORITY_LABELS, SOURCE_LABELS
from settings import Settings
from store.inbox import Inbox
from store.org import OrgDirectory, UnitRecord, UserRecord

HERE = Path(__file__).parent
SESSION_COOKIE = "duban_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"

templates = Jinja2Templates(directory=HERE / "templates")
# Starlette's Jinja2Templates autoescapes .html already; said again because the pages depend on it.
templates.env.autoescape = True
# The templates ship with the code and change only with it: no stat() of each template file on
# every render and include (a restart picks up an edit).
templates.env.auto_reload = False

LIGHT_LABELS = {Light.GREEN: "绿灯", Light.YELLOW: "黄灯", Light.RED: "红灯"}
LOOP_STAGES = (Stage.DEPLOY, Stage.IMPLEMENT, Stage.INSPECT, Stage.REPORT, Stage.EVALUATE)


def light_label(light: Light) -> str:
    """A light's Chinese name."""
    return LIGHT_LABELS[light]


def short_label(label: str) -> str:
    """The Chinese half of a "中文 / english" label (also "中文（注）/ english")."""
    return re.split(r"\s*/ ", label, maxsplit=1)[0]


def beijing(moment: datetime | None, with_time: bool = True) -> str:
    """An instant as people here read it: Beijing time, minutes at most."""
    if moment is None:
        return "—"
    local = moment.astimezone(CHINA)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


templates.env.filters["beijing"] = beijing
templates.env.filters["short"] = short_label
templates.env.globals.update(
    stage_labels={stage.value: short_label(label) for stage, label in STAGE_LABELS.items()},
    loop_stages=LOOP_STAGES,
    light_labels={light.value: label for light, label in LIGHT_LABELS.items()},
    role_labels={role.value: short_label(label) for role, label in ROLE_LABELS.items()},
    action_labels=ACTION_LABELS,
    category_labels={c.value: label for c, label in CATEGORY_LABELS.items()},
    priority_labels={p.value: label for p, label in PRIORITY_LABELS.items()},
    source_labels={s.value: label for s, label in SOURCE_LABELS.items()},
)


# How long the pages reuse the org chart's names before reading them again: a renamed unit shows
# its new name within this many seconds, and a page needs no query to name its units and leaders.
NAMES_TTL_SECONDS = 10.0


@dataclass
class OrgNames:
    """The org chart's units and users by id, as last read, for naming people and units on pages."""

    units: dict[str, UnitRecord] = field(default_factory=dict)
    users: dict[str, UserRecord] = field(default_factory=dict)
    read_at: float = float("-inf")

    def unit(self, unit_id: str | None) -> str:
        """A unit's name (its id when the chart does not know it)."""
        if not unit_id:
            return ""
        found = self.units.get(unit_id)
        return found.name if found else unit_id

    def user(self, user_id: str | None) -> str:
        """A person's name (their id when the chart does not know them)."""
        if not user_id:
            return ""
        found = self.users.get(user_id)
        return found.name if found else user_id

    def unit_or_user(self, party_id: str) -> str:
        """The name of a unit or person by their exact id (a notice goes to either; the id if neither)."""
        return self.unit(party_id) if party_id in self.units else self.user(party_id)

    def step(self, step: PendingStep) -> tuple[str, str]:
        """A pending step's (what, who) in Chinese, its unit and leader by name."""
        return step.named(self.unit, self.user)

    def responsible_units(self) -> list[UnitRecord]:
        """The units that take items (not the office or the discipline office), by id."""
        return [unit for unit in self.units.values() if unit.kind == "unit"]


# Per directory (one per app), dropped with it.
_names: weakref.WeakKeyDictionary[OrgDirectory, OrgNames] = weakref.WeakKeyDictionary()


async def org_names(org: OrgDirectory) -> OrgNames:
    """The org chart's names, read at most every NAMES_TTL_SECONDS per database."""
    cached = _names.get(org)
    if cached is not None and time.monotonic() - cached.read_at < NAMES_TTL_SECONDS:
        return cached
    fresh = OrgNames(
        units={unit.id: unit for unit in await org.units()},
        users={user.id: user for user in await org.users()},
        read_at=time.monotonic(),
    )
    _names[org] = fresh
    return fresh


def session_secret(settings: Settings) -> str:
    """The session cookie's signing key: derived from JWT_SECRET, so a token key never signs cookies."""
    return hmac.new(settings.jwt_secret.encode(), b"duban pages session", hashlib.sha256).hexdigest()


class SignInRequired(Exception):
    """No signed-in user: the page answers with a redirect to 登录."""

    def __init__(self, expired: bool) -> None:
        super().__init__("sign-in required")
        self.expired = expired


class CsrfRefused(Exception):
    """A form POST without the session's CSRF token."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (every form carries it back)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose form field or header does not carry the session's CSRF token."""
    expected = request.session.get(CSRF_FIELD)
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(expected, str) or not isinstance(sent, str):
        raise CsrfRefused
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfRefused


CsrfChecked = Depends(check_csrf)


async def page_user(request: Request, services: ServicesDep) -> UserRecord:
    """The user the session cookie names, as the org chart knows them now."""
    user_id = request.session.get("uid")
    user = await services.org.user(user_id) if isinstance(user_id, str) else None
    if user is None:
        # A cookie the middleware dropped (expired or forged) left the session empty.
        expired = SESSION_COOKIE in request.cookies
        request.session.pop("uid", None)
        raise SignInRequired(expired)
    bind_request(user=user.id, role=user.role.value)
    request.state.user = user
    request.state.names = await org_names(services.org)
    # The header's unread badge, on every page.
    request.state.unread = await Inbox(services.sessions).unread(user.id)
    return user


PageUser = Annotated[UserRecord, Depends(page_user)]


def actor_of(user: UserRecord) -> Actor:
    """The signed-in user as the domain sees an actor."""
    return Actor(id=user.id, role=user.role, unit=user.unit, name=user.name)


async def page_actor(user: PageUser) -> Actor:
    """The signed-in user as an actor."""
    return actor_of(user)


PageActor = Annotated[Actor, Depends(page_actor)]


def render(
    request: Request, template: str, status_code: int = 200, user: UserRecord | None = None, **context: Any
) -> HTMLResponse:
    """The page `template`, with the user, the CSRF token and the unread count's place in the header."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user or getattr(request.state, "user", None),
            "unread": getattr(request.state, "unread", 0),
            "csrf": csrf_token(request),
            "now": datetime.now(UTC),
            "names": getattr(request.state, "names", None) or OrgNames(),
            **context,
        },
        status_code=status_code,
    )


def see_other(url: str) -> Response:
    """After a successful POST: a 303 to the page that shows its result (a reload repeats nothing)."""
    return RedirectResponse(url, status_code=303)


def sign_in_redirect(request: Request, expired: bool) -> Response:
    """To 登录, coming back to the page asked for."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    flag = "&expired=1" if expired else ""
    return RedirectResponse(f"/login?next={quote(target, safe='')}{flag}", status_code=303)


async def passes(role_check: Any, actor: Actor) -> bool:
    """True when the API's role dependency (e.g. `api.permissions.HistoryReader`) lets `actor` through.

    The pages ask the API's own check instead of listing roles again.
    """
    try:
        await get_args(role_check)[1].dependency(actor)
    except CommandRefused:
        return False
    return True


async def require(role_check: Any, actor: Actor) -> None:
    """The API's role dependency, applied to a page (403 page when it refuses)."""
    await get_args(role_check)[1].dependency(actor)

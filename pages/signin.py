"""登录 / 退出: a password per org-chart user, a signed session cookie, and the way back in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.services import ServicesDep
from pages.errors import mark_page
from pages.web import CsrfChecked, PageUser, csrf_token, render, see_other
from store.passwords import DEMO_PASSWORD, PasswordStore

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

WRONG = "用户名或密码错误 / wrong user id or password"
DEMO_REFUSED = (
    "生产环境不接受演示密码，请由管理员用 duban passwd 设置密码 / the demo password is refused in production"
)


def _local(target: str | None) -> str:
    """`next` only ever leads to a page of this site (never `//elsewhere` or `https://…`)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/workbench"


@router.get("/")
async def home() -> Response:
    """The site's root leads to the workbench (which leads to 登录 when nobody is signed in)."""
    return see_other("/workbench")


@router.get("/login")
async def login_page(request: Request, next: str | None = None, expired: bool = False) -> Response:
    """The sign-in form."""
    notice = "登录已过期，请重新登录 / your session expired; please sign in again" if expired else ""
    return render(request, "login.html", next=_local(next), notice=notice, error="", user_id="")


@router.post("/login", dependencies=[CsrfChecked])
async def login(
    request: Request,
    services: ServicesDep,
    user_id: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/workbench",
) -> Response:
    """Check the password; on success a fresh session (new CSRF token) and on to `next`."""
    user_id = user_id.strip()
    ok = await PasswordStore(services.sessions).check(user_id, password)
    user = await services.org.user(user_id) if ok else None
    error = WRONG if user is None else ""
    if user is not None and services.settings.environment == "production" and password == DEMO_PASSWORD:
        error = DEMO_REFUSED
    if error:
        return render(request, "login.html", 401, next=_local(next), notice="", error=error, user_id=user_id)
    # A new session on sign-in: nothing a visitor had before signing in carries over.
    request.session.clear()
    request.session["uid"] = user_id
    csrf_token(request)
    return see_other(_local(next))


@router.post("/logout", dependencies=[CsrfChecked])
async def logout(request: Request, user: PageUser) -> Response:
    """Forget the session; back to 登录."""
    request.session.clear()
    return see_other("/login")

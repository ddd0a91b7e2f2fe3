"""Failures on a page answer as a page: the same translation as the API's, in HTML.

The API's handlers stay as they are for /api: each one here hands a request that is not a
page's back to the handler it replaced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from api.errors import REFUSAL_STATUS, ApiError, validation_summary
from domain.refusals import CommandRefused
from pages.web import CsrfRefused, SignInRequired, render, sign_in_redirect

log = structlog.get_logger(__name__)

Handler = Callable[[Request, Any], Awaitable[Response]]

TITLES = {
    401: "请先登录 / please sign in",
    403: "无权访问 / forbidden",
    404: "未找到 / not found",
    409: "当前不能办理 / not now",
    422: "内容有误 / invalid",
    500: "出错了 / something went wrong",
    503: "暂不可用 / unavailable",
    504: "处理超时 / timed out",
}


def is_page(request: Request) -> bool:
    """True for a request the pages' routers answer (they mark it before anything can fail)."""
    return bool(getattr(request.state, "page", False))


async def mark_page(request: Request) -> None:
    """The pages' routers' first dependency: failures from here on answer as pages."""
    request.state.page = True


def _error_page(request: Request, status: int, detail: str) -> Response:
    user = getattr(request.state, "user", None)
    return render(request, "error.html", status, user=user, title=TITLES.get(status, "出错了"), detail=detail)


def install_page_errors(app: FastAPI) -> None:
    """Put HTML answers in front of the API's handlers for page requests."""

    def wrap(kind: type[Exception], page: Callable[[Request, Any], Response]) -> None:
        previous: Handler | None = app.exception_handlers.get(kind)  # type: ignore[assignment]

        async def handle(request: Request, error: Any) -> Response:
            if is_page(request) or previous is None:
                return page(request, error)
            return await previous(request, error)

        app.add_exception_handler(kind, handle)

    wrap(SignInRequired, lambda request, error: sign_in_redirect(request, error.expired))
    wrap(
        CsrfRefused,
        lambda request, error: _error_page(
            request,
            403,
            "表单已失效（缺少或不符的 CSRF 令牌），请刷新页面后重试 / the form expired, reload",
        ),
    )
    wrap(
        CommandRefused,
        lambda request, error: _error_page(request, REFUSAL_STATUS[error.refusal.kind], error.refusal.reason),
    )
    wrap(ApiError, lambda request, error: _error_page(request, error.status_code, error.detail))
    wrap(
        RequestValidationError,
        lambda request, error: _error_page(request, 422, validation_summary(list(error.errors()))),
    )

    def unexpected(request: Request, error: Exception) -> Response:
        log.error("unexpected error on a page", exc_info=error)
        return _error_page(
            request, 500, "服务器内部错误，请联系管理员 / internal error, please tell the administrator"
        )

    wrap(Exception, unexpected)

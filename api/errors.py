"""Every failure the API reports, translated once into `{"detail": ...}` with its status code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError

from domain.refusals import CommandRefused, RefusalKind
from store.projection import NewerReadModelVersion

log = structlog.get_logger(__name__)

REFUSAL_STATUS = {
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.CONFLICT: 409,
    RefusalKind.INVALID: 422,
}

# Chinese-first wording for the status codes Starlette raises on its own (unknown path, wrong method).
STARLETTE_WORDING = {
    "Not Found": "未找到 / not found",
    "Method Not Allowed": "不支持该请求方法 / method not allowed",
}
ENGINE_UNAVAILABLE = "督办引擎暂不可用，请稍后重试 / the workflow engine is unavailable, try again later"
DATABASE_UNAVAILABLE = "数据库暂不可用，请稍后重试 / the database is unavailable, try again later"
NEWER_DATA = "数据由更新版本写入，请升级本进程 / written by a newer duban version; upgrade this process"
INTERNAL_ERROR = "服务器内部错误，请联系管理员 / internal error, please tell the administrator"
# A 503 tells the client when to try again: long enough for a database or Temporal restart to finish.
RETRY_AFTER_SECONDS = 5
# SQLSTATEs of a PostgreSQL server that went away or is not back yet: connection exception (08),
# operator intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 starting up), too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")
# An unreachable Temporal makes the lazy client raise a bare RuntimeError (SDK bridge): only its words tell.
_TEMPORAL_CONNECT_FAILED = "Failed client connect"


class ApiError(Exception):
    """An error the API answers with a fixed status and a reason a person understands."""

    status_code = 500
    retry_after: int | None = None  # seconds, sent as Retry-After when the client may simply retry

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(ApiError):
    """No token, a bad or expired one, or a user the org chart no longer knows."""

    status_code = 401


class NotFound(ApiError):
    """An unknown item, action or user."""

    status_code = 404


class InvalidRequest(ApiError):
    """A request the API cannot act on as sent, beyond what the body's schema says."""

    status_code = 422


class EngineTimeout(ApiError):
    """Temporal accepted the action but did not confirm it in time."""

    status_code = 504


class EngineBusy(ApiError):
    """Temporal refused the action for now: too many updates in flight on the item."""

    status_code = 429
    retry_after = 1


class EngineUnavailable(ApiError):
    """Temporal stopped answering while an action waited for it: nothing confirmed, retry later."""

    status_code = 503
    retry_after = RETRY_AFTER_SECONDS


class IdempotencyKeyReused(ApiError):
    """A retry under an Idempotency-Key asked for something other than the first request."""

    status_code = 422


class ErrorBody(BaseModel):
    """Every error answer: `detail`, one line a person can act on (Chinese first, then English)."""

    detail: str = Field(description="原因 / why the request was not done")


class FieldError(BaseModel):
    """One field the request's schema refused: where (`loc`, e.g. ["body", "percent"]) and why."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(ErrorBody):
    """A 422: `detail` sums it up; `errors` lists the fields the schema refused (empty when the
    content was refused for another reason, e.g. a date in the past or a reused Idempotency-Key)."""

    errors: list[FieldError] = Field(default_factory=list)


_RETRY_AFTER = {
    "Retry-After": {"description": "秒 / seconds to wait before retrying", "schema": {"type": "integer"}}
}
ERROR_MEANINGS: dict[int, str] = {
    401: "未登录或令牌无效 / no valid bearer token",
    403: "角色或单位无权 / the caller's role or unit may not do this",
    404: "不存在，或调用者无权查看 / not found, or not visible to the caller (a unit asking for another "
    "unit's item gets 404, never 403, so existence is not revealed)",
    409: "事项当前不在等待该操作 / the item is not waiting for this now (the detail says what it waits for)",
    422: "请求内容有误 / the request's content is invalid",
    429: "该事项同时处理的操作过多 / too many actions on the item at once; retry after Retry-After",
    503: "数据库或督办引擎暂不可用，未做任何改动 / the database or workflow engine is unavailable; "
    "nothing was done; retry after Retry-After",
    504: "督办引擎未及时确认，操作可能稍后生效 / not confirmed in time; retry with the same Idempotency-Key",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` for these error statuses, each with the body the handlers here send."""
    return {
        code: {
            "model": ValidationErrorBody if code == 422 else ErrorBody,
            "description": ERROR_MEANINGS[code],
            **({"headers": _RETRY_AFTER} if code in {429, 503} else {}),
        }
        for code in codes
    }


SIGNED_IN_ERRORS = error_responses(401, 403, 422, 503)
"""What any route behind a role check may answer besides its own errors."""


def item_not_found(item_id: str) -> NotFound:
    """The 404 for an item the read model does not know."""
    return NotFound(f"督办事项不存在 / no such item: {item_id}")


def _json(status: int, detail: str, retry_after: int | None = None, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 503:
        retry_after = retry_after or RETRY_AFTER_SECONDS
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 422:
        extra.setdefault("errors", [])  # every 422 has the shape ValidationErrorBody documents
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database is down, restarting, or dropped the connection: worth a retry."""
    if isinstance(error, ConnectionError | OperationalError | InterfaceError):
        # ConnectionError: the socket was refused or reset before SQLAlchemy had a connection to wrap it.
        return True
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        return error.connection_invalidated or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    return False


def _unavailable(error: Exception) -> str | None:
    """The 503's detail when `error` says the database or Temporal cannot be reached now, else None."""
    if database_unavailable(error):
        return DATABASE_UNAVAILABLE
    if isinstance(error, RuntimeError) and str(error).startswith(_TEMPORAL_CONNECT_FAILED):
        return ENGINE_UNAVAILABLE
    return None


def _unexpected(error: Exception, newer_seen: set[str]) -> JSONResponse:
    if isinstance(error, NewerReadModelVersion):
        # A rolling upgrade: workers of the new release already write rows this process cannot read.
        if str(error) not in newer_seen:
            newer_seen.add(str(error))
            log.warning("read model written by a newer duban", error=str(error))
        return _json(503, NEWER_DATA)
    if (detail := _unavailable(error)) is not None:
        log.warning("dependency unavailable", error=str(error), error_type=type(error).__name__)
        return _json(503, detail)
    log.error("unexpected error", exc_info=error)
    return _json(500, INTERNAL_ERROR)


class UnexpectedErrorMiddleware:
    """Pure ASGI: answers an exception no handler took (503 for the database, Temporal or a read-model
    row of a newer release, else 500), logged once.

    An `Exception` handler runs in Starlette's ServerErrorMiddleware, which re-raises after
    answering: the server then logged the error a second time and closed the keep-alive connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._newer_seen: set[str] = set()  # each newer row version is logged once per process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; turn an exception raised before the response started into an answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as error:
            if started:
                raise  # half an answer is out: only the server closing the connection can tell the client
            await _unexpected(error, self._newer_seen)(scope, receive, send)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def _plain(error: Any) -> dict[str, Any]:
    """Pydantic's error without `ctx`/`input`, which may hold objects JSON cannot carry."""
    return {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}


def validation_summary(errors: list[Any]) -> str:
    """One line a person can act on: each wrong field's path and what is wrong with it."""
    problems = [f"{_location(error.get('loc', ()))}: {error.get('msg', '')}" for error in errors]
    return "请求内容有误 / invalid request: " + "; ".join(problems)


def install_error_handlers(app: FastAPI, *, authenticate_first: Callable[[Request], Awaitable[None]]) -> None:
    """Register the one translation of each failure into an HTTP answer (before any other middleware).

    `authenticate_first` raises NotAuthenticated when a route that signs in gets no valid token.
    """
    app.add_middleware(UnexpectedErrorMiddleware)

    @app.exception_handler(ApiError)
    async def _on_api_error(request: Request, error: ApiError) -> JSONResponse:
        return _json(error.status_code, error.detail, error.retry_after)

    @app.exception_handler(CommandRefused)
    async def _on_refusal(request: Request, error: CommandRefused) -> JSONResponse:
        refusal = error.refusal
        log.info("action refused", kind=refusal.kind.value, reason=refusal.reason)
        return _json(REFUSAL_STATUS[refusal.kind], refusal.reason)

    @app.exception_handler(RequestValidationError)
    async def _on_validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            # Only an undecodable body fails before the sign-in dependency runs; a stranger gets 401, not 422.
            try:
                await authenticate_first(request)
            except NotAuthenticated as refused:
                return _json(refused.status_code, refused.detail)
        return _json(422, validation_summary(errors), errors=[_plain(e) for e in errors])

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = str(error.detail)
        return _json(error.status_code, STARLETTE_WORDING.get(detail, detail))

    @app.exception_handler(RPCError)
    async def _on_rpc(request: Request, error: RPCError) -> JSONResponse:
        log.warning("temporal call failed", status=error.status.name, message=error.message)
        return _json(503, ENGINE_UNAVAILABLE)

"""Every failure the API reports, translated once into `{"detail": ...}` with its status code."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from domain.refusals import CommandRefused, RefusalKind

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


class EngineUnavailable(ApiError):
    """Temporal cannot be reached; nothing was done."""

    status_code = 503


class EngineTimeout(ApiError):
    """Temporal accepted the action but did not confirm it in time."""

    status_code = 504


class EngineBusy(ApiError):
    """Temporal refused the action for now: too many updates in flight on the item."""

    status_code = 429
    retry_after = 1


class IdempotencyKeyReused(ApiError):
    """A retry under an Idempotency-Key asked for something other than the first request."""

    status_code = 422


def item_not_found(item_id: str) -> NotFound:
    """The 404 for an item the read model does not know."""
    return NotFound(f"督办事项不存在 / no such item: {item_id}")


def _json(status: int, detail: str, retry_after: int | None = None, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


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


def install_error_handlers(app: FastAPI) -> None:
    """Register the one translation of each failure into an HTTP answer."""

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
        return _json(422, validation_summary(errors), errors=[_plain(e) for e in errors])

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = str(error.detail)
        return _json(error.status_code, STARLETTE_WORDING.get(detail, detail))

    @app.exception_handler(RPCError)
    async def _on_rpc(request: Request, error: RPCError) -> JSONResponse:
        log.warning("temporal call failed", status=error.status.name, message=error.message)
        return _json(503, ENGINE_UNAVAILABLE, retry_after=5)

    @app.exception_handler(Exception)
    async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=error)
        return _json(500, "服务器内部错误，请联系管理员 / internal error, please tell the administrator")

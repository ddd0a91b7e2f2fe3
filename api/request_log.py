"""One canonical log line per request, with a request id bound through contextvars."""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is echoed into logs only if it cannot forge or break a log line.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_line_fields: ContextVar[dict[str, Any] | None] = ContextVar("duban_request_fields", default=None)

log = structlog.get_logger("duban.api.request")


def bind_request(**fields: Any) -> None:
    """Bind `fields` to every log line of this request, the canonical line included."""
    structlog.contextvars.bind_contextvars(**fields)
    line = _line_fields.get()
    if line is not None:
        line.update(fields)


def _request_id(scope: Scope) -> str:
    given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex


class RequestLogMiddleware:
    """Pure ASGI middleware: request id in, X-Request-ID out, one `request` line at the end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id bound, then log method, path, status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        fields: dict[str, Any] = {}
        token = _line_fields.set(fields)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                request_id=request_id,
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                **fields,
            )
            _line_fields.reset(token)
            structlog.contextvars.clear_contextvars()

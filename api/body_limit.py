"""A cap on request bodies, enforced while they stream in: bodies carry references, never files."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest real body (an opening with 50 milestones and 50 attachment references) is ~60 KiB.
MAX_BODY_BYTES = 256 * 1024
TOO_LARGE = (
    f"请求内容过大，上限 {MAX_BODY_BYTES // 1024} KiB / the request body exceeds {MAX_BODY_BYTES // 1024} KiB"
)


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes the cap; the app answers it as any 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE)


class BodyLimitMiddleware:
    """Pure ASGI: 413 for a declared Content-Length over the cap before the app runs, and for a
    chunked body as soon as the bytes received pass it; nothing past the cap is ever read."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized declared body at once; otherwise count the body as the app reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await JSONResponse({"detail": TOO_LARGE}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge
            return message

        await self.app(scope, counted, send)

"""structlog setup: console lines on a terminal, JSON lines otherwise, one pipeline for all loggers.

The standard library's loggers (uvicorn, temporalio, SQLAlchemy, Alembic) go through the
same processors via `structlog.stdlib.ProcessorFormatter`, so every line carries the
context bound with `structlog.contextvars` (request id, item id, workflow id).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from settings import Settings

# Library loggers and the level below which their records are noise for an operator.
QUIET_LOGGERS = {
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncio": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    # The API writes one canonical line per request itself.
    "uvicorn.access": logging.WARNING,
}


def _renderer(settings: Settings) -> Processor:
    mode = settings.log_format
    if mode == "auto":
        mode = "console" if sys.stdout.isatty() else "json"
    if mode == "console":
        return structlog.dev.ConsoleRenderer()
    return structlog.processors.JSONRenderer(ensure_ascii=False)


def _drop_color_message(logger: Any, method: str, event: EventDict) -> EventDict:
    """uvicorn repeats each message with ANSI colours in `extra`; the renderer colours already."""
    event.pop("color_message", None)
    return event


def _shared_processors(json_output: bool) -> list[Processor]:
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if json_output:
        # Locals in tracebacks could carry tokens or personal data into the log store.
        transformer = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        processors.append(structlog.processors.ExceptionRenderer(transformer))
    return processors


def configure_logging(settings: Settings) -> None:
    """Route structlog and the standard library to stdout through one set of processors."""
    renderer = _renderer(settings)
    json_output = isinstance(renderer, structlog.processors.JSONRenderer)
    shared = _shared_processors(json_output)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_color_message],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic", "temporalio"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)

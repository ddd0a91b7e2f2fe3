"""structlog setup: console lines on a terminal, JSON lines otherwise, one pipeline for all loggers.

The standard library's loggers (uvicorn, temporalio, SQLAlchemy, Alembic) go through the
same processors via `structlog.stdlib.ProcessorFormatter`, so every line carries the
context bound with `structlog.contextvars` (request id, item id, workflow id) and, while a
traced request or task runs, its OpenTelemetry trace and span ids.

Each fact appears once: Temporal's logger adapters put the workflow's or activity's details
into fields (`temporal_workflow`, `temporal_activity`) and no longer also into the message,
and the SDK core's records (forwarded by telemetry/runtime.py) carry their fields apart too.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor
from temporalio import activity, workflow

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


def _core_fields(logger: Any, method: str, event: EventDict) -> EventDict:
    """A forwarded SDK core record keeps its target and fields as one field, not a Python object."""
    core = event.pop("temporal_log", None)
    if core is not None:
        event["temporal_core"] = {"target": core.target, **core.fields}
    return event


def add_trace_ids(logger: Any, method: str, event: EventDict) -> EventDict:
    """The current span's trace and span ids, so a line leads to its trace (nothing when untraced)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = trace.format_trace_id(context.trace_id)
        event["span_id"] = trace.format_span_id(context.span_id)
    return event


def _shared_processors(json_output: bool) -> list[Processor]:
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
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


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library to `stream` (stdout) through one set of processors."""
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
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_color_message, _core_fields],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
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
    # The adapters' details stay as fields (ExtraAdder); in the message too they were said twice.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False

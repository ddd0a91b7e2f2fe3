"""What every `duban` command shares: an expected failure as one line and an exit code.

Standard library only at import time (the database helpers import SQLAlchemy when they run), so
`duban --help` and the offline `python -m audit_cli verify-bundle` stay fast and light.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from setup_errors import SetupUnusable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from settings import Settings

T = TypeVar("T")


class CliError(Exception):
    """An expected failure: its message is printed as it is, and the command exits non-zero."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def shown_url(url: str) -> str:
    """A database URL as it may be printed: its password hidden."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415 — see the module's docstring

    return make_url(url).render_as_string(hide_password=True)


def database_failure(error: Exception, database_url: str) -> CliError:
    """One line for a database error: not migrated yet, or unavailable (with where and why)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError  # noqa: PLC0415

    first_line = str(getattr(error, "orig", error)).splitlines()[0] if str(error) else type(error).__name__
    where = shown_url(database_url)
    missing = (
        "no such table" in first_line.lower() and isinstance(error, OperationalError | ProgrammingError)
    ) or ("does not exist" in first_line and isinstance(error, ProgrammingError))
    if missing:
        return CliError(f"数据库尚未初始化，请先运行 duban migrate / database not migrated ({where})")
    return CliError(f"数据库不可用 / database unavailable ({where}): {first_line}")


def run_db(settings: Settings, work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that uses the database, turning its failures into one line."""
    from sqlalchemy.exc import DBAPIError, IntegrityError  # noqa: PLC0415

    try:
        return asyncio.run(work)
    except IntegrityError as error:
        raise CliError(f"数据不一致，未写入 / inconsistent data, nothing written: {error.orig}") from error
    except (DBAPIError, OSError) as error:
        raise database_failure(error, settings.resolved_database_url) from error


async def with_sessions(
    settings: Settings, use: Callable[[async_sessionmaker[AsyncSession]], Coroutine[Any, Any, T]]
) -> T:
    """Open the database, let `use` work with its sessions, and close it again."""
    from store.db import make_engine, make_sessions  # noqa: PLC0415

    engine = make_engine(settings.resolved_database_url)
    try:
        return await use(make_sessions(engine))
    finally:
        await engine.dispose()


def run_with_sessions(
    settings: Settings, use: Callable[[async_sessionmaker[AsyncSession]], Coroutine[Any, Any, T]]
) -> T:
    """`with_sessions` run to its end, its database failures as one line."""
    return run_db(settings, with_sessions(settings, use))


def run_command(run: Callable[[], int]) -> int:
    """Run one command: an expected failure becomes `duban: <one line>` on stderr and its exit code.

    Expected are `CliError` (its own code), an unusable key, secrets file or address
    (`SetupUnusable`, 2) and settings that do not validate (2); anything else is a bug and keeps
    its traceback.
    """
    from pydantic import ValidationError  # noqa: PLC0415

    try:
        return run()
    except CliError as error:
        print(f"duban: {error}", file=sys.stderr)
        return error.code
    except SetupUnusable as error:
        print(f"duban: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:
        problem = error.errors()[0]
        print(f"duban: 配置有误 / bad settings: {problem['msg']}", file=sys.stderr)
        return 2

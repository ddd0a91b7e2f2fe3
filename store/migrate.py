"""Bring a database to the newest schema, from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url

from store.db import make_engine

_SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration built in code: the scripts shipped with this package, and `url`."""
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS).replace("%", "%%"))
    config.attributes["url"] = url
    return config


def ensure_sqlite_directory(url: str) -> None:
    """Create the directory of a SQLite file URL (other URLs are left alone)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


async def upgrade(url: str) -> None:
    """Apply every migration up to head to the database at `url` (creating a SQLite file's directory)."""
    ensure_sqlite_directory(url)
    config = alembic_config(url)
    engine = make_engine(url)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()

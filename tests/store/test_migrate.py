"""Migrations: from any directory, into a directory that does not exist yet, and idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from store.db import make_engine
from store.migrate import alembic_config, upgrade
from store.schema import metadata

TABLES = {
    "audit_events",
    "items",
    "item_units",
    "item_numbers",
    "units",
    "users",
    "notify_inbox",
    "notify_digest_entries",
    "notify_digests",
    "ledger",
    "checkpoints",
    "escalation_policies",
    "idempotency_keys",
    "user_passwords",
    "assessment_policies",
    "assessment_publications",
    "rhythm_runs",
    "rhythm_requests",
    "documents",
    "alembic_version",
}


async def test_upgrade_creates_the_sqlite_directory_and_every_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'data' / 'duban.db'}"

    await upgrade(url)
    await upgrade(url)

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
    finally:
        await engine.dispose()
    assert names == TABLES
    assert journal == "wal"


async def test_upgrade_of_a_migrated_database_is_a_no_op(database_url: str) -> None:
    await upgrade(database_url)

    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            version = (await connection.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
    finally:
        await engine.dispose()
    assert names == TABLES
    assert version == ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def test_migrated_schema_matches_the_tables_the_queries_use(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []

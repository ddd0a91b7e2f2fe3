"""Robot secrets live in a file of their own: the 0008 migration moves them out, both ways."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from store.db import make_engine
from store.migrate import alembic_config, upgrade
from store.unit_secrets import SecretsUnavailable, UnitRobots, load_unit_secrets, write_unit_secrets

FGW_HOOK = "https://oapi.dingtalk.com/robot/send?access_token=fgw-db-token"
CZJ_HOOK_IN_DB = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=czj-db-key"
CZJ_HOOK_IN_FILE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=czj-file-key"
GZW_HOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=gzw-file-key"
ROBOT_COLUMNS = {"dingtalk_webhook", "dingtalk_secret", "wecom_webhook"}


async def _alembic(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config(url)
    engine = make_engine(url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        step(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def _columns_and_rows(url: str) -> tuple[set[str], dict[str, dict[str, str | None]]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {column["name"] for column in inspect(sync).get_columns("units")}
            )
            rows = (await connection.execute(text("SELECT * FROM units"))).mappings().all()
    finally:
        await engine.dispose()
    return columns, {row["id"]: {name: row[name] for name in ROBOT_COLUMNS & columns} for row in rows}


def _plain(robots: dict[str, UnitRobots]) -> dict[str, dict[str, str]]:
    return {unit: values.plain() for unit, values in robots.items()}


async def test_the_migration_moves_robot_secrets_to_the_file_and_back(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets_file = tmp_path / "secrets" / "unit-secrets.toml"
    monkeypatch.setenv("UNIT_SECRETS_FILE", str(secrets_file))
    before = ScriptDirectory.from_config(alembic_config(database_url)).get_revision("0008_unit_secrets")
    assert isinstance(before.down_revision, str)
    await _alembic(database_url, command.downgrade, before.down_revision)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO units (id, name, type, kind, dingtalk_webhook, dingtalk_secret,"
                    " wecom_webhook) VALUES (:id, :id, '党政机关', 'unit', :ding, :secret, :wecom)"
                ),
                [
                    {"id": "fgw", "ding": FGW_HOOK, "secret": "SECfgw-db", "wecom": None},
                    {"id": "czj", "ding": None, "secret": None, "wecom": CZJ_HOOK_IN_DB},
                    {"id": "gzw", "ding": None, "secret": None, "wecom": None},
                    {"id": "jtj", "ding": "", "secret": "", "wecom": ""},
                ],
            )
    finally:
        await engine.dispose()
    # The operator already wrote czj's robot into the file: the file's value is the newer one.
    write_unit_secrets(secrets_file, {"czj": UnitRobots.model_validate({"wecom_webhook": CZJ_HOOK_IN_FILE})})

    await upgrade(database_url)

    columns, _ = await _columns_and_rows(database_url)
    assert not ROBOT_COLUMNS & columns
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert _plain(load_unit_secrets(secrets_file)) == {
        "fgw": {"dingtalk_secret": "SECfgw-db", "dingtalk_webhook": FGW_HOOK},
        "czj": {"wecom_webhook": CZJ_HOOK_IN_FILE},
    }
    if database_url.startswith("sqlite"):
        stored = b"".join(path.read_bytes() for path in sorted(tmp_path.glob("duban.db*")))  # noqa: ASYNC240
        assert b"fgw-db-token" not in stored  # not even in the pages the old rows left
        assert b"czj-db-key" not in stored

    write_unit_secrets(
        secrets_file,
        {**load_unit_secrets(secrets_file), "gzw": UnitRobots.model_validate({"wecom_webhook": GZW_HOOK})},
    )
    await _alembic(database_url, command.downgrade, before.down_revision)

    columns, rows = await _columns_and_rows(database_url)
    assert columns >= ROBOT_COLUMNS
    assert rows["fgw"] == {
        "dingtalk_webhook": FGW_HOOK,
        "dingtalk_secret": "SECfgw-db",
        "wecom_webhook": None,
    }
    assert rows["czj"]["wecom_webhook"] == CZJ_HOOK_IN_FILE
    assert rows["gzw"]["wecom_webhook"] == GZW_HOOK

    await upgrade(database_url)  # and up again: the file already holds every value

    assert set(load_unit_secrets(secrets_file)) == {"fgw", "czj", "gzw"}


def test_a_secrets_file_others_may_read_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "unit-secrets.toml"
    write_unit_secrets(path, {"fgw": UnitRobots.model_validate({"wecom_webhook": GZW_HOOK})})
    path.chmod(0o640)

    with pytest.raises(SecretsUnavailable) as refused:
        load_unit_secrets(path)

    assert "chmod 600" in str(refused.value)
    assert "gzw-file-key" not in str(refused.value)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        pytest.param(None, "no robot secrets file", id="missing"),
        pytest.param("[units.fgw\n", "bad robot secrets file", id="not-toml"),
        pytest.param('[units.fgw]\nwebhook = "x"\n', "units.fgw.webhook", id="unknown-key"),
    ],
)
def test_a_missing_or_malformed_secrets_file_is_one_clear_line(
    tmp_path: Path, content: str | None, said: str
) -> None:
    path = tmp_path / "unit-secrets.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
        path.chmod(0o600)

    with pytest.raises(SecretsUnavailable) as refused:
        load_unit_secrets(path)

    assert said in str(refused.value)
    assert len(str(refused.value).splitlines()) == 1


def test_robot_values_never_print() -> None:
    robots = UnitRobots.model_validate({"dingtalk_webhook": FGW_HOOK, "dingtalk_secret": "SECfgw"})

    shown = [repr(robots), str(robots), robots.model_dump_json(), str(robots.model_dump())]

    assert not [text for text in shown if "fgw-db-token" in text or "SECfgw" in text]

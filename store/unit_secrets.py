"""The units' robot webhooks and DingTalk 加签 secrets: a file of their own, never in the database.

A webhook URL carries the robot's access token, so whoever reads it may post into the unit's
group chat. The file (UNIT_SECRETS_FILE, TOML) is readable by its owner only; a database dump,
an API answer or a log line never holds these values:

    [units.fgw]
    dingtalk_webhook = "https://oapi.dingtalk.com/robot/send?access_token=…"
    dingtalk_secret = "SEC…"

    [units.czj]
    wecom_webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from domain.org import ROBOT_SECRET_FIELDS
from setup_errors import SetupUnusable

FIELDS = ROBOT_SECRET_FIELDS  # the fields UnitRobots holds; an org chart refuses them


class SecretsUnavailable(SetupUnusable):
    """The secrets file is missing, readable by others or malformed; the message says what to do."""


class UnitRobots(BaseModel):
    """One unit's group robots; the values print as `**********` (repr, str, JSON dumps)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dingtalk_webhook: SecretStr | None = None
    dingtalk_secret: SecretStr | None = None  # DingTalk's 加签 secret, when the robot requires signed calls
    wecom_webhook: SecretStr | None = None

    def plain(self) -> dict[str, str]:
        """The values that are set, in clear: only for writing the secrets file."""
        values = {name: getattr(self, name) for name in sorted(FIELDS)}
        return {name: value.get_secret_value() for name, value in values.items() if value is not None}


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: dict[str, UnitRobots] = {}


def load_unit_secrets(path: Path) -> dict[str, UnitRobots]:
    """The robots per unit id in `path`; refuses a file that its group or others may read."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretsUnavailable(
                f"机器人密钥文件 {path} 权限过宽（{stat.filemode(mode)}），请执行 chmod 600 / "
                f"the robot secrets file is open to group or others; chmod 600 {path}"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SecretsUnavailable(
            f"找不到机器人密钥文件 {path} / no robot secrets file at {path} (set UNIT_SECRETS_FILE)"
        ) from error
    except OSError as error:
        raise SecretsUnavailable(
            f"无法读取机器人密钥文件 {path} / cannot read the robot secrets file: {error.strerror}"
        ) from error
    try:
        return _File.model_validate(tomllib.loads(text)).units
    except tomllib.TOMLDecodeError as error:
        raise SecretsUnavailable(f"机器人密钥文件有误 / bad robot secrets file {path}: {error}") from error
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise SecretsUnavailable(
            f"机器人密钥文件有误 / bad robot secrets file {path}: {where}: {problem['msg']}"
        ) from error


def write_unit_secrets(path: Path, robots: dict[str, UnitRobots]) -> None:
    """Replace `path` atomically with `robots`, mode 0600 from the first byte on."""
    lines = ["# 各单位群机器人的地址与加签密钥 / the units' robot webhooks and signing secrets"]
    for unit_id, unit in sorted(robots.items()):
        # JSON strings are TOML basic strings; the unit id is quoted in case it is not a bare key.
        lines += ["", f"[units.{json.dumps(unit_id, ensure_ascii=False)}]"]
        lines += [f"{name} = {json.dumps(value, ensure_ascii=False)}" for name, value in unit.plain().items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

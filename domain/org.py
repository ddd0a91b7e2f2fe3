"""The org chart as the domain sees it: units (with their kind and leader) and users (with role and unit).

Loaded and kept by `store.org.OrgDirectory`; read by the notice rules (`domain.audience`) and
the API's checks. Robot addresses and secrets are not part of it (`UNIT_SECRETS_FILE`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from domain.people import Role

ROBOT_SECRET_FIELDS = frozenset({"dingtalk_webhook", "dingtalk_secret", "wecom_webhook"})
"""A unit's robot settings: kept in UNIT_SECRETS_FILE, refused in an org chart."""


class UnitRecord(BaseModel):
    """A unit: the 督查室 office, a responsible unit (党政机关, 事业单位 …) or the discipline office."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    type: str
    leader_user_id: str | None = None
    kind: Literal["office", "unit", "discipline"] = "unit"

    @model_validator(mode="before")
    @classmethod
    def _refuse_robot_secrets(cls, data: Any) -> Any:
        # An org chart of the old shape must not have its robot tokens silently dropped (or stored).
        if isinstance(data, dict) and (found := sorted(ROBOT_SECRET_FIELDS & data.keys())):
            raise ValueError(
                f"机器人地址与密钥不入组织架构，请写入 UNIT_SECRETS_FILE / {', '.join(found)}"
                " belong in UNIT_SECRETS_FILE, not in the org chart"
            )
        return data


class UserRecord(BaseModel):
    """A person who signs in: role and unit decide what they may do."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    unit: str | None = None
    title: str = ""
    email: str | None = None
    top_leader: bool = False  # the 一把手 whom the top rung of a ladder reaches


class OrgChart(BaseModel):
    """Units and users, loaded together."""

    model_config = ConfigDict(frozen=True)

    units: list[UnitRecord]
    users: list[UserRecord]

"""Who acts: roles, actors and a unit's part in an item."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    """A user's role in the org chart (README: who uses it)."""

    SUPERVISOR = "supervisor"
    UNIT = "unit"
    LEADER = "leader"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.SUPERVISOR: "督查室 / supervisor",
    Role.UNIT: "承办单位 / unit",
    Role.LEADER: "责任领导 / leader",
    Role.AUDITOR: "审计 / auditor",
    Role.ADMIN: "系统管理员 / admin",
}


class Actor(BaseModel):
    """The person behind a command or event; `unit` is set for unit users."""

    model_config = ConfigDict(frozen=True)

    id: str
    role: Role
    unit: str | None = None
    name: str = ""


SYSTEM_ACTOR = Actor(id="system", role=Role.ADMIN, name="督办系统 / system")

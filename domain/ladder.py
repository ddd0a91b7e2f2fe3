"""The escalation ladder as data: levels, rungs, policies, and the pure arithmetic of their instants.

A policy (chosen by category and priority, versioned, edited by admins) lists rungs relative to a
waiting step's due instant, in working days. The instants are computed once, outside the
workflow, with the Chinese calendar passed in as a predicate, and recorded in `LadderArmed`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.dues import IsWorkday, shift_working_days
from domain.instants import Instant
from domain.stages import Light
from domain.vocabulary import Category, Priority


class Audience(StrEnum):
    """Who a notice is for, resolved against the org chart by the notify activities."""

    UNIT_HANDLERS = "unit_handlers"  # the users of the units concerned
    UNIT_LEADER = "unit_leader"  # each concerned unit's head
    RESPONSIBLE_LEADER = "responsible_leader"  # the item's 责任领导 / 分管领导
    TOP_LEADER = "top_leader"  # 一把手
    DISCIPLINE = "discipline"  # 纪检监察 (the discipline office)
    SUPERVISOR = "supervisor"  # the item's supervisor


class Level(StrEnum):
    """A rung of the ladder, from the gentlest to the gravest."""

    REMINDER = "reminder"
    WARNING = "warning"
    OVERDUE = "overdue"
    TOP = "top"

    @property
    def rank(self) -> int:
        """0 for a reminder up to 3 for 挂牌督办; a higher rank supersedes a lower one."""
        return list(Level).index(self)

    @property
    def light(self) -> Light:
        """The item's light while this rung is the worst one reached on a pending step."""
        return LEVEL_LIGHTS[self]

    @property
    def label(self) -> str:
        """The Chinese-first name shown to people."""
        return LEVEL_LABELS[self]


LEVEL_LIGHTS = {
    Level.REMINDER: Light.GREEN,
    Level.WARNING: Light.YELLOW,
    Level.OVERDUE: Light.RED,
    Level.TOP: Light.RED,
}
LEVEL_LABELS = {
    Level.REMINDER: "提醒 / reminder",
    Level.WARNING: "预警（黄灯）/ warning",
    Level.OVERDUE: "超期（红灯）/ overdue",
    Level.TOP: "挂牌督办 / top-level supervision",
}

Offset = Annotated[int, Field(ge=-20, le=60)]


class RungRule(BaseModel):
    """One rung of a policy: `offset_days` working days from the due instant (negative: before)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Level
    offset_days: Offset
    audience: list[Audience] = Field(min_length=1, max_length=len(Audience))

    @model_validator(mode="after")
    def _audience_distinct(self) -> RungRule:
        if len(set(self.audience)) != len(self.audience):
            raise ValueError("通知对象不能重复 / duplicate audience")
        return self


def check_rungs(rungs: list[RungRule]) -> list[RungRule]:
    """The rungs in level order, or ValueError: one rung per level, later levels strictly later."""
    if not rungs:
        raise ValueError("督办阶梯至少需要一级 / a ladder needs at least one rung")
    levels = [r.level for r in rungs]
    if len(set(levels)) != len(levels):
        raise ValueError("每个级别只能出现一次 / each level may appear once")
    ordered = sorted(rungs, key=lambda r: r.level.rank)
    for lower, higher in pairwise(ordered):
        if higher.offset_days <= lower.offset_days:
            raise ValueError(
                f"「{higher.level.label}」须晚于「{lower.level.label}」/ "
                f"{higher.level.value} must come after {lower.level.value}"
            )
    return ordered


class LadderRules(BaseModel):
    """A policy's rungs, checked: the body of an admin's edit and the content of a version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rungs: list[RungRule] = Field(max_length=len(Level))

    @field_validator("rungs")
    @classmethod
    def _rungs_consistent(cls, rungs: list[RungRule]) -> list[RungRule]:
        return check_rungs(rungs)


DEFAULT_LADDER = LadderRules(
    rungs=[
        RungRule(level=Level.REMINDER, offset_days=-2, audience=[Audience.UNIT_HANDLERS]),
        RungRule(level=Level.WARNING, offset_days=0, audience=[Audience.UNIT_HANDLERS, Audience.UNIT_LEADER]),
        RungRule(level=Level.OVERDUE, offset_days=3, audience=[Audience.RESPONSIBLE_LEADER]),
        RungRule(level=Level.TOP, offset_days=7, audience=[Audience.TOP_LEADER, Audience.DISCIPLINE]),
    ]
)
"""The default table: the ladder every category and priority starts with."""


class AppliedPolicy(BaseModel):
    """The policy version an item runs under, recorded whole at open so later edits never touch it."""

    model_config = ConfigDict(frozen=True)

    policy_id: str
    version: int = Field(ge=1)
    category: Category
    priority: Priority
    rungs: list[RungRule]


def policy_id_for(category: Category, priority: Priority) -> str:
    """The id of the policy a category and priority choose, e.g. `major_project/high`."""
    return f"{category.value}/{priority.value}"


def rule_name(policy_id: str, version: int, rule: RungRule) -> str:
    """How an event names its rule, e.g. `major_project/high v2 overdue: due+3 working days`."""
    return f"{policy_id} v{version} {rule.level.value}: due{rule.offset_days:+d} working days"


class ArmedRung(BaseModel):
    """A rung with its instant computed: what `LadderArmed` records and the workflow waits on."""

    model_config = ConfigDict(frozen=True)

    level: Level
    at: Instant
    rule: str
    audience: list[Audience]


def arm_rungs(policy: AppliedPolicy, due: datetime, is_workday: IsWorkday) -> list[ArmedRung]:
    """The policy's rungs for a step due at `due`, each with its instant."""
    return [
        ArmedRung(
            level=rule.level,
            at=shift_working_days(due, rule.offset_days, is_workday),
            rule=rule_name(policy.policy_id, policy.version, rule),
            audience=list(rule.audience),
        )
        for rule in policy.rungs
    ]

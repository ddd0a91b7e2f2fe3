"""Messages of the ladder's activities: choose the policy at open, compute a step's rung instants."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.instants import Instant
from domain.ladder import AppliedPolicy, ArmedRung
from domain.vocabulary import Category, Priority

CHOOSE_POLICY_ACTIVITY = "choose_policy"
ARM_LADDERS_ACTIVITY = "arm_ladders"


class PolicyRequest(BaseModel):
    """Activity input: which policy an item of this category and priority runs under."""

    model_config = ConfigDict(frozen=True)

    category: Category
    priority: Priority


class StepDue(BaseModel):
    """A waiting step and its due instant."""

    model_config = ConfigDict(frozen=True)

    step: str
    due: Instant


class ArmLadders(BaseModel):
    """Activity input: the item's policy and the steps whose ladders to compute."""

    model_config = ConfigDict(frozen=True)

    policy: AppliedPolicy
    steps: list[StepDue]


class ArmedLadder(BaseModel):
    """One step's rungs with their instants."""

    model_config = ConfigDict(frozen=True)

    step: str
    due: Instant
    rungs: list[ArmedRung]


class ArmedLadders(BaseModel):
    """Activity result: every requested step's rungs, and the calendar that counted the working days."""

    model_config = ConfigDict(frozen=True)

    ladders: list[ArmedLadder]
    calendar: str

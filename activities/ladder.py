"""Ladder activities: the policy an item runs under, and its rungs' instants on the Chinese calendar.

Calendar arithmetic lives here, never in the workflow: the instants are returned, recorded in
`LadderArmed`, and replay reads them from history whatever `chinesecalendar` version is installed.
"""

from __future__ import annotations

from temporalio import activity

from adapters.workdays import ChinaWorkdays
from domain.ladder import AppliedPolicy, arm_rungs
from store.policies import PolicyStore
from workflows.ladder_messages import (
    ARM_LADDERS_ACTIVITY,
    CHOOSE_POLICY_ACTIVITY,
    ArmedLadder,
    ArmedLadders,
    ArmLadders,
    PolicyRequest,
)


class LadderActivities:
    """Activities bound to the policy store (injected by the worker)."""

    def __init__(self, policies: PolicyStore) -> None:
        self._policies = policies

    @activity.defn(name=CHOOSE_POLICY_ACTIVITY)
    async def choose_policy(self, request: PolicyRequest) -> AppliedPolicy:
        """The newest policy version for the item's category and priority."""
        version = await self._policies.current(request.category, request.priority)
        return version.applied()

    @activity.defn(name=ARM_LADDERS_ACTIVITY)
    async def arm_ladders(self, request: ArmLadders) -> ArmedLadders:
        """Each step's rungs shifted from its due instant by working days (holidays and 调休 counted)."""
        calendar = ChinaWorkdays()
        ladders = [
            ArmedLadder(
                step=step.step, due=step.due, rungs=arm_rungs(request.policy, step.due, calendar.is_workday)
            )
            for step in request.steps
        ]
        return ArmedLadders(ladders=ladders, calendar=calendar.label)

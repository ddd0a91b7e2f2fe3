"""Drive an item's workflow the way the API does: update-with-start to open, updates to act."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.dues import compute_dues, weekends_only
from domain.people import Actor, Role
from domain.state import ItemState
from settings import TEST_ACTION_KEY
from tests.builders import open_body
from workflows.item import SupervisionItemWorkflow
from workflows.messages import (
    ACT_UPDATE,
    HISTORY_LIMIT,
    ActionRequest,
    ActionResult,
    ItemStart,
    workflow_id_for,
)
from workflows.signing import signed

SUPERVISOR = Actor(id="sup-zhang", role=Role.SUPERVISOR, unit="dcs", name="张督查")
LEAD = Actor(id="fgw-li", role=Role.UNIT, unit="fgw", name="李发改")
CO = Actor(id="czj-wu", role=Role.UNIT, unit="czj", name="吴财政")
LEADER = Actor(id="leader-wang", role=Role.LEADER, name="王副市长")
AUDITOR = Actor(id="audit-zhao", role=Role.AUDITOR, name="赵审计")


@dataclass
class ItemDriver:
    """One item's workflow, acted on through the client as the API would."""

    client: Client
    task_queue: str
    item_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    history_limit: int = HISTORY_LIMIT
    # How far the clock the dues are counted on is from now (an API host's clock skewed).
    clock_skew: timedelta = timedelta(0)

    def request(self, action: str, actor: Actor, body: dict[str, Any] | None = None) -> ActionRequest:
        """An action request with dues computed now (plus `clock_skew`) on the weekends-only calendar."""
        dues = compute_dues(datetime.now(UTC) + self.clock_skew, weekends_only, "weekends-only (test)")
        return ActionRequest(action=action, actor=actor, body=body or {}, dues=dues)

    async def open(self, body: dict[str, Any] | None = None) -> ActionResult:
        """Open the item: start its workflow and send `open` in one call."""
        start = WithStartWorkflowOperation(
            SupervisionItemWorkflow.run,
            ItemStart(item_id=self.item_id, history_limit=self.history_limit),
            id=workflow_id_for(self.item_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        update_id, request = self._signed(self.request("open", SUPERVISOR, body or open_body()))
        result: ActionResult = await self.client.execute_update_with_start_workflow(
            ACT_UPDATE, request, start_workflow_operation=start, id=update_id, result_type=ActionResult
        )
        return result

    async def act(self, action: str, actor: Actor, body: dict[str, Any] | None = None) -> ActionResult:
        """Perform one action; raises WorkflowUpdateFailedError when refused."""
        handle = self.client.get_workflow_handle(workflow_id_for(self.item_id))
        update_id, request = self._signed(self.request(action, actor, body))
        result: ActionResult = await handle.execute_update(
            ACT_UPDATE, request, id=update_id, result_type=ActionResult
        )
        return result

    def _signed(self, request: ActionRequest) -> tuple[str, ActionRequest]:
        """A fresh update id and the request signed for it, as the API's gateway sends it."""
        update_id = str(uuid.uuid4())
        return update_id, signed(TEST_ACTION_KEY, workflow_id_for(self.item_id), update_id, request)

    async def state(self) -> ItemState:
        """The workflow's own view of the item."""
        handle = self.client.get_workflow_handle(workflow_id_for(self.item_id))
        state: ItemState = await handle.query(SupervisionItemWorkflow.state)
        return state


def future(days: int) -> str:
    """An ISO instant `days` from now."""
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def drive_to_implement(item: ItemDriver) -> None:
    """Open, both units sign for, the plan (one milestone) is submitted and approved."""
    await item.open()
    await item.act("sign_for", LEAD)
    await item.act("sign_for", CO)
    await item.act(
        "submit_plan",
        LEAD,
        {"measures": "分三批推进", "milestones": [{"name": "首批开工", "due": future(30)}]},
    )
    await item.act("approve_plan", SUPERVISOR, {"comment": "同意"})


async def drive_to_closed(item: ItemDriver) -> None:
    """The straight path from 立项 to 办结归档."""
    await drive_to_implement(item)
    await item.act(
        "report_progress", LEAD, {"summary": "首批完成", "percent": 100, "milestones_done": ["首批开工"]}
    )
    await item.act("claim_completion", LEAD, {"summary": "全部完成"})
    await item.act("inspect", SUPERVISOR, {"result": "pass", "findings": "属实"})
    await item.act("submit_report", SUPERVISOR, {"summary": "已办结"})
    await item.act("sign_off", LEADER, {"approve": True})
    await item.act("evaluate", SUPERVISOR, {"effective": True, "rating": "good"})

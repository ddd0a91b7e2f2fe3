"""The baseline: a bare Temporal workflow that takes updates and runs no-op activities.

It does what the engine must do for an item (update-with-start, one update per action, one
activity per append, two on the first) and nothing of the service's own work. A payload with
`"queued": true` runs its activities through the task queue, as the service's store calls are
(workflows/journal.py `store_call`): that is the figure's baseline; without it they are local
activities, a reference row (the service's path before queued-store-activities). Run as
`python -m bench.raw ADDRESS TASK_QUEUE` it is the baseline worker.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

RAW_UPDATE = "act"
RAW_TIMEOUT = timedelta(seconds=30)


@activity.defn(name="raw_noop")
async def raw_noop(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the payload: an activity with nothing to do."""
    return payload


@workflow.defn(name="RawItemWorkflow")
class RawItemWorkflow:
    """Counts updates; each runs one no-op activity (the first two), `close` ends the workflow."""

    @workflow.init
    def __init__(self, item_id: str) -> None:
        self._item_id = item_id
        self._updates = 0
        self._closed = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, item_id: str) -> int:
        """Wait for the closing update and for every handler to finish."""
        await workflow.wait_condition(lambda: self._closed and workflow.all_handlers_finished())
        return self._updates

    @workflow.update(name=RAW_UPDATE)
    async def act(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Run the no-op activity (twice for the first update) and count."""
        async with self._lock:
            for _ in range(2 if self._updates == 0 else 1):
                run = workflow.execute_activity if payload.get("queued") else workflow.execute_local_activity
                await run(raw_noop, payload, start_to_close_timeout=RAW_TIMEOUT)
            self._updates += 1
            self._closed = self._closed or bool(payload.get("close"))
            return {"updates": self._updates}


def raw_workflow_id(item_id: str) -> str:
    """The baseline workflow's id for an item."""
    return f"raw-{item_id}"


async def raw_open(client: Client, task_queue: str, item_id: str, payload: dict[str, Any]) -> None:
    """Update-with-start, as the service opens an item."""
    start = WithStartWorkflowOperation(
        RawItemWorkflow.run,
        item_id,
        id=raw_workflow_id(item_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    await client.execute_update_with_start_workflow(
        RAW_UPDATE, payload, start_workflow_operation=start, result_type=dict
    )


async def raw_act(client: Client, item_id: str, payload: dict[str, Any]) -> None:
    """One update on the baseline workflow."""
    handle = client.get_workflow_handle(raw_workflow_id(item_id))
    await handle.execute_update(RAW_UPDATE, payload, result_type=dict)


async def _serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[RawItemWorkflow],
        activities=[raw_noop],
        graceful_shutdown_timeout=timedelta(seconds=10),
    ):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))

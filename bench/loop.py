"""Figure 1 — loop throughput: items through all five stages, service vs a bare Temporal workflow.

The service's path is the API's: update-with-start to open, the `act` update for each action,
the worker's activities appending to the audit log and read model on PostgreSQL. The baseline
workflow receives the same updates (same payloads) and runs the same number of activities,
with no-op bodies, on the same dev server.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from adapters.workdays import dues_at
from bench.env import Deployment
from bench.raw import raw_act, raw_open
from bench.runner import Figure, Row, Stopwatch
from bench.story import closed_loop
from domain.people import Actor
from settings import TEST_ACTION_KEY
from workflows.item import SupervisionItemWorkflow
from workflows.messages import ACT_UPDATE, ActionRequest, ActionResult, ItemStart, workflow_id_for
from workflows.signing import signed

TARGET = 0.7
Step = tuple[str, Actor, dict[str, object]]


def request(action: str, actor: Actor, body: dict[str, object]) -> ActionRequest:
    """The request the API would send: the body and the due instants computed now."""
    return ActionRequest(action=action, actor=actor, body=body, dues=dues_at(datetime.now(UTC)))


async def service_open(client: Client, task_queue: str, item_id: str, step: Step) -> ActionResult:
    """Open an item as the API's gateway does (update-with-start)."""
    start = WithStartWorkflowOperation(
        SupervisionItemWorkflow.run,
        ItemStart(item_id=item_id),
        id=workflow_id_for(item_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    update_id = str(uuid.uuid4())
    signed_request = signed(TEST_ACTION_KEY, workflow_id_for(item_id), update_id, request(*step))
    result: ActionResult = await client.execute_update_with_start_workflow(
        ACT_UPDATE, signed_request, start_workflow_operation=start, id=update_id, result_type=ActionResult
    )
    return result


async def service_act(client: Client, item_id: str, step: Step) -> ActionResult:
    """One action through the `act` update."""
    handle = client.get_workflow_handle(workflow_id_for(item_id))
    update_id = str(uuid.uuid4())
    signed_request = signed(TEST_ACTION_KEY, workflow_id_for(item_id), update_id, request(*step))
    result: ActionResult = await handle.execute_update(
        ACT_UPDATE, signed_request, id=update_id, result_type=ActionResult
    )
    return result


async def drive_service(client: Client, task_queue: str) -> None:
    """One item from 立项 to 办结归档 through the service."""
    item_id = str(uuid.uuid4())
    first, *rest = closed_loop(datetime.now(UTC))
    await service_open(client, task_queue, item_id, first)
    for step in rest:
        await service_act(client, item_id, step)


async def drive_raw(client: Client, task_queue: str, *, queued: bool = False) -> None:
    """The same updates, with the same payloads, to the baseline workflow.

    Its no-op activities are local unless `queued` (queued is like the service's store calls).
    """
    item_id = str(uuid.uuid4())
    steps = closed_loop(datetime.now(UTC))
    payloads = [{**request(*step).model_dump(mode="json"), "queued": queued} for step in steps]
    payloads[-1]["close"] = True
    await raw_open(client, task_queue, item_id, payloads[0])
    for payload in payloads[1:]:
        await raw_act(client, item_id, payload)


async def run_items(drive: Callable[[], Awaitable[object]], items: int, concurrency: int) -> float:
    """Seconds to drive `items` items with `concurrency` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await drive()

    with Stopwatch() as watch:
        await asyncio.gather(*(one() for _ in range(items)))
    return watch.seconds


async def measure(where: Deployment, items: int, concurrency: int, rounds: int) -> Figure:
    """Items per second through the service and through the baseline, best of `rounds` each."""
    client, service_queue, raw_queue = where.client, where.task_queue, where.raw_task_queue
    service_times: list[float] = []
    raw_times: list[float] = []
    queued_times: list[float] = []
    # Warm every path (imports, connection pools, sandbox caches) before timing.
    await run_items(lambda: drive_service(client, service_queue), 2, 2)
    await run_items(lambda: drive_raw(client, raw_queue), 2, 2)
    await run_items(lambda: drive_raw(client, raw_queue, queued=True), 2, 2)
    for _ in range(rounds):
        raw_times.append(await run_items(lambda: drive_raw(client, raw_queue), items, concurrency))
        service_times.append(
            await run_items(lambda: drive_service(client, service_queue), items, concurrency)
        )
        queued_times.append(
            await run_items(lambda: drive_raw(client, raw_queue, queued=True), items, concurrency)
        )
    service_rate, raw_rate = items / min(service_times), items / min(raw_times)
    queued_rate = items / min(queued_times)
    # Like for like: the service's store calls go through the task queue (queued-store-activities).
    ratio = service_rate / queued_rate
    updates = len(closed_loop(datetime.now(UTC)))
    return Figure(
        name="loop_throughput",
        value=service_rate,
        unit="items/s",
        ratio=ratio,
        baseline="raw_temporal",
        target=f"ratio >= {TARGET}",
        met=ratio >= TARGET,
        rows=(
            Row(
                "service: client→act→activities→PostgreSQL",
                service_rate,
                "items/s",
                f"{items} items, {concurrency} in flight",
            ),
            Row(
                "baseline: bare workflow, no-op activities queued",
                queued_rate,
                "items/s",
                f"{updates} updates, {updates + 1} activities each",
            ),
            Row("ratio service / baseline", ratio, "x"),
            Row(
                "for reference: bare workflow, no-op local activities",
                raw_rate,
                "items/s",
                f"ratio service / this {service_rate / raw_rate:.2f}",
            ),
        ),
    )

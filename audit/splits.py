"""Has any item's workflow parted from its audit log? The check `verify` runs beside the chain walk.

The chain walk proves the log was not altered; it cannot see a workflow that believes something
else happened (a workflow at seq 12 in 狠抓落实 while its log is at seq 13 in 督促检查). Here each
item's workflow state (its `state` query) is compared with the fold of its log. An append in
flight makes the log run ahead for a moment, so a difference counts only if it outlasts a few
looks a short while apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from audit.diff import state_changes
from domain.fold import fold
from domain.stages import Stage
from domain.state import ItemState
from ledger.chain import ChainReport, FailureKind
from store.event_log import EventLog
from store.schema import audit_events, items
from workflows.messages import STATE_QUERY, workflow_id_for

LOOKS = 4
LOOK_APART_SECONDS = 0.5
PARALLEL_QUERIES = 8
CHUNK = 500  # ids per IN (...) list
RUNNING_ITEMS = 'WorkflowType = "SupervisionItemWorkflow" AND ExecutionStatus = "Running"'


async def workflow_split(client: Client, log: EventLog, item_id: str) -> ChainReport | None:
    """None when the item's workflow and its log agree; else a failing report that says how they differ."""
    handle = client.get_workflow_handle(workflow_id_for(item_id))
    differences: list[str] = []
    for look in range(LOOKS):
        if look:
            await asyncio.sleep(LOOK_APART_SECONDS)
        state = await handle.query(STATE_QUERY, result_type=ItemState)
        logged = fold(await log.read(item_id), ItemState(id=item_id))
        differences = state_changes(state, logged)
        if not differences:
            return None
    return ChainReport(
        ok=False,
        items_checked=1,
        events_checked=logged.last_seq,
        item_id=item_id,
        seq=min(state.last_seq, logged.last_seq) + 1,
        kind=FailureKind.WORKFLOW_SPLIT,
        problem=(
            f"工作流与审计日志不一致 / the workflow and the audit log have parted: workflow at seq "
            f"{state.last_seq} ({state.stage.value}), log at seq {logged.last_seq} ({logged.stage.value}); "
            + "; ".join(differences[:3])
        ),
    )


async def items_to_compare(client: Client, sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Items of this log whose workflow still runs (Temporal says so) or whose read model says open.

    Running workflows the log has never heard of (another deployment sharing the namespace, an
    `open` refused before anything was logged) are not this log's to compare.
    """
    running = {execution.id.removeprefix("item-") async for execution in client.list_workflows(RUNNING_ITEMS)}
    closed = [Stage.CLOSED.value, Stage.CANCELLED.value]
    async with sessions() as session:
        statement = select(items.c.id).where(items.c.stage.not_in(closed))
        chosen = set((await session.scalars(statement)).all())
        ordered = sorted(running - chosen)
        for start in range(0, len(ordered), CHUNK):
            known = (
                select(audit_events.c.item_id)
                .where(audit_events.c.item_id.in_(ordered[start : start + CHUNK]))
                .distinct()
            )
            chosen.update((await session.scalars(known)).all())
    return sorted(chosen)


async def first_split(client: Client, log: EventLog, item_ids: Iterable[str]) -> ChainReport | None:
    """The first item (in id order) whose workflow and log have parted, or None."""
    gate = asyncio.Semaphore(PARALLEL_QUERIES)

    async def check(item_id: str) -> ChainReport | None:
        async with gate:
            return await workflow_split(client, log, item_id)

    reports = await asyncio.gather(*(check(item_id) for item_id in sorted(item_ids)))
    return next((report for report in reports if report is not None), None)

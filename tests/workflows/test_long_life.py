"""An item that lives three years with hundreds of notices: its life is cut into runs (continue as new).

On the time-skipping server, an item with 36 monthly milestones stays in 狠抓落实 past all of
them, so every milestone's ladder fires and each rung notifies its recipients. With a low
history limit the workflow continues as new many times, carrying its state; the log, the read
model and the workflow stay one truth, reconcile walks every run, and each run replays.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from audit.reconcile import reconcile, run_histories
from domain.fold import fold
from store.demo_org import DEMO_ORG
from store.event_log import EventLog
from store.items import ItemQueries
from store.org import OrgDirectory
from tests.fixtures.temporal import run_item_worker
from tests.workflows.driver import CO, LEAD, SUPERVISOR, ItemDriver, open_body
from workflows.item import SupervisionItemWorkflow

MONTHS = 36


async def test_an_item_living_three_years_continues_as_new_and_keeps_one_truth(
    time_skipping_server: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    env = time_skipping_server
    await OrgDirectory(sessions).load(DEMO_ORG)
    start = await env.get_current_time()
    async with run_item_worker(env.client, sessions) as task_queue:
        item = ItemDriver(env.client, task_queue, history_limit=400)
        await item.open(open_body(deadline=(start + timedelta(days=4 * 365)).isoformat()))
        for unit in (LEAD, CO):
            await item.act("sign_for", unit)
        milestones = [
            {"name": f"第{n}月节点", "due": (start + timedelta(days=30 * n)).isoformat()}
            for n in range(1, MONTHS + 1)
        ]
        await item.act("submit_plan", LEAD, {"measures": "按月推进", "milestones": milestones})
        await item.act("approve_plan", SUPERVISOR, {"comment": "同意"})

        await env.sleep(timedelta(days=MONTHS * 30 + 60))
        last = await item.act("comment", SUPERVISOR, {"text": "三年之后仍可办理"})

        log = EventLog(sessions)
        events = await log.read(item.item_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        notices = [e for e in events if e.type == "NotificationDelivered"]
        assert len(notices) >= 200
        assert last.state.last_seq == len(events)
        assert fold(events) == last.state == await ItemQueries(sessions).get(item.item_id)
        assert (await log.verify_item(item.item_id)).ok

        runs = await run_histories(env.client, item.item_id)
        assert len(runs) >= 5
        assert all(len(run.events) < 400 + 200 for run in runs[:-1])  # cut near the limit
        agreed = await reconcile(env.client, log, item.item_id)
        assert agreed.ok, agreed.differences
        assert agreed.history_events == len(events)
    replayer = Replayer(workflows=[SupervisionItemWorkflow], data_converter=pydantic_data_converter)
    for run in runs:
        replayed = await replayer.replay_workflow(run, raise_on_replay_failure=False)
        assert replayed.replay_failure is None

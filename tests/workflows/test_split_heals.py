"""The audit log is the truth: a workflow that finds other events logged at its next seqs adopts them.

Before the `queued-store-activities` patch a store call ran as a local activity, whose input is not
in the history; a lost workflow task could leave an event in the log that the workflow never
recorded, and every later append then met a different event at its seq ("SeqConflict") for good.
Here the split is made by writing such an event straight into the log; the next action must land
after it, and log, read model, workflow and reconcile must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from audit.reconcile import reconcile
from domain.events import CommentAdded, RecordedEvent, record
from domain.fold import fold
from store.event_log import EventLog, SeqConflict
from store.items import ItemQueries
from tests.fixtures.temporal import run_item_worker
from tests.workflows.driver import CO, LEAD, SUPERVISOR, ItemDriver
from workflows.journal import event_id


async def _log_behind_the_workflows_back(log: EventLog, item_id: str) -> RecordedEvent:
    """A comment appended at the log's next seq, as a lost workflow task left one (deliveries may
    be appending beside the item: take the next seq again if one got there first)."""
    for _ in range(20):
        head = (await log.read(item_id))[-1]
        stray = record(
            CommentAdded(text="一次丢失的工作流任务写下的评论"),
            event_id=event_id(item_id, head.seq + 1),
            item_id=item_id,
            seq=head.seq + 1,
            stage=head.stage,
            actor=CO,
            occurred_at=datetime.now(UTC),
        )
        try:
            await log.append([stray])
        except SeqConflict:
            continue
        return stray
    raise AssertionError("the log never stood still long enough")


async def test_an_event_logged_behind_the_workflows_back_is_adopted_and_the_item_goes_on(
    temporal_client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    log = EventLog(sessions)
    async with run_item_worker(temporal_client, sessions) as task_queue:
        item = ItemDriver(temporal_client, task_queue)
        await item.open()
        stray = await _log_behind_the_workflows_back(log, item.item_id)

        signed = await item.act("sign_for", LEAD)
        again = await item.act("comment", SUPERVISOR, {"text": "之后照常办理"})

        events = await log.read(item.item_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[stray.seq - 1].payload == {"text": "一次丢失的工作流任务写下的评论"}
        assert signed.events[0].seq > stray.seq
        assert [e.type for e in events].count("AssignmentSigned") == 1
        assert [e.payload.get("text") for e in events if e.type == "CommentAdded"] == [
            "一次丢失的工作流任务写下的评论",
            "之后照常办理",
        ]
        assert again.state.last_seq == len(events)
        assert fold(events) == again.state == await ItemQueries(sessions).get(item.item_id)
        assert (await log.verify_item(item.item_id)).ok
        agreed = await reconcile(temporal_client, log, item.item_id)
        assert agreed.ok, agreed.differences

"""Only the API acts on items: a request the API did not sign for this item and update is refused.

Someone who reaches the Temporal frontend could send `act` with any actor inside; the worker's
check refuses it in the update's validator, so nothing reaches the history or the audit log.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.people import Actor, Role
from settings import TEST_ACTION_KEY
from store.event_log import EventLog
from tests.fixtures.temporal import run_item_worker
from tests.workflows.driver import SUPERVISOR, ItemDriver
from workflows.messages import ACT_UPDATE, ActionRequest, ActionResult, workflow_id_for
from workflows.signing import UNSIGNED, signed

INTRUDER = Actor(id="nobody", role=Role.SUPERVISOR, unit="dcs", name="冒名者")


async def _refused(client: Client, item_id: str, request: ActionRequest, update_id: str) -> str:
    handle = client.get_workflow_handle(workflow_id_for(item_id))
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(ACT_UPDATE, request, id=update_id, result_type=ActionResult)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return f"{cause.type}: {cause.message}"


async def test_unsigned_tampered_misdirected_and_replayed_requests_are_refused_and_leave_no_trace(
    temporal_client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with run_item_worker(temporal_client, sessions) as task_queue:
        item = ItemDriver(temporal_client, task_queue)
        other = ItemDriver(temporal_client, task_queue)
        await item.open()
        await other.open()
        log = EventLog(sessions)
        before = len(await log.read(item.item_id))
        cancel = item.request("cancel", INTRUDER, {"reason": "冒名撤销"})
        workflow_id = workflow_id_for(item.item_id)

        unsigned = await _refused(temporal_client, item.item_id, cancel, "u-1")
        good_id = str(uuid.uuid4())
        comment = signed(
            TEST_ACTION_KEY, workflow_id, good_id, item.request("comment", SUPERVISOR, {"text": "真"})
        )
        tampered = await _refused(
            temporal_client, item.item_id, comment.model_copy(update={"actor": INTRUDER}), good_id
        )
        other_item = await _refused(temporal_client, other.item_id, comment, good_id)
        wrong_key = signed(b"not-the-key", workflow_id, "u-2", cancel)
        forged = await _refused(temporal_client, item.item_id, wrong_key, "u-2")

        handle = temporal_client.get_workflow_handle(workflow_id)
        accepted = await handle.execute_update(ACT_UPDATE, comment, id=good_id, result_type=ActionResult)
        replayed = await _refused(temporal_client, item.item_id, comment, str(uuid.uuid4()))

    assert {unsigned, tampered, other_item, forged, replayed} == {f"forbidden: {UNSIGNED}"}
    assert accepted.events[0].payload == {"text": "真"}
    events = await log.read(item.item_id)
    assert [e.payload.get("text") for e in events].count("真") == 1
    assert accepted.events[0].seq > before
    assert not [e for e in events if e.actor.id == INTRUDER.id]
    assert accepted.state.stage.value == "deploy"

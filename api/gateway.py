"""The API's one door into Temporal: open an item (update-with-start) and act on it (update)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import timedelta

import structlog
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import (
    ENGINE_UNAVAILABLE,
    EngineBusy,
    EngineTimeout,
    EngineUnavailable,
    IdempotencyKeyReused,
    item_not_found,
)
from domain.commands import OpenItem
from domain.dues import ComputedDues
from domain.people import Actor
from domain.refusals import CommandRefused
from workflows.item import SupervisionItemWorkflow
from workflows.messages import ACT_UPDATE, ActionRequest, ActionResult, ItemStart, workflow_id_for
from workflows.refusal_errors import refusal_from
from workflows.signing import signed

log = structlog.get_logger(__name__)
# A call still waiting after this asks Temporal's health (no retries, same bound) and keeps asking
# as often: a Temporal that went away answers 503 within seconds instead of after the SDK's ~10 s
# of reconnecting, while a call the server is working on (an update waiting for a busy worker, or
# retried on the item's in-flight limit) runs to its own end.
HEALTH_PROBE_SECONDS = 1.0
# A refused connection is the server gone; a probe that only runs out of time may be a live
# server under load (CI saw it): that many silent probes in a row before the call is given up.
SILENT_PROBES = 3
SILENT_STATUSES = frozenset({RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED})


class ItemGateway:
    """Sends actions to items' workflows and turns refusals back into domain refusals."""

    def __init__(self, client: Client, task_queue: str, timeout: float, key: bytes) -> None:
        """`timeout`: how long to wait for the workflow's confirmation (without a worker it never comes);
        `key`: the action signing key shared with the workers."""
        self._client = client
        self._task_queue = task_queue
        self._timeout = timeout
        self._key = key

    async def open(self, item_id: str, actor: Actor, body: OpenItem, dues: ComputedDues) -> ActionResult:
        """Start the item's workflow if needed and perform `open` on it, in one call.

        Raises CommandRefused when the workflow refuses (already opened: conflict).
        """
        start = WithStartWorkflowOperation(
            SupervisionItemWorkflow.run,
            ItemStart(item_id=item_id),
            id=workflow_id_for(item_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A finished item's id never starts a second life: one item, one workflow.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        update_id = str(uuid.uuid4())
        request = signed(
            self._key,
            workflow_id_for(item_id),
            update_id,
            ActionRequest(action="open", actor=actor, body=body, dues=dues),
        )
        return await self._confirmed(
            item_id,
            self._client.execute_update_with_start_workflow(
                ACT_UPDATE, request, start_workflow_operation=start, id=update_id, result_type=ActionResult
            ),
        )

    async def act(self, item_id: str, request: ActionRequest, update_id: str | None = None) -> ActionResult:
        """Perform one action on an opened item; raises CommandRefused when refused.

        With `update_id` (from the client's Idempotency-Key) a retry attaches to the update the
        first attempt started and answers its real outcome, instead of acting twice; a retry
        that asks something else under the same id raises IdempotencyKeyReused.
        """
        update_id = update_id or str(uuid.uuid4())
        request = signed(self._key, workflow_id_for(item_id), update_id, request)
        handle = self._client.get_workflow_handle(workflow_id_for(item_id))
        result = await self._confirmed(
            item_id, handle.execute_update(ACT_UPDATE, request, id=update_id, result_type=ActionResult)
        )
        if result.fingerprint != request.fingerprint:
            raise IdempotencyKeyReused(
                "该 Idempotency-Key 已用于不同的操作内容 / "
                "the Idempotency-Key was already used for a different action or body"
            )
        return result

    async def _while_reachable(self, call: Awaitable[ActionResult]) -> ActionResult:
        """`call`'s answer; EngineUnavailable as soon as Temporal fails a health check while it waits."""
        task = asyncio.ensure_future(call)
        silent = 0
        try:
            while not (await asyncio.wait({task}, timeout=HEALTH_PROBE_SECONDS))[0]:
                answer = await self._answers()
                silent = silent + 1 if answer is None else 0
                if answer is False or silent >= SILENT_PROBES:
                    log.warning("temporal unreachable while a call waited", silent_probes=silent)
                    raise EngineUnavailable(ENGINE_UNAVAILABLE)
            return task.result()
        finally:
            task.cancel()  # a no-op once done; else Temporal is not answering: the call is abandoned

    async def _answers(self) -> bool | None:
        """True: healthy; False: the server refused or failed the check; None: no answer in time."""
        probe = timedelta(seconds=HEALTH_PROBE_SECONDS)
        try:
            async with asyncio.timeout(2 * HEALTH_PROBE_SECONDS):  # a connect that hangs, too
                return await self._client.service_client.check_health(timeout=probe)
        except TimeoutError:
            return None
        except RPCError as error:
            # The probe's own deadline comes back as CANCELLED ("Timeout expired") from the SDK's core.
            return None if error.status in SILENT_STATUSES else False
        except RuntimeError:
            return False

    async def _confirmed(self, item_id: str, call: Awaitable[ActionResult]) -> ActionResult:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._while_reachable(call)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and (refusal := refusal_from(cause)) is not None:
                raise CommandRefused(refusal) from error
            raise
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            raise EngineTimeout(
                "督办引擎未能及时确认，操作可能稍后生效，请刷新查看 / "
                "the workflow did not confirm in time; the action may still take effect, check again"
            ) from error
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise item_not_found(item_id) from error
            if error.status is RPCStatusCode.RESOURCE_EXHAUSTED:
                # Too many actions in flight on this item (the client already retried with backoff).
                raise EngineBusy(
                    "该事项正在处理其他操作，请稍后重试 / "
                    "too many actions on this item at once, try again shortly"
                ) from error
            raise

"""Only the API may act on an item: every `act` update carries the API's signature, checked by the worker.

The workflow used to trust the `actor` inside the update, so anyone who could reach the Temporal
frontend could act as any user. The API and the workers share a key; the API signs each request
together with the workflow id and the update id (HMAC-SHA256 over RFC 8785 JSON), and the
worker's interceptor refuses, in the update's validator, a request that is unsigned, tampered
with, sent to another item or replayed under a new update id (a replay under the same id is
Temporal's own deduplication). Validators do not run on replay, so a key change never breaks a
history. Production also runs the client with mTLS, so that the frontend is not open at all.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from temporalio import workflow
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from domain.refusals import forbidden
from ledger.hashing import canonical_json
from workflows.messages import ACT_UPDATE, ActionRequest
from workflows.refusal_errors import refusal_error

UNSIGNED = "请求未经督办服务签名，已拒绝 / the request is not signed by the duban API: refused"


def request_signature(key: bytes, workflow_id: str, update_id: str, request: ActionRequest) -> str:
    """The API's signature over one request to one workflow under one update id."""
    content = canonical_json(
        {
            "workflow_id": workflow_id,
            "update_id": update_id,
            "request": request.model_dump(mode="json", exclude={"signature"}),
        }
    )
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def signed(key: bytes, workflow_id: str, update_id: str, request: ActionRequest) -> ActionRequest:
    """`request` with the API's signature for `workflow_id` and `update_id`."""
    return request.model_copy(update={"signature": request_signature(key, workflow_id, update_id, request)})


class RequestSignatures(Interceptor):
    """The worker's check: an `act` update whose signature does not hold is refused before the history."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        key = self._key

        class _Checked(WorkflowInboundInterceptor):
            def handle_update_validator(self, input: HandleUpdateInput) -> None:
                if input.update == ACT_UPDATE and not _holds(key, input.id, input.args):
                    raise refusal_error(forbidden(UNSIGNED))
                super().handle_update_validator(input)

        return _Checked


def _holds(key: bytes, update_id: str, args: Any) -> bool:
    request = args[0] if args else None
    if not isinstance(request, ActionRequest) or not request.signature:
        return False
    expected = request_signature(key, workflow.info().workflow_id, update_id, request)
    return hmac.compare_digest(expected, request.signature)

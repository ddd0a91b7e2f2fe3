"""Refusals cross the Temporal boundary as non-retryable ApplicationErrors typed by kind."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain.refusals import Refusal, RefusalKind


def refusal_error(refusal: Refusal) -> ApplicationError:
    """The error an update validator or handler raises for a refused command."""
    return ApplicationError(refusal.reason, type=refusal.kind.value, non_retryable=True)


def refusal_from(error: ApplicationError) -> Refusal | None:
    """The refusal an ApplicationError carries, or None if it is another failure."""
    kinds = {kind.value: kind for kind in RefusalKind}
    if error.type not in kinds:
        return None
    return Refusal(kind=kinds[error.type], reason=error.message)

"""Why a command is refused, as data the edges translate once (HTTP, CLI, Temporal)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class RefusalKind(StrEnum):
    """The kind of refusal; each edge maps it to its own vocabulary (403 / 409 / 422)."""

    FORBIDDEN = "forbidden"  # role or unit may not do this
    CONFLICT = "conflict"  # the item's stage or pending steps do not allow it now
    INVALID = "invalid"  # the command's content is wrong (a date in the past, an unknown milestone)


class Refusal(BaseModel):
    """A refused command: nothing is recorded, the reason goes back to the person."""

    model_config = ConfigDict(frozen=True)

    kind: RefusalKind
    reason: str


class DomainError(Exception):
    """Base of the domain's exceptions."""


class CommandRefused(DomainError):
    """Raised where a refusal must travel as an exception (update validators)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


def forbidden(reason: str) -> Refusal:
    """A refusal for the wrong role or unit."""
    return Refusal(kind=RefusalKind.FORBIDDEN, reason=reason)


def conflict(reason: str) -> Refusal:
    """A refusal because the item is not waiting for this action."""
    return Refusal(kind=RefusalKind.CONFLICT, reason=reason)


def invalid(reason: str) -> Refusal:
    """A refusal because the command's content does not make sense."""
    return Refusal(kind=RefusalKind.INVALID, reason=reason)

"""Past-tense facts. A body says what happened; a RecordedEvent wraps it for the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.commands import Attachment, MilestoneSpec
from domain.instants import Instant
from domain.ladder import AppliedPolicy, ArmedRung, Audience, Level
from domain.people import Actor
from domain.stages import Stage
from domain.vocabulary import Category, Priority, Source

Note = Annotated[str, StringConstraints(max_length=4000)]


class EventBody(BaseModel):
    """Base of every event's content; the class name is the event's `type`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def type_name(cls) -> str:
        """The event type as recorded in the audit log."""
        return cls.__name__


class ItemOpened(EventBody):
    number: str
    title: str
    requirements: str
    source: Source
    category: Category
    priority: Priority
    lead_unit: str
    co_units: list[str]
    supervisor: str
    leader: str
    deadline: Instant
    milestones: list[MilestoneSpec]
    tags: list[str]
    attachments: list[Attachment]
    sign_for_due: Instant
    plan_due: Instant
    calendar: str = ""


class AssignmentSigned(EventBody):
    unit: str


class AssignmentReturned(EventBody):
    unit: str
    reason: str


class UnitsReassigned(EventBody):
    lead_unit: str
    co_units: list[str]
    reason: str
    sign_for_due: Instant
    plan_due: Instant | None = None  # set when the lead unit changes: a new lead gets a fresh plan clock
    calendar: str = ""


class PlanSubmitted(EventBody):
    unit: str
    measures: str
    milestones: list[MilestoneSpec]


class PlanApproved(EventBody):
    comment: Note
    completion_due: Instant


class PlanRejected(EventBody):
    reason: str
    plan_due: Instant
    calendar: str = ""


class ProgressReported(EventBody):
    unit: str
    summary: str
    percent: int
    milestones_done: list[str]
    problems: Note


class ExtensionRequested(EventBody):
    unit: str
    new_deadline: Instant
    reason: str


class ExtensionApproved(EventBody):
    new_deadline: Instant
    comment: Note


class ExtensionRejected(EventBody):
    comment: Note


class CompletionClaimed(EventBody):
    unit: str
    summary: str
    evidence: list[Attachment]


class InspectionPassed(EventBody):
    findings: str


class RectificationOrdered(EventBody):
    findings: str
    requirements: str
    new_deadline: Instant
    round: int


class ReportSubmitted(EventBody):
    summary: str
    sign_off_due: Instant
    calendar: str = ""


class ReportApproved(EventBody):
    instructions: Note
    evaluation_due: Instant
    calendar: str = ""


class ReportSentBack(EventBody):
    instructions: Note
    report_due: Instant
    calendar: str = ""


class ItemClosed(EventBody):
    rating: Literal["excellent", "good", "fair", "poor"]
    comment: Note


class ItemReopened(EventBody):
    rating: Literal["excellent", "good", "fair", "poor"]
    comment: Note
    new_deadline: Instant
    round: int


class ItemUrged(EventBody):
    message: str
    units: list[str]


class CommentAdded(EventBody):
    text: str


class ItemCancelled(EventBody):
    reason: str


class PolicyApplied(EventBody):
    """The escalation policy version the item runs under, recorded whole at open."""

    policy: AppliedPolicy


class LadderArmed(EventBody):
    """A waiting step's ladder: the instants computed outside the workflow, which it only waits on."""

    step: str
    due: Instant
    rungs: list[ArmedRung]
    policy_id: str
    policy_version: int
    calendar: str


class RungReached(EventBody):
    """A rung of a step's ladder fired: which rule, and who was told."""

    step: str
    level: Level
    at: Instant  # the instant the rung was armed for
    due: Instant
    rule: str
    audience: list[Audience]
    recipients: list[str]


class ReminderSent(RungReached):
    """提醒: a step falls due soon."""


class EscalationRaised(RungReached):
    """预警 / 超期 / 挂牌督办: a step is due or overdue; the item's light follows."""


class NotificationDelivered(EventBody):
    """One notice reached one recipient over one channel (or joined their daily digest)."""

    notice_seq: int
    kind: str
    recipient: str
    channel: str
    detail: str = ""


class NotificationQueued(EventBody):
    """A routine reminder joined the recipient's daily digest on a channel; the digest reports later."""

    notice_seq: int
    kind: str
    recipient: str
    channel: str
    detail: str = ""


class NotificationFailed(EventBody):
    """One notice could not be delivered after the channel's retries; the item goes on."""

    notice_seq: int
    kind: str
    recipient: str
    channel: str
    reason: str


EVENT_TYPES: dict[str, type[EventBody]] = {
    cls.type_name(): cls
    for cls in (
        ItemOpened,
        AssignmentSigned,
        AssignmentReturned,
        UnitsReassigned,
        PlanSubmitted,
        PlanApproved,
        PlanRejected,
        ProgressReported,
        ExtensionRequested,
        ExtensionApproved,
        ExtensionRejected,
        CompletionClaimed,
        InspectionPassed,
        RectificationOrdered,
        ReportSubmitted,
        ReportApproved,
        ReportSentBack,
        ItemClosed,
        ItemReopened,
        ItemUrged,
        CommentAdded,
        ItemCancelled,
        PolicyApplied,
        LadderArmed,
        ReminderSent,
        EscalationRaised,
        NotificationDelivered,
        NotificationQueued,
        NotificationFailed,
    )
}


SYSTEM_EVENT_TYPES = frozenset(
    cls.type_name()
    for cls in (
        PolicyApplied,
        LadderArmed,
        ReminderSent,
        EscalationRaised,
        NotificationDelivered,
        NotificationQueued,
        NotificationFailed,
    )
)
"""Events the item's own machinery records (deadlines and notifications), not a person's action."""


class RecordedEvent(BaseModel):
    """An event as the audit log keeps it (without the chain's hashes, which the store adds).

    `stage` is the stage the item was in when the event happened; `occurred_at` is
    workflow time; `id` is deterministic so a retried append is a no-op.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    item_id: str
    seq: int = Field(ge=1)
    type: str
    stage: Stage
    actor: Actor
    occurred_at: Instant
    payload: dict[str, Any]

    def body(self) -> EventBody:
        """The typed event this record carries."""
        return EVENT_TYPES[self.type].model_validate(self.payload)

    def canonical(self) -> dict[str, Any]:
        """The JSON form hashed into the chain (RFC 8785 canonicalisation is the store's)."""
        return self.model_dump(mode="json")


def record(
    body: EventBody,
    *,
    event_id: str,
    item_id: str,
    seq: int,
    stage: Stage,
    actor: Actor,
    occurred_at: datetime,
) -> RecordedEvent:
    """Wrap a body for the audit log."""
    return RecordedEvent(
        id=event_id,
        item_id=item_id,
        seq=seq,
        type=body.type_name(),
        stage=stage,
        actor=actor,
        occurred_at=occurred_at,
        payload=body.model_dump(mode="json"),
    )

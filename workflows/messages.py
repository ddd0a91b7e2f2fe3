"""One serializable type per message of SupervisionItemWorkflow (update, query, activity)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError, model_validator
from temporalio.common import RetryPolicy

from domain.commands import ACTIONS, Command
from domain.dues import ComputedDues
from domain.events import RecordedEvent
from domain.ladder import Audience as Audience  # noqa: PLC0414 — explicit re-export for the notify seam
from domain.people import Actor
from domain.state import ItemState

ACT_UPDATE = "act"
STATE_QUERY = "state"


def workflow_id_for(item_id: str) -> str:
    """The deterministic workflow id of an item: one item, one workflow."""
    return f"item-{item_id}"


# A run's history is cut here (events); the server's own suggestion comes at 4K events or 4 MB.
HISTORY_LIMIT = 3000


class ItemStart(BaseModel):
    """The workflow's input: the item id; the `open` action brings the content.

    A run that continues as new passes the item's state on in `carried`.
    """

    model_config = ConfigDict(frozen=True)

    item_id: str
    carried: ItemState | None = None
    history_limit: int = Field(default=HISTORY_LIMIT, ge=100)


class ActionRequest(BaseModel):
    """A person's action on an item, as the API hands it to the workflow.

    `body` is the action's typed command (`domain.commands.ACTIONS[action]`), parsed once at the
    API's edge. On the wire it is the command's fields, the same JSON the request carried when
    `body` was a plain dict, so recorded histories and signatures read the same. A body that does
    not parse as its action's command (only a caller bypassing the API sends one) stays a dict,
    which the workflow refuses as malformed. `dues` are the instants computed outside the
    workflow for this action.
    """

    model_config = ConfigDict(frozen=True)

    action: str
    actor: Actor
    body: dict[str, Any] | SerializeAsAny[Command] = Field(default_factory=dict)
    dues: ComputedDues = ComputedDues()
    # What the client asked, hashed: a retry under the same Idempotency-Key must ask the same.
    fingerprint: str = ""
    signature: str = ""  # the API's (workflows/signing.py); the worker refuses a request without it

    @model_validator(mode="before")
    @classmethod
    def _typed_body(cls, data: Any) -> Any:
        """Parse a dict body (as it arrives from the wire) into its action's command when it can."""
        if not isinstance(data, dict) or not isinstance(data.get("body"), dict):
            return data
        command_type = ACTIONS.get(str(data.get("action")))
        if command_type is None:
            return data
        try:
            return {**data, "body": command_type.model_validate(data["body"])}
        except ValidationError:
            return data

    @model_validator(mode="after")
    def _body_fits_action(self) -> ActionRequest:
        command_type = ACTIONS.get(self.action)
        if isinstance(self.body, Command) and (
            command_type is None or not isinstance(self.body, command_type)
        ):
            raise ValueError(f"{type(self.body).__name__} is not the command of action {self.action}")
        return self

    def command(self) -> Command | None:
        """The typed command, or None when the body did not parse as the action's command."""
        return self.body if isinstance(self.body, Command) else None


class ActionResult(BaseModel):
    """The item's state after the action, the events it recorded, and the request's fingerprint."""

    model_config = ConfigDict(frozen=True)

    state: ItemState
    events: list[RecordedEvent]
    fingerprint: str = ""


class AppendEvents(BaseModel):
    """Activity input: events of one item to append to the audit log, in seq order."""

    model_config = ConfigDict(frozen=True)

    events: list[RecordedEvent]


class AppendOutcome(BaseModel):
    """Activity result: how many rows were new, the chain head afterwards, and proof of what was written.

    `hashes` are the chain hashes the requested events are logged under, in request order: a
    hash covers the event's content and everything before it, so the history proves the log.
    `adopted` is set instead when the log already held other events at the requested seqs:
    nothing was written, and these (the log from the first requested seq on) are the truth.
    """

    model_config = ConfigDict(frozen=True)

    appended: int
    already_present: int
    last_seq: int
    last_hash: str
    hashes: list[str] = Field(default_factory=list)
    adopted: list[RecordedEvent] = Field(default_factory=list)


class NumberRequest(BaseModel):
    """Activity input: allocate (or find) the human number of an item, e.g. DB-2026-000123."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    year: int


class DuesRequest(BaseModel):
    """Local activity input: count every due instant an action might need from the instant `at`."""

    model_config = ConfigDict(frozen=True)

    at: datetime


APPEND_EVENTS_ACTIVITY = "append_events"
ALLOCATE_NUMBER_ACTIVITY = "allocate_number"
COUNT_DUES_ACTIVITY = "count_dues"


NOTIFY_PLAN_ACTIVITY = "plan_deliveries"
NOTIFY_DELIVER_ACTIVITY = "deliver_notification"


class Notice(BaseModel):
    """What a notification says: one reminder, escalation or 催办 about one item."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    number: str
    title: str
    kind: str  # reminder | warning | overdue | top | urge
    message: str
    rule: str = ""
    due: datetime | None = None
    event_seq: int = 0  # the audit event that caused it


class PlanDeliveries(BaseModel):
    """Activity input: turn a notice and its audience into one delivery per recipient and channel."""

    model_config = ConfigDict(frozen=True)

    notice: Notice
    audience: list[Audience]
    units: list[str]
    leader: str
    supervisor: str
    routine: bool = False  # routine reminders go to the daily digest on email/webhook channels


class DeliveryRequest(BaseModel):
    """Activity input: one notice to one recipient over one channel."""

    model_config = ConfigDict(frozen=True)

    notice: Notice
    recipient: str
    channel: str  # inbox | email | dingtalk | wecom
    address: str = ""
    digest: bool = False


class DeliveryOutcome(BaseModel):
    """Activity result: delivered (or queued for the digest), with a detail for the audit log."""

    model_config = ConfigDict(frozen=True)

    recipient: str
    channel: str
    delivered: bool
    detail: str = ""
    queued: bool = False  # a routine reminder put in the daily digest; its send is reported by signal


class DeliveryPlan(BaseModel):
    """Activity result of `plan_deliveries`: the deliveries in a fixed order (recipients, then robots)."""

    model_config = ConfigDict(frozen=True)

    deliveries: list[DeliveryRequest]


# The caller's retry policy for `deliver_notification`: a dead channel fails after five tries (about
# 15 s of backoff) and the workflow records `failed` instead of waiting on it.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
)
DELIVERY_TIMEOUT = timedelta(seconds=30)

DIGEST_OUTCOME_SIGNAL = "digest_outcome"


class DigestOutcome(BaseModel):
    """Signal to an item's workflow: a daily digest that carried some of its notices went out or failed,
    or a rhythm's consolidated request listing the item reached a recipient."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    event_seqs: list[int]  # the audit events whose notices the digest carried
    recipient: str
    channel: str
    day: str  # Beijing calendar day of the digest, YYYY-MM-DD (a rhythm's period for a rhythm)
    delivered: bool
    detail: str = ""
    # "digest", or the rhythm whose one-per-unit request listed the item ("monthly": 月督促).
    kind: str = "digest"


OUTCOME_LABELS = {
    "digest": ("每日汇总", "daily digest"),
    "monthly": ("月督促", "monthly progress request"),
}

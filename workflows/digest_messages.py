"""One serializable type per message of DigestWorkflow and its activities."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

DIGEST_WORKFLOW = "DigestWorkflow"
DIGEST_SCHEDULE_ID = "duban-daily-digest"
COLLECT_DIGESTS_ACTIVITY = "collect_digests"
SEND_DIGEST_ACTIVITY = "send_digest"


class DigestRun(BaseModel):
    """The workflow's input: which Beijing day to send (empty: the day the run starts)."""

    model_config = ConfigDict(frozen=True)

    day: str = ""


class CoveredItem(BaseModel):
    """The notices of one item that a digest carries, by the audit events that caused them."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    event_seqs: list[int]


class DigestBatch(BaseModel):
    """Activity input: one digest to send — a recipient, a channel, a day, and what it covers."""

    model_config = ConfigDict(frozen=True)

    recipient: str
    channel: str
    day: str
    covered: list[CoveredItem]


class DigestBatches(BaseModel):
    """Activity result: the day's digests still to send, in a fixed order."""

    model_config = ConfigDict(frozen=True)

    batches: list[DigestBatch]


class DigestSent(BaseModel):
    """Activity result: how the digest went out (or that an earlier attempt had sent it)."""

    model_config = ConfigDict(frozen=True)

    detail: str


class DigestReport(BaseModel):
    """The workflow's result: how many digests went out and how many failed."""

    model_config = ConfigDict(frozen=True)

    day: str
    sent: int
    failed: int

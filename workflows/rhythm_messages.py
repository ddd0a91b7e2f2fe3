"""One serializable type per message of RhythmWorkflow and its activity."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.rhythms import Rhythm

RHYTHM_WORKFLOW = "RhythmWorkflow"
RUN_RHYTHM_ACTIVITY = "run_rhythm"
SCHEDULE_IDS = {
    Rhythm.MONTHLY: "duban-monthly-rhythm",
    Rhythm.QUARTERLY: "duban-quarterly-rhythm",
    Rhythm.ANNUAL: "duban-annual-rhythm",
}


class RhythmRun(BaseModel):
    """The workflow's input: which rhythm, on which Beijing day (empty: the day the run starts)."""

    model_config = ConfigDict(frozen=True)

    rhythm: Rhythm
    day: str = ""


class RequestCovered(BaseModel):
    """An item a unit's request listed, the event it was asked at, and the users who received it."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    seq: int
    recipients: list[str]


class RhythmReport(BaseModel):
    """What a run did: the period it looked at, whether it generated anything, and what."""

    model_config = ConfigDict(frozen=True)

    rhythm: Rhythm
    day: str
    period: str
    ran: bool
    detail: str
    requests: int = 0
    documents: list[int] = []
    covered: list[RequestCovered] = []  # each recorded in the item's own chain by the workflow

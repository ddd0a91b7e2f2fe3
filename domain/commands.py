"""Imperative intents, one per action of the closed loop; their fields are the API's request bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.instants import InputInstant, Instant
from domain.vocabulary import Category, Priority, Source

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Command(BaseModel):
    """Base of every command: immutable, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Attachment(BaseModel):
    """A reference to a document held elsewhere, pinned by its content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Short
    sha256: Sha256
    uri: Annotated[str, StringConstraints(max_length=2000)] | None = None


class MilestoneSpec(BaseModel):
    """A 时间节点: a named step with its due instant, as events record it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Short
    due: Instant


class PlannedMilestone(MilestoneSpec):
    """A 时间节点 as a command gives it: its due instant within the accepted range."""

    due: InputInstant


def _unique(names: list[str], what: str) -> None:
    if len(set(names)) != len(names):
        raise ValueError(f"{what}不能重复 / duplicate {what}")


class OpenItem(Command):
    """立项: the supervisor opens a tracked item and assigns it."""

    title: Short
    requirements: Text
    source: Source
    category: Category
    priority: Priority = Priority.NORMAL
    lead_unit: Key
    co_units: list[Key] = Field(default_factory=list, max_length=50)
    leader: Key
    deadline: InputInstant
    milestones: list[PlannedMilestone] = Field(default_factory=list, max_length=50)
    tags: list[Short] = Field(default_factory=list, max_length=20)
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _units_and_milestones_distinct(self) -> OpenItem:
        _unique([self.lead_unit, *self.co_units], "承办单位 / units")
        _unique([m.name for m in self.milestones], "时间节点 / milestone names")
        return self


class SignFor(Command):
    """签收: an assigned unit accepts its assignment."""


class ReturnAssignment(Command):
    """退回: an assigned unit gives the assignment back, with a reason."""

    reason: Text


class Reassign(Command):
    """改派: after a return, the supervisor names the units again."""

    lead_unit: Key
    co_units: list[Key] = Field(default_factory=list, max_length=50)
    reason: Text

    @model_validator(mode="after")
    def _units_distinct(self) -> Reassign:
        _unique([self.lead_unit, *self.co_units], "承办单位 / units")
        return self


class SubmitPlan(Command):
    """报送工作方案: the lead unit's measures and milestones."""

    measures: Text
    milestones: list[PlannedMilestone] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _milestones_distinct(self) -> SubmitPlan:
        _unique([m.name for m in self.milestones], "时间节点 / milestone names")
        return self


class ApprovePlan(Command):
    """审核通过工作方案: enters 狠抓落实."""

    comment: Annotated[str, StringConstraints(max_length=4000)] = ""


class RejectPlan(Command):
    """退回工作方案: the lead unit must submit again."""

    reason: Text


class ReportProgress(Command):
    """报送进展: a unit reports, and may mark milestones done."""

    summary: Text
    percent: int = Field(ge=0, le=100)
    milestones_done: list[Short] = Field(default_factory=list, max_length=50)
    problems: Annotated[str, StringConstraints(max_length=4000)] = ""


class RequestExtension(Command):
    """申请延期: the lead unit asks for a later deadline."""

    new_deadline: InputInstant
    reason: Text


class DecideExtension(Command):
    """审批延期: the supervisor approves or rejects the pending request."""

    approve: bool
    comment: Annotated[str, StringConstraints(max_length=4000)] = ""


class ClaimCompletion(Command):
    """申报办结: the lead unit claims the work done, with evidence."""

    summary: Text
    evidence: list[Attachment] = Field(default_factory=list, max_length=50)


class Inspect(Command):
    """督促检查: pass enters 及时报告; rectify (整改) sends the item back to 狠抓落实."""

    result: Literal["pass", "rectify"]
    findings: Text
    requirements: Annotated[str, StringConstraints(max_length=4000)] = ""
    new_deadline: InputInstant | None = None

    @model_validator(mode="after")
    def _rectify_needs_terms(self) -> Inspect:
        if self.result == "rectify" and (not self.requirements or self.new_deadline is None):
            raise ValueError("整改须写明整改要求和新期限 / rectify needs requirements and new_deadline")
        return self


class SubmitReport(Command):
    """报送报告: the supervisor reports to the responsible leader."""

    summary: Text


class SignOff(Command):
    """审阅签批: the leader approves, or sends back with instructions (批示)."""

    approve: bool
    instructions: Annotated[str, StringConstraints(max_length=4000)] = ""


class Evaluate(Command):
    """跟踪问效: effective closes the item; ineffective reopens it into 狠抓落实."""

    effective: bool
    rating: Literal["excellent", "good", "fair", "poor"]
    comment: Annotated[str, StringConstraints(max_length=4000)] = ""
    new_deadline: InputInstant | None = None


class Urge(Command):
    """催办: the supervisor presses the units (all assigned units unless named)."""

    message: Text
    units: list[Key] = Field(default_factory=list, max_length=50)


class AddComment(Command):
    """留言 / 批示: a remark on the item's record."""

    text: Text


class Cancel(Command):
    """撤销: the supervisor withdraws the item, with a reason."""

    reason: Text


ACTIONS: dict[str, type[Command]] = {
    "open": OpenItem,
    "sign_for": SignFor,
    "return": ReturnAssignment,
    "reassign": Reassign,
    "submit_plan": SubmitPlan,
    "approve_plan": ApprovePlan,
    "reject_plan": RejectPlan,
    "report_progress": ReportProgress,
    "request_extension": RequestExtension,
    "decide_extension": DecideExtension,
    "claim_completion": ClaimCompletion,
    "inspect": Inspect,
    "submit_report": SubmitReport,
    "sign_off": SignOff,
    "evaluate": Evaluate,
    "urge": Urge,
    "comment": AddComment,
    "cancel": Cancel,
}
"""Action name (as in the API path) → command type. `open` has its own endpoint."""

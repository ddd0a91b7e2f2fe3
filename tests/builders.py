"""The builders every test suite shares: a valid 立项 and an item's story told through the domain.

- `open_body` / `open_item`: one valid `open` (lead unit fgw, co-unit czj, leader-wang, a deadline
  a year ahead unless given), as the API's JSON body or as the domain's command.
- `Story`: one item's life, each step decided by the real domain and recorded as the workflow
  would (decide → record → evolve), on a test clock and the weekends-only calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import commands as cmd
from domain.decide import Context, Decision, decide
from domain.dues import compute_dues, weekends_only
from domain.events import EventBody, RecordedEvent, record
from domain.fold import evolve
from domain.people import Actor
from domain.refusals import Refusal, RefusalKind
from domain.state import ItemState

STEP = timedelta(hours=1)


def open_body(**overrides: Any) -> dict[str, Any]:
    """A valid `open` body (JSON): lead unit fgw, co-unit czj, leader-wang, deadline a year ahead."""
    body: dict[str, Any] = {
        "title": "推进老旧小区改造",
        "requirements": "年内完成 30 个小区改造并报送成效",
        "source": "meeting_decision",
        "category": "major_project",
        "priority": "high",
        "lead_unit": "fgw",
        "co_units": ["czj"],
        "leader": "leader-wang",
        "deadline": (datetime.now(UTC) + timedelta(days=365)).isoformat(),
        "tags": ["民生"],
    }
    body.update(overrides)
    return body


def open_item(**overrides: Any) -> cmd.OpenItem:
    """`open_body` as the domain's command."""
    return cmd.OpenItem.model_validate(open_body(**overrides))


@dataclass
class Story:
    """One item, its events and state; each decision happens `STEP` (an hour) after the previous one."""

    item_id: str = "item-0001"
    number: str = "DB-2026-000001"
    now: datetime = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Beijing
    state: ItemState = field(default_factory=ItemState)
    events: list[RecordedEvent] = field(default_factory=list)

    def context(self, actor: Actor) -> Context:
        """What `decide` needs besides state and command; dues on the weekends-only calendar."""
        return Context(
            actor=actor,
            now=self.now,
            dues=compute_dues(self.now, weekends_only, "weekends-only (test)"),
            number=self.number,
        )

    def decide(self, actor: Actor, command: cmd.Command, *, after: timedelta = STEP) -> Decision:
        """Advance the clock by `after` and decide, recording nothing."""
        self.now += after
        return decide(self.state, command, self.context(actor))

    def act(self, actor: Actor, command: cmd.Command, *, after: timedelta = STEP) -> list[RecordedEvent]:
        """Decide and record; a refusal fails the test with its reason."""
        decision = self.decide(actor, command, after=after)
        if isinstance(decision, Refusal):
            pytest.fail(f"{type(command).__name__} by {actor.id} refused: {decision.reason}")
        return self.record(actor, decision)

    def record(self, actor: Actor, bodies: Sequence[EventBody]) -> list[RecordedEvent]:
        """Record `bodies` now, as `actor`, in order, evolving the state through them."""
        recorded = []
        for body in bodies:
            seq = self.state.last_seq + 1
            event = record(
                body,
                event_id=f"{self.item_id}-{seq}",
                item_id=self.item_id,
                seq=seq,
                stage=self.state.stage,
                actor=actor,
                occurred_at=self.now,
            )
            self.state = evolve(self.state, event)
            recorded.append(event)
        self.events.extend(recorded)
        return recorded

    def refused(self, actor: Actor, command: cmd.Command, kind: RefusalKind) -> str:
        """Assert the command is refused with `kind` and changes nothing; return the reason."""
        before = self.state
        decision = self.decide(actor, command)
        assert isinstance(decision, Refusal), f"expected a {kind} refusal, got {decision}"
        assert decision.kind is kind, decision.reason
        assert self.state == before
        return decision.reason

    def types(self) -> list[str]:
        """The recorded event types, in order."""
        return [e.type for e in self.events]

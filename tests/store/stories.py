"""Items driven through the real domain (decide → record → evolve), to feed the store real events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import commands as cmd
from domain.events import RecordedEvent
from domain.people import Actor, Role
from domain.vocabulary import Category, Priority, Source
from tests.builders import Story

# Microseconds on purpose: the store must give occurred_at back to the microsecond.
START = datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=UTC)

SUPERVISOR = Actor(id="sup-zhang", role=Role.SUPERVISOR, unit="dcs", name="张明")
LEADER = Actor(id="leader-wang", role=Role.LEADER, name="王建国")


def unit_user(unit: str) -> Actor:
    """A user of `unit` (the demo org's naming: fgw-li, czj-li …)."""
    return Actor(id=f"{unit}-li", role=Role.UNIT, unit=unit, name="李强")


class ItemStory(Story):
    """One item's life told through the shared story (tests.builders), with the store tests' 立项."""

    def __init__(self, item_id: str, *, number: str = "DB-2026-000001", start: datetime = START) -> None:
        super().__init__(item_id=item_id, number=number, now=start)

    def open(
        self,
        *,
        title: str = "推进老旧小区改造",
        requirements: str = "年底前完成 20 个小区的改造任务",
        lead_unit: str = "zjj",
        co_units: tuple[str, ...] = ("czj",),
        category: Category = Category.MAJOR_PROJECT,
        priority: Priority = Priority.HIGH,
        deadline_days: int = 120,
        tags: tuple[str, ...] = ("民生实事",),
    ) -> list[RecordedEvent]:
        """立项 by the supervisor."""
        return self.act(
            SUPERVISOR,
            cmd.OpenItem(
                title=title,
                requirements=requirements,
                source=Source.MEETING_DECISION,
                category=category,
                priority=priority,
                lead_unit=lead_unit,
                co_units=list(co_units),
                leader=LEADER.id,
                deadline=self.now + timedelta(days=deadline_days),
                tags=list(tags),
            ),
        )

    def sign_all(self) -> list[RecordedEvent]:
        """Every assigned unit signs for the item."""
        return [e for unit in self.state.units() for e in self.act(unit_user(unit), cmd.SignFor())]

    def into_implementation(self) -> list[RecordedEvent]:
        """Sign, submit a plan with one milestone, approve it: the item enters 狠抓落实."""
        events = self.sign_all()
        lead = unit_user(self.state.lead_unit)
        milestone = cmd.PlannedMilestone(name="完成摸底", due=self.now + timedelta(days=20))
        events += self.act(lead, cmd.SubmitPlan(measures="分三批推进", milestones=[milestone]))
        events += self.act(SUPERVISOR, cmd.ApprovePlan(comment="同意"))
        return events

"""The items the rhythm tests run over, told through the real domain with a controlled clock.

- fgw leads two items: progress reported on one of them in November 2026, not the other;
- czj's item had progress in October only; zjj's item had progress in November;
- jtj's item was cancelled in September (nothing open: jtj is never asked);
- fgw's first item goes red on its plan in Q3 (the 调度 summary lists it).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from domain import commands as cmd
from domain import events as ev
from domain.ladder import Level
from domain.people import SYSTEM_ACTOR
from domain.rhythms import Rhythm
from domain.state import waiting_for
from tests.store.stories import SUPERVISOR, ItemStory, unit_user
from tests.workflows.ladder_support import beijing
from workflows.rhythm_messages import RhythmReport, RhythmRun
from workflows.rhythms import RhythmWorkflow


def at(story: ItemStory, when: datetime) -> timedelta:
    """The step from the story's clock to `when` (which must be later)."""
    step = when - story.now
    assert step > timedelta(0), f"{story.item_id}: {when} is before {story.now}"
    return step


def progress(story: ItemStory, when: str, percent: int = 50) -> None:
    """The lead unit reports progress at Beijing time `when`."""
    report = cmd.ReportProgress(summary=f"{when} 进展", percent=percent, milestones_done=[])
    story.act(unit_user(story.state.lead_unit), report, after=at(story, beijing(when)))


def red_on_plan(story: ItemStory, when: str) -> None:
    """The plan's ladder reaches 红灯超期 at `when` (recorded as the workflow's ladder records it)."""
    due = next(s.due for s in waiting_for(story.state) if s.step == "submit_plan")
    assert due is not None
    story.now = beijing(when)
    story.record(
        SYSTEM_ACTOR,
        [
            ev.LadderArmed(
                step="submit_plan", due=due, rungs=[], policy_id="p", policy_version=1, calendar="t"
            )
        ],
    )
    story.now += timedelta(minutes=1)
    story.record(
        SYSTEM_ACTOR,
        [
            ev.EscalationRaised(
                step="submit_plan",
                level=Level.OVERDUE,
                at=story.now,
                due=due,
                rule="test",
                audience=[],
                recipients=["fgw-li"],
            )
        ],
    )


def opened(item_id: str, number: str, lead: str, when: str) -> ItemStory:
    """An item opened by the supervisor at Beijing time `when`, led by `lead` alone."""
    story = ItemStory(item_id, number=number, start=beijing(when))
    story.open(lead_unit=lead, co_units=(), deadline_days=300)
    return story


def rhythm_stories() -> list[ItemStory]:
    """The five items, told up to 2026-11-04 (Q3 for the summary, November for the request)."""
    fgw_red = opened("r-fgw-1", "DB-2026-000201", "fgw", "2026-08-03 09:00")
    fgw_red.sign_all()
    red_on_plan(fgw_red, "2026-08-20 10:00")

    fgw_reported = opened("r-fgw-2", "DB-2026-000202", "fgw", "2026-08-04 09:00")
    fgw_reported.into_implementation()
    progress(fgw_reported, "2026-11-03 10:00")

    czj = opened("r-czj-1", "DB-2026-000203", "czj", "2026-08-05 09:00")
    czj.into_implementation()
    progress(czj, "2026-10-20 10:00")

    zjj = opened("r-zjj-1", "DB-2026-000204", "zjj", "2026-08-06 09:00")
    zjj.into_implementation()
    progress(zjj, "2026-11-02 10:00")

    jtj = opened("r-jtj-1", "DB-2026-000205", "jtj", "2026-08-07 09:00")
    jtj.act(SUPERVISOR, cmd.Cancel(reason="任务调整"), after=at(jtj, beijing("2026-09-10 09:00")))
    return [fgw_red, fgw_reported, czj, zjj, jtj]


async def run(env: WorkflowEnvironment, queue: str, rhythm: Rhythm, day: str) -> RhythmReport:
    """One run of the rhythm's workflow for the Beijing day `day`, as the schedule starts it."""
    report: RhythmReport = await env.client.execute_workflow(
        RhythmWorkflow.run,
        RhythmRun(rhythm=rhythm, day=day),
        id=f"rhythm-{uuid.uuid4()}",
        task_queue=queue,
    )
    return report

"""What-if for escalation policies: replay a proposed ladder over a past period's events.

Pure. For each item of the policy's category and priority, the item's events are folded with the
domain's `evolve`; every ladder the log armed (`LadderArmed`: a step, its due instant, the instant
it was armed) runs until its step stopped waiting with that due (the fold's `live_ladders` rule)
or the period's last instant. The proposed rungs are armed on the same due with `arm_rungs` and
the calendar passed in, and fire as the item's workflow fires them: when a ladder is armed, the
gravest rung already due fires at once (the ones it passed are superseded), then each later rung
at its own instant while the ladder still runs. The same replay of the rungs the log recorded
gives `replay_matches_log`, the check that the replay models what the workflow did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.dues import IsWorkday
from domain.events import RecordedEvent
from domain.fold import evolve
from domain.ladder import AppliedPolicy, ArmedRung, Level, arm_rungs
from domain.state import ItemState
from domain.statistics import Period


class RungRow(BaseModel):
    """One rung on one step's ladder: when the proposal would raise it, when the log raised it."""

    model_config = ConfigDict(frozen=True)

    step: str
    due: datetime
    level: Level
    proposed_at: datetime | None
    recorded_at: datetime | None
    recorded_seq: int | None

    @property
    def change(self) -> str:
        """`added`, `removed`, `moved` or `same`."""
        if self.recorded_at is None:
            return "added"
        if self.proposed_at is None:
            return "removed"
        return "same" if self.proposed_at == self.recorded_at else "moved"


class ItemReplay(BaseModel):
    """One item's rungs under the proposal against those its log shows."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    number: str
    title: str
    recorded_policy: str
    rows: tuple[RungRow, ...]
    replay_matches_log: bool


@dataclass
class _Ladder:
    step: str
    due: datetime
    armed_at: datetime
    recorded: tuple[ArmedRung, ...]
    end: datetime | None = None
    closed: bool = False


def fire(
    rungs: Sequence[tuple[Level, datetime]], armed_at: datetime, end: datetime, *, closed: bool
) -> dict[Level, datetime]:
    """When each rung fires on a ladder armed at `armed_at` that ran until `end`.

    A ladder that `closed` (its step stopped waiting at `end`) fires nothing at `end` itself; one
    cut at the period's end fires what is due by then.
    """

    def runs(at: datetime) -> bool:
        return at < end or (not closed and at <= end)

    ordered = sorted(rungs, key=lambda r: r[0].rank)
    passed = [level for level, at in ordered if at <= armed_at]
    fired = {passed[-1]: armed_at} if passed and runs(armed_at) else {}
    fired.update({level: at for level, at in ordered if at > armed_at and runs(at)})
    return fired


Raised = dict[tuple[str, datetime, Level], tuple[datetime, int]]


def _walk(events: Iterable[RecordedEvent], period: Period) -> tuple[ItemState, list[_Ladder], Raised]:
    """Fold the events up to the period's end: the ladders armed (each with its end) and the rungs raised."""
    state = ItemState()
    ladders: list[_Ladder] = []
    running: dict[str, _Ladder] = {}
    raised: Raised = {}
    for event in events:
        if event.occurred_at > period.last:
            break
        state = evolve(state, event)
        body = event.body()
        if isinstance(body, ev.LadderArmed):
            ladder = _Ladder(
                step=body.step, due=body.due, armed_at=event.occurred_at, recorded=tuple(body.rungs)
            )
            ladders.append(ladder)
            replaced = running.pop(body.step, None)
            if replaced is not None:
                replaced.end, replaced.closed = event.occurred_at, True
            running[body.step] = ladder
        elif isinstance(body, ev.RungReached):
            raised[(body.step, body.due, body.level)] = (event.occurred_at, event.seq)
        for step, ladder in list(running.items()):
            live = state.ladders.get(step)
            if live is None or live.due != ladder.due:
                ladder.end, ladder.closed = event.occurred_at, True
                del running[step]
    for ladder in running.values():
        ladder.end = period.last
    return state, ladders, raised


def _rows(
    ladder: _Ladder, would: dict[Level, datetime], logged: dict[Level, tuple[datetime, int]], period: Period
) -> list[RungRow]:
    rows: list[RungRow] = []
    for level in Level:
        proposed_at = would.get(level)
        recorded = logged.get(level)
        if proposed_at is not None and not period.holds(proposed_at):
            proposed_at = None
        if recorded is not None and not period.holds(recorded[0]):
            recorded = None
        if proposed_at is None and recorded is None:
            continue
        rows.append(
            RungRow(
                step=ladder.step,
                due=ladder.due,
                level=level,
                proposed_at=proposed_at,
                recorded_at=recorded[0] if recorded else None,
                recorded_seq=recorded[1] if recorded else None,
            )
        )
    return rows


def replay_item(
    events: Iterable[RecordedEvent], proposed: AppliedPolicy, period: Period, is_workday: IsWorkday
) -> ItemReplay | None:
    """The item's rungs under `proposed` against the log's; None for another category or priority."""
    state, ladders, raised = _walk(events, period)
    if state.category != proposed.category or state.priority != proposed.priority:
        return None
    rows: list[RungRow] = []
    matches = True
    for ladder in ladders:
        end = ladder.end or period.last
        planned = arm_rungs(proposed, ladder.due, is_workday)
        would = fire([(r.level, r.at) for r in planned], ladder.armed_at, end, closed=ladder.closed)
        replayed = fire(
            [(r.level, r.at) for r in ladder.recorded], ladder.armed_at, end, closed=ladder.closed
        )
        logged = {
            level: found
            for (step, due, level), found in raised.items()
            if step == ladder.step and due == ladder.due
        }
        matches = matches and set(replayed) == set(logged)
        rows.extend(_rows(ladder, would, logged, period))
    recorded_policy = f"{state.policy.policy_id} v{state.policy.version}" if state.policy else ""
    return ItemReplay(
        item_id=state.id,
        number=state.number,
        title=state.title,
        recorded_policy=recorded_policy,
        rows=tuple(rows),
        replay_matches_log=matches,
    )


class LevelCount(BaseModel):
    """How many rungs of one level the proposal would raise against the log."""

    model_config = ConfigDict(frozen=True)

    level: Level
    proposed: int
    recorded: int


def count_levels(replays: Iterable[ItemReplay]) -> list[LevelCount]:
    """Totals per level across items."""
    rows = [row for replay in replays for row in replay.rows]
    return [
        LevelCount(
            level=level,
            proposed=sum(1 for r in rows if r.level is level and r.proposed_at is not None),
            recorded=sum(1 for r in rows if r.level is level and r.recorded_at is not None),
        )
        for level in Level
    ]

"""Due instants and all working-day arithmetic: how long each waiting step may take, where a
ladder's rung falls, how many working days lie between two instants.

The arithmetic is pure and takes the calendar as a predicate (`IsWorkday`), because the Chinese
calendar (holidays, 调休 make-up days) is data that changes with package upgrades
(`adapters.workdays` answers it): callers outside the workflow compute the instants once and
the events record them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.instants import CHINA, Instant, close_of

IsWorkday = Callable[[date], bool]
"""The calendar as a predicate: True on a working day (Beijing dates)."""


def weekends_only(day: date) -> bool:
    """The fallback calendar: Monday to Friday are working days."""
    return day.weekday() < 5


def step_working_days(day: date, days: int, is_workday: IsWorkday) -> date:
    """The `days`-th working day after `day` (before it when `days` is negative; `day` itself at 0)."""
    step = timedelta(days=1 if days > 0 else -1)
    counted = 0
    while counted < abs(days):
        day += step
        if is_workday(day):
            counted += 1
    return day


def add_working_days(start: datetime, days: int, is_workday: IsWorkday) -> datetime:
    """The close (18:00 Beijing) of the `days`-th working day after `start`'s Beijing date."""
    if days < 0:
        raise ValueError("days must not be negative")
    return close_of(step_working_days(start.astimezone(CHINA).date(), days, is_workday))


def shift_working_days(due: datetime, days: int, is_workday: IsWorkday) -> datetime:
    """`due` moved by `days` working days on its Beijing date, keeping its Beijing time of day."""
    local = due.astimezone(CHINA)
    return datetime.combine(step_working_days(local.date(), days, is_workday), local.timetz())


def working_days_between(start: datetime, end: datetime, is_workday: IsWorkday) -> int:
    """Working days after `start`'s Beijing date up to and including `end`'s (0 the same day)."""
    day = start.astimezone(CHINA).date()
    last = end.astimezone(CHINA).date()
    return sum(1 for offset in range(1, (last - day).days + 1) if is_workday(day + timedelta(days=offset)))


class StepDurations(BaseModel):
    """How many working days each waiting step gets (calendar days for 回头看)."""

    model_config = ConfigDict(frozen=True)

    sign_for: int = 2
    plan: int = 5
    sign_off: int = 3
    report: int = 3
    follow_up_calendar_days: int = 30
    rework: int = 15


class ComputedDues(BaseModel):
    """Due instants computed outside the workflow for one command, recorded in its event.

    Only the instants the command needs are read; `calendar` says which calendar made them and
    `counted_from` the Beijing date they were counted from (None: not said, as in requests
    recorded before it was).
    """

    model_config = ConfigDict(frozen=True)

    sign_for: Instant | None = None
    plan: Instant | None = None
    sign_off: Instant | None = None
    report: Instant | None = None
    evaluation: Instant | None = None
    rework: Instant | None = None
    calendar: str = ""
    # Left out of the JSON when unset, so a request signed without it still verifies (workflows/signing.py).
    counted_from: date | None = Field(default=None, exclude_if=lambda day: day is None)

    def counted_on(self, moment: datetime) -> bool:
        """Whether these dues were counted from `moment`'s Beijing date (all of `moment` they depend on)."""
        return self.counted_from == moment.astimezone(CHINA).date()


def compute_dues(
    now: datetime,
    is_workday: IsWorkday,
    calendar: str,
    durations: StepDurations | None = None,
) -> ComputedDues:
    """Every due instant a command might need, counted from `now`."""
    steps = durations or StepDurations()
    return ComputedDues(
        counted_from=now.astimezone(CHINA).date(),
        sign_for=add_working_days(now, steps.sign_for, is_workday),
        plan=add_working_days(now, steps.plan, is_workday),
        sign_off=add_working_days(now, steps.sign_off, is_workday),
        report=add_working_days(now, steps.report, is_workday),
        evaluation=close_of(now.astimezone(CHINA).date() + timedelta(days=steps.follow_up_calendar_days)),
        rework=add_working_days(now, steps.rework, is_workday),
        calendar=calendar,
    )

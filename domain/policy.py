"""Due instants: how long each waiting step may take, counted in working days.

The arithmetic is pure and takes the calendar as a predicate, because the Chinese
calendar (holidays, 调休 make-up days) is data that changes with package upgrades:
callers outside the workflow compute the instants once and the events record them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.instants import CHINA, Instant, close_of

IsWorkday = Callable[[date], bool]


def weekends_only(day: date) -> bool:
    """The fallback calendar: Monday to Friday are working days."""
    return day.weekday() < 5


def add_working_days(start: datetime, days: int, is_workday: IsWorkday) -> datetime:
    """The close (18:00 Beijing) of the `days`-th working day after `start`'s Beijing date."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start.astimezone(CHINA).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return close_of(day)


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

    Only the instants the command needs are read; `calendar` says which calendar made them.
    """

    model_config = ConfigDict(frozen=True)

    sign_for: Instant | None = None
    plan: Instant | None = None
    sign_off: Instant | None = None
    report: Instant | None = None
    evaluation: Instant | None = None
    rework: Instant | None = None
    calendar: str = ""


def compute_dues(
    now: datetime,
    is_workday: IsWorkday,
    calendar: str,
    durations: StepDurations | None = None,
) -> ComputedDues:
    """Every due instant a command might need, counted from `now`."""
    steps = durations or StepDurations()
    return ComputedDues(
        sign_for=add_working_days(now, steps.sign_for, is_workday),
        plan=add_working_days(now, steps.plan, is_workday),
        sign_off=add_working_days(now, steps.sign_off, is_workday),
        report=add_working_days(now, steps.report, is_workday),
        evaluation=close_of(now.astimezone(CHINA).date() + timedelta(days=steps.follow_up_calendar_days)),
        rework=add_working_days(now, steps.rework, is_workday),
        calendar=calendar,
    )

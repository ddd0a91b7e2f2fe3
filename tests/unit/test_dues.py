"""Due instants counted in working days, closing at 18:00 Beijing time, on any calendar predicate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.dues import StepDurations, add_working_days, compute_dues, weekends_only
from domain.instants import CHINA

MONDAY_MORNING = datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)
FRIDAY_MORNING = datetime(2026, 10, 2, 9, 0, tzinfo=CHINA)

# 国庆 2026 as a custom calendar: 1–7 October off, Saturday 10 October a make-up working day (调休).
NATIONAL_DAY = {date(2026, 10, 1) + timedelta(days=n) for n in range(7)}
MAKE_UP = {date(2026, 10, 10)}


def national_day_calendar(day: date) -> bool:
    if day in MAKE_UP:
        return True
    return day not in NATIONAL_DAY and weekends_only(day)


def beijing(moment: datetime) -> tuple[date, int, int]:
    local = moment.astimezone(CHINA)
    return local.date(), local.hour, local.minute


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (date(2026, 9, 28), True),
        (date(2026, 10, 2), True),
        (date(2026, 10, 3), False),
        (date(2026, 10, 4), False),
    ],
)
def test_weekends_only_calendar_works_monday_to_friday(day: date, workday: bool) -> None:
    assert weekends_only(day) is workday


def test_zero_working_days_is_the_close_of_the_same_day() -> None:
    assert beijing(add_working_days(MONDAY_MORNING, 0, weekends_only)) == (date(2026, 9, 28), 18, 0)


def test_working_days_close_at_18_beijing_which_is_10_utc() -> None:
    due = add_working_days(MONDAY_MORNING, 2, weekends_only)
    assert due == datetime(2026, 9, 30, 10, 0, tzinfo=UTC)


def test_friday_plus_one_working_day_is_monday() -> None:
    assert beijing(add_working_days(FRIDAY_MORNING, 1, weekends_only)) == (date(2026, 10, 5), 18, 0)


def test_a_week_of_working_days_spans_the_weekend() -> None:
    assert beijing(add_working_days(MONDAY_MORNING, 5, weekends_only))[0] == date(2026, 10, 5)


def test_holiday_predicate_skips_the_holidays_and_counts_the_make_up_day() -> None:
    # Wed 30 Sep + 1 → Thu 8 Oct (1–7 off); + 3 → Sat 10 Oct (调休 working day)
    start = datetime(2026, 9, 30, 15, 0, tzinfo=CHINA)
    assert beijing(add_working_days(start, 1, national_day_calendar))[0] == date(2026, 10, 8)
    assert beijing(add_working_days(start, 3, national_day_calendar))[0] == date(2026, 10, 10)
    assert beijing(add_working_days(start, 3, weekends_only))[0] == date(2026, 10, 5)


def test_counting_starts_from_the_beijing_date_not_the_utc_date() -> None:
    # 17:00 UTC on Friday is already 01:00 Saturday in Beijing: one working day later is Monday.
    late_friday_utc = datetime(2026, 10, 2, 17, 0, tzinfo=UTC)
    assert beijing(add_working_days(late_friday_utc, 1, weekends_only))[0] == date(2026, 10, 5)
    # 15:00 UTC on Thursday is 23:00 Thursday in Beijing: one working day later is Friday.
    late_thursday_utc = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
    assert beijing(add_working_days(late_thursday_utc, 1, weekends_only))[0] == date(2026, 10, 2)


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(MONDAY_MORNING, -1, weekends_only)


def test_computed_dues_follow_the_step_durations_and_name_their_calendar() -> None:
    dues = compute_dues(MONDAY_MORNING, weekends_only, "weekends-only")
    assert dues.calendar == "weekends-only"
    assert dues.sign_for is not None
    assert dues.plan is not None
    assert dues.evaluation is not None
    assert dues.rework is not None
    assert beijing(dues.sign_for)[0] == date(2026, 9, 30)
    assert beijing(dues.plan)[0] == date(2026, 10, 5)
    assert beijing(dues.evaluation) == (date(2026, 10, 28), 18, 0)  # 30 calendar days, holidays or not
    assert beijing(dues.rework)[0] == date(2026, 10, 19)
    assert dues.sign_for.tzinfo is UTC


def test_custom_step_durations_change_the_dues() -> None:
    quick = compute_dues(MONDAY_MORNING, weekends_only, "w", StepDurations(sign_for=0, plan=1))
    assert quick.sign_for is not None
    assert quick.plan is not None
    assert beijing(quick.sign_for)[0] == date(2026, 9, 28)
    assert beijing(quick.plan)[0] == date(2026, 9, 29)

"""The Chinese working-day calendar: holidays, 调休 Saturdays, and the weekends-only fallback."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from adapters.workdays import COVERED_YEARS, PACKAGE_VERSION, ChinaWorkdays, dues_at
from domain.instants import CHINA, close_of

LAST_COVERED = COVERED_YEARS[-1]


def test_national_day_2026_is_a_holiday_and_the_make_up_saturday_a_workday() -> None:
    calendar = ChinaWorkdays()
    assert not calendar.is_workday(date(2026, 10, 1))  # Thursday, 国庆节
    assert not calendar.is_workday(date(2026, 10, 7))  # Wednesday, still the holiday
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, 调休 make-up workday
    assert calendar.is_workday(date(2026, 9, 20))  # Sunday, 调休 make-up workday
    assert calendar.label == f"chinesecalendar {PACKAGE_VERSION}"


def test_sign_for_due_skips_the_national_day_holiday() -> None:
    dues = dues_at(datetime(2026, 9, 30, 10, 0, tzinfo=CHINA))
    # 2 working days after 30 September: 8 and 9 October (1-7 October are the holiday).
    assert dues.sign_for == close_of(date(2026, 10, 9))
    assert dues.calendar == f"chinesecalendar {PACKAGE_VERSION}"


def test_a_year_outside_the_package_counts_weekends_only_and_says_so() -> None:
    year = LAST_COVERED + 5
    calendar = ChinaWorkdays()
    assert calendar.is_workday(date(year, 10, 1)) == (date(year, 10, 1).weekday() < 5)
    assert calendar.label == f"weekends-only ({year} outside chinesecalendar {PACKAGE_VERSION})"


def test_dues_far_in_the_future_are_labelled_weekends_only() -> None:
    year = LAST_COVERED + 5
    dues = dues_at(datetime(year, 3, 2, 9, 0, tzinfo=CHINA))
    assert dues.calendar.startswith("weekends-only")
    assert str(year) in dues.calendar


def test_dues_spanning_the_last_covered_year_name_both_calendars() -> None:
    start = datetime(LAST_COVERED, 12, 30, 9, 0, tzinfo=CHINA)
    dues = dues_at(start)
    assert dues.calendar == (
        f"chinesecalendar {PACKAGE_VERSION}; "
        f"weekends-only ({LAST_COVERED + 1} outside chinesecalendar {PACKAGE_VERSION})"
    )
    assert dues.plan is not None
    assert dues.plan > start + timedelta(days=5)

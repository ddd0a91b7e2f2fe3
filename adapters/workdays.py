"""The Chinese working-day calendar (holidays and 调休 make-up days) behind every due instant.

`chinesecalendar` knows the State Council's schedule only up to the year it was released for;
a year it does not cover is counted Monday to Friday, and the label recorded with the dues
says so, so an auditor can tell which calendar produced a deadline.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from importlib.metadata import version

import chinese_calendar

from domain.dues import ComputedDues, StepDurations, compute_dues, weekends_only

PACKAGE = "chinesecalendar"
PACKAGE_VERSION = version(PACKAGE)
COVERED_YEARS = range(
    min(chinese_calendar.holidays).year,
    max(chinese_calendar.holidays).year + 1,
)


# chinesecalendar checks every date against the minimum and maximum of all its holidays (about
# 0.1 ms a date, 60 dates a count of dues); its answers do not change while the process runs.
@lru_cache(maxsize=4096)
def _package_workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def uncovered_years(today: date, covered: range = COVERED_YEARS) -> list[int]:
    """The years deadlines counted `today` may fall in that the package does not cover: this
    year, and from October on (when items opened run into January) the next."""
    near = [today.year, today.year + 1] if today.month >= 10 else [today.year]
    return [year for year in near if year not in covered]


class ChinaWorkdays:
    """A working-day predicate that remembers which years it had to count weekends-only.

    Use one instance per computation: `label` describes the calendar behind the answers
    given so far.
    """

    def __init__(self, covered: range = COVERED_YEARS) -> None:
        self._covered = covered
        self._fallback_years: set[int] = set()
        self._used_package = False

    def is_workday(self, day: date) -> bool:
        """True on a working day: weekdays that are not holidays, and 调休 weekend workdays."""
        if day.year in self._covered:
            self._used_package = True
            return _package_workday(day)
        self._fallback_years.add(day.year)
        return weekends_only(day)

    @property
    def label(self) -> str:
        """Which calendar answered: "chinesecalendar 1.11.0", weekends-only, or both with the years."""
        package = f"{PACKAGE} {PACKAGE_VERSION}"
        if not self._fallback_years:
            return package
        years = ", ".join(str(year) for year in sorted(self._fallback_years))
        fallback = f"weekends-only ({years} outside {package})"
        return f"{package}; {fallback}" if self._used_package else fallback


def dues_at(now: datetime, durations: StepDurations | None = None) -> ComputedDues:
    """Every due instant an action might need, counted from `now` on the Chinese calendar."""
    calendar = ChinaWorkdays()
    dues = compute_dues(now, calendar.is_workday, "", durations)
    return dues.model_copy(update={"calendar": calendar.label})

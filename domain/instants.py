"""Instants as the domain accepts them: timezone-aware; a bare date means that day's close."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
# A due date given without a time falls due at the close of that working day in Beijing.
CLOSE_OF_DAY = time(18, 0)
# The instants a person may give (deadlines, due dates, query windows): wide enough for any real
# item, and far enough from the calendar's ends (years 1 and 9999) that no arithmetic overflows.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
END = datetime(2101, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = (
    "时间须在 2000-01-01 至 2100-12-31（UTC）之间 / "
    "the instant must lie between 2000-01-01 and 2100-12-31 (UTC)"
)


def close_of(day: date) -> datetime:
    """The due instant of a calendar day: 18:00 Beijing time."""
    return datetime.combine(day, CLOSE_OF_DAY, tzinfo=CHINA)


def _to_instant(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10:
        try:
            return close_of(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return close_of(value)
    return value


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("时间须带时区 / the instant needs a timezone, e.g. 2026-12-31T18:00:00+08:00")
    return value.astimezone(UTC)


def _accepted_utc(value: datetime) -> datetime:
    # Compared before converting: astimezone(UTC) itself overflows at 9999-12-31T23:59:59-14:00.
    if value.tzinfo is not None and not EARLIEST <= value < END:
        raise ValueError(OUT_OF_RANGE)
    return _aware_utc(value)


Instant = Annotated[datetime, BeforeValidator(_to_instant), AfterValidator(_aware_utc)]
"""A timezone-aware instant kept in UTC; "YYYY-MM-DD" means 18:00 Beijing time that day."""

InputInstant = Annotated[datetime, BeforeValidator(_to_instant), AfterValidator(_accepted_utc)]
"""An Instant a person gives (commands, query parameters): also within EARLIEST … END."""


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC, the form events record."""
    return _aware_utc(moment)

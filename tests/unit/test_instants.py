"""Instants: always timezone-aware, kept in UTC; a bare date falls due at 18:00 Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.instants import CHINA, InputInstant, Instant, as_utc, close_of

INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)
INPUT: TypeAdapter[datetime] = TypeAdapter(InputInstant)
END_OF_2026_CLOSE = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)


def test_a_bare_date_means_18_beijing_that_day() -> None:
    parsed = INSTANT.validate_python("2026-12-31")
    assert parsed == END_OF_2026_CLOSE
    assert parsed.tzinfo is UTC


def test_a_date_object_means_the_same_close_of_day() -> None:
    assert INSTANT.validate_python(date(2026, 12, 31)) == END_OF_2026_CLOSE


@pytest.mark.parametrize(
    "text",
    ["2026-12-31T18:00:00+08:00", "2026-12-31T10:00:00Z", "2026-12-31T05:00:00-05:00"],
)
def test_aware_instants_are_kept_in_utc(text: str) -> None:
    parsed = INSTANT.validate_python(text)
    assert parsed == END_OF_2026_CLOSE
    assert parsed.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        INSTANT.validate_python(datetime(2026, 12, 31, 18, 0))  # noqa: DTZ001 — the point of the test


def test_a_naive_iso_string_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        INSTANT.validate_python("2026-12-31T18:00:00")


@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "next friday", ""])
def test_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        INSTANT.validate_python(text)


def test_instants_round_trip_through_json() -> None:
    dumped = INSTANT.dump_json(INSTANT.validate_python("2026-12-31"))
    assert INSTANT.validate_json(dumped) == END_OF_2026_CLOSE


def test_close_of_is_18_beijing() -> None:
    assert close_of(date(2026, 12, 31)) == END_OF_2026_CLOSE
    assert close_of(date(2026, 12, 31)).tzinfo is CHINA


def test_as_utc_keeps_the_instant_and_refuses_naive() -> None:
    moment = datetime(2026, 12, 31, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    assert as_utc(moment) == moment
    assert as_utc(moment).tzinfo is UTC
    with pytest.raises(ValueError, match="timezone"):
        as_utc(datetime(2026, 12, 31))  # noqa: DTZ001 — the point of the test


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-14:00",  # converting it to UTC overflowed (a 500 before the range)
        "0001-01-01T00:00:00+14:00",
        "9999-12-31",
        "0001-01-01",
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "2101-01-01T08:00:00+08:00",
    ],
)
def test_a_given_instant_outside_2000_to_2100_is_refused_in_words(text: str) -> None:
    with pytest.raises(ValidationError, match="2000-01-01 至 2100-12-31"):
        INPUT.validate_python(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2000-01-01T00:00:00Z", datetime(2000, 1, 1, tzinfo=UTC)),
        ("2100-12-31T23:59:59.999999Z", datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2100-12-31", datetime(2100, 12, 31, 10, 0, tzinfo=UTC)),
    ],
)
def test_the_ends_of_the_range_are_accepted(text: str, expected: datetime) -> None:
    assert INPUT.validate_python(text) == expected


def test_a_given_instant_is_still_refused_when_naive() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        INPUT.validate_python("2026-12-31T18:00:00")


def test_recorded_instants_keep_no_range() -> None:
    assert INSTANT.validate_python("2150-01-01T00:00:00Z") == datetime(2150, 1, 1, tzinfo=UTC)

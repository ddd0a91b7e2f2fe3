"""Instants: always timezone-aware, kept in UTC; a bare date falls due at 18:00 Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.instants import CHINA, Instant, as_utc, close_of

INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)
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

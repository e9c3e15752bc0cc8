"""Stored instants: fixed-width UTC text that sorts in time order and parses back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentkit.clock import format_instant, last_day, parse_instant
from consentkit.errors import InvalidInputError

instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]))


def test_early_years_keep_the_fixed_width() -> None:
    assert format_instant(datetime(5, 1, 1, tzinfo=UTC)) == "0005-01-01T00:00:00.000000Z"
    assert format_instant(datetime(2026, 3, 2, 12, 0, 0, 7, tzinfo=timezone(timedelta(hours=1)))) == \
        "2026-03-02T11:00:00.000007Z"


@given(instants, instants)
def test_text_is_fixed_width_sorts_in_time_order_and_parses_back(first: datetime, second: datetime) -> None:
    a, b = format_instant(first), format_instant(second)
    assert len(a) == len(b) == 27 and a.endswith("Z")
    assert (a < b) == (first < second)
    assert parse_instant(a, field_name="at") == first


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        format_instant(datetime(2026, 3, 2))


def test_an_until_that_names_a_day_includes_it() -> None:
    """"Valid until 31 December" holds through that day: the exclusive end is the next midnight (UTC)."""
    assert parse_instant("2026-12-31", end_of_day=True) == datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_instant("2026-12-31") == datetime(2026, 12, 31, tzinfo=UTC)
    moment = "2026-12-31T18:00:00+01:00"  # a date-time is that instant either way
    assert parse_instant(moment, end_of_day=True) == parse_instant(moment) == datetime(2026, 12, 31, 17, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="--valid-until: out of range"):
        parse_instant("9999-12-31", field_name="--valid-until", end_of_day=True)


def test_last_day_is_the_day_an_exclusive_end_still_covers() -> None:
    assert last_day(datetime(2027, 1, 1, tzinfo=UTC)) == datetime(2026, 12, 31).date()
    assert last_day(datetime(2026, 12, 31, 17, tzinfo=UTC)) == datetime(2026, 12, 31).date()
    assert last_day(datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))) == datetime(2026, 12, 31).date()


@pytest.mark.parametrize("text", ["2026-12-01T10:00:00z", "2026-12-01T10:00:00Z", "20261201T100000Z",
                                  "2026-12-01T11:00:00+01:00"])
def test_iso_8601_spellings_of_one_instant(text: str) -> None:
    assert parse_instant(text) == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_a_basic_format_date_is_a_date() -> None:
    assert parse_instant("20261201") == parse_instant("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_instant("20261231", end_of_day=True) == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="not a calendar date"):
        parse_instant("20261301")


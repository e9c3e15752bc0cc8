"""Time as a parameter: a ``Clock`` protocol, the system clock, a fixed clock for tests,
and the strict parsers for the dates and instants users type.

Every function deeper than the CLI or the facade takes ``at=`` instead of reading the
clock itself (cryptography's ``*_at_time`` pattern).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from consentkit.errors import InvalidInputError

__all__ = [
    "Clock",
    "FixedClock",
    "SystemClock",
    "format_instant",
    "parse_date",
    "parse_instant",
]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BASIC_DATE = re.compile(r"\d{8}")


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current instant (timezone-aware, UTC)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told; ``advance`` moves it forward."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        """Return the fixed instant."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move the clock forward by ``timedelta(**delta)``."""
        self.current += timedelta(**delta)


def parse_date(text: str, *, field_name: str = "date") -> date:
    """Parse ``YYYY-MM-DD`` strictly; the error names the field and the expected form."""
    value = text.strip()
    if not _DATE.fullmatch(value):
        raise InvalidInputError(f"{field_name}: expected a date as YYYY-MM-DD, e.g. 2009-04-17")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{field_name}: not a calendar date (check month and day)") from None


def parse_instant(text: str, *, field_name: str = "time", end_of_day: bool = False) -> datetime:
    """Parse an ISO 8601 date or date-time with offset into an aware UTC datetime.

    A bare date means the start of that day in UTC; with ``end_of_day`` (an "until" that
    names a day: a consent "valid until 31 December" holds through that day) the end of it,
    i.e. the start of the next day, as an exclusive end. A date-time must carry an offset
    (``Z`` or ``+02:00``): a local time without one would be read differently on every
    machine, which an audit trail cannot accept.
    """
    value = text.strip()
    if _BASIC_DATE.fullmatch(value):  # ISO 8601 basic format, 20261231
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    elif value.endswith("z"):  # RFC 3339 allows a lower-case zone designator
        value = value[:-1] + "Z"
    if _DATE.fullmatch(value):
        day = parse_date(value, field_name=field_name)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if not end_of_day:
            return start
        try:
            return start + timedelta(days=1)
        except OverflowError:
            raise InvalidInputError(f"{field_name}: out of range (the last day is 9999-12-30)") from None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{field_name}: expected ISO 8601, e.g. 2026-03-01 or 2026-03-01T14:30:00+01:00"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInputError(f"{field_name}: add a UTC offset, e.g. 2026-03-01T14:30:00Z")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before the first representable instant
        raise InvalidInputError(f"{field_name}: out of range (between years 0001 and 9999 in UTC)") from None


def last_day(end: datetime) -> date:
    """The last day (UTC) an exclusive end still covers: what a person reads as "valid until".

    A consent granted ``--valid-until 2026-12-31`` ends at 2027-01-01T00:00Z and is shown as
    valid until 2026-12-31; one that ends at 2026-12-31T17:00Z is shown the same way.
    """
    return (end.astimezone(UTC) - timedelta(microseconds=1)).date()


def format_instant(moment: datetime) -> str:
    """Format an aware datetime as fixed-width UTC ISO 8601 with microseconds and ``Z``.

    Fixed width makes the text sort in time order, which the audit queries rely on.
    """
    if moment.tzinfo is None:
        raise InvalidInputError("time: a timezone-aware datetime is required")
    # isoformat, not strftime: glibc's %Y writes the year 5 as "5", which breaks the fixed
    # width (and the sort order); isoformat pads every field. "+00:00" becomes "Z".
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"

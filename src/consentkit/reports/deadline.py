"""When an answer to a subject-access request is due, by the jurisdiction's clock.

* ``months`` (GDPR Art. 12(3)): the same day of the month ``n`` months on; when that month
  is shorter, its last day. For EU packs, a period that ends on a Saturday, Sunday or
  public holiday ends on the next working day (Regulation (EEC, Euratom) No 1182/71
  art. 3(3)-(4), which the EDPB's guidelines 01/2022 on the right of access apply).
* ``days``: calendar days after the day of receipt (e.g. 45 CFR 164.524: 30 days).
* ``working_days`` (152-FZ art. 14(3), 20: 10 working days): count Monday to Friday after
  the day of receipt, skipping the organisation's public holidays.

Public holidays are not in the packs; the organisation configuration lists them.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from consentkit.errors import InvalidInputError

__all__ = ["DeadlineRule", "add_period", "is_working_day"]

_UNITS = ("months", "days", "working_days")


def is_working_day(day: date, holidays: Collection[date] = ()) -> bool:
    """Monday to Friday and not a listed public holiday."""
    return day.weekday() < 5 and day not in holidays


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_period(start: date, amount: int, unit: str, *, holidays: Collection[date] = (),
               roll_to_working_day: bool = False) -> date:
    """``start`` plus ``amount`` ``unit``; see the module docstring for each unit."""
    if unit not in _UNITS:
        raise InvalidInputError(f"deadline unit: choose one of {', '.join(_UNITS)}")
    if amount < 0:
        raise InvalidInputError("deadline: the amount must not be negative")
    if unit == "working_days":
        day, left = start, amount
        while left:
            day += timedelta(days=1)
            if is_working_day(day, holidays):
                left -= 1
        return day
    end = _add_months(start, amount) if unit == "months" else start + timedelta(days=amount)
    while roll_to_working_day and not is_working_day(end, holidays):
        end += timedelta(days=1)
    return end


@dataclass(frozen=True)
class DeadlineRule:
    """A pack's subject-access deadline, ready to apply."""

    amount: int
    unit: str
    extension_amount: int | None
    extension_unit: str | None
    citation: str
    roll_to_working_day: bool

    def due(self, received: date, holidays: Collection[date] = ()) -> date:
        """The day the answer is due for a request received on ``received``."""
        return add_period(received, self.amount, self.unit, holidays=holidays,
                          roll_to_working_day=self.roll_to_working_day)

    def extended(self, received: date, holidays: Collection[date] = ()) -> date | None:
        """The latest day after an extension, if the pack allows one.

        The extension runs on from the first period's own end, not from that end moved to a
        working day: GDPR Art. 12(3) gives one month plus two further months from receipt,
        and Regulation 1182/71 art. 3(4) moves only the end of the whole period.
        """
        if self.extension_amount is None or self.extension_unit is None:
            return None
        if self.extension_unit == self.unit:  # 31 January + 1 + 2 months is 30 April, not 28 April
            return add_period(received, self.amount + self.extension_amount, self.unit, holidays=holidays,
                              roll_to_working_day=self.roll_to_working_day)
        first = add_period(received, self.amount, self.unit, holidays=holidays)
        return add_period(first, self.extension_amount, self.extension_unit, holidays=holidays,
                          roll_to_working_day=self.roll_to_working_day)

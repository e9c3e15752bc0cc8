"""Subject-access deadlines by each unit, with the EU end-of-period rule and holidays."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentkit.config import shipped_dir
from consentkit.errors import InvalidInputError
from consentkit.policy import PackLibrary
from consentkit.reports.deadline import add_period, is_working_day
from consentkit.reports.subject import deadline_rule


def test_months_end_on_the_same_day_or_the_last_of_a_shorter_month() -> None:
    assert add_period(date(2026, 3, 2), 1, "months") == date(2026, 4, 2)
    assert add_period(date(2026, 1, 31), 1, "months") == date(2026, 2, 28)
    assert add_period(date(2028, 1, 31), 1, "months") == date(2028, 2, 29)
    assert add_period(date(2026, 11, 30), 3, "months") == date(2027, 2, 28)


def test_eu_periods_roll_forward_to_a_working_day() -> None:
    # 2026-02-28 is a Saturday; Regulation 1182/71 art. 3(4) moves the end to Monday.
    assert add_period(date(2026, 1, 28), 1, "months", roll_to_working_day=True) == date(2026, 3, 2)
    easter = {date(2026, 4, 3), date(2026, 4, 6)}
    assert add_period(date(2026, 3, 3), 1, "months", holidays=easter, roll_to_working_day=True) == date(2026, 4, 7)
    assert add_period(date(2026, 1, 28), 1, "months") == date(2026, 2, 28)  # no roll outside the EU


def test_working_days_skip_weekends_and_holidays() -> None:
    assert add_period(date(2026, 1, 12), 10, "working_days") == date(2026, 1, 26)
    assert add_period(date(2026, 1, 9), 1, "working_days") == date(2026, 1, 12)  # Friday -> Monday
    may = {date(2026, 5, 1), date(2026, 5, 11)}
    assert add_period(date(2026, 4, 30), 3, "working_days", holidays=may) == date(2026, 5, 6)


def test_calendar_days() -> None:
    assert add_period(date(2026, 3, 2), 30, "days") == date(2026, 4, 1)


def test_bad_units_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="choose one of"):
        add_period(date(2026, 3, 2), 1, "fortnights")


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(1, 40))
def test_working_day_deadlines_land_on_working_days_after_receipt(start: date, amount: int) -> None:
    end = add_period(start, amount, "working_days")
    assert end > start and is_working_day(end)
    between = sum(is_working_day(date.fromordinal(d)) for d in range(start.toordinal() + 1, end.toordinal() + 1))
    assert between == amount


def test_every_pack_has_a_deadline_rule() -> None:
    packs = PackLibrary([shipped_dir("policies")])
    rules = {pack_id: deadline_rule(packs.get(pack_id)) for pack_id in packs.ids()}
    assert all(rules.values())
    assert (rules["ru"].amount, rules["ru"].unit, rules["ru"].roll_to_working_day) == (10, "working_days", False)  # type: ignore[union-attr]
    assert rules["se"].roll_to_working_day and rules["gr"].unit == "months"  # type: ignore[union-attr]
    # Received 2 March: the extension runs to 2 June (1 + 2 months from receipt).
    assert rules["se"].extended(date(2026, 3, 2)) == date(2026, 6, 2)  # type: ignore[union-attr]
    assert rules["kz"].extended(date(2026, 3, 2)) is None  # type: ignore[union-attr]


def test_an_extension_runs_from_receipt_not_from_a_first_deadline_moved_off_a_weekend() -> None:
    rule = deadline_rule(PackLibrary([shipped_dir("policies")]).get("gr"))
    assert rule is not None
    # Received 26 November 2026: one month ends on Saturday 26 December, moved to Monday 28;
    # the extension runs to 26 February 2027 (a Friday), not 3 months from that Monday.
    assert rule.due(date(2026, 11, 26)) == date(2026, 12, 28)
    assert rule.extended(date(2026, 11, 26)) == date(2027, 2, 26)
    # Received 31 January: 30 April (three months on, the last day of April), not 4 May.
    assert rule.extended(date(2026, 1, 31)) == date(2026, 4, 30)

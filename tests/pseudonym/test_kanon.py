"""k-anonymity counting: groups, k reached, groups under k, suppression."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentkit.pseudonym.kanon import LISTED_GROUPS, GroupCounter


def _counter(*keys: tuple[str, ...]) -> GroupCounter:
    counter = GroupCounter(("sex", "year"))
    for key in keys:
        counter.add(key)
    return counter


def test_k_reached_is_the_smallest_group() -> None:
    counter = _counter(*[("F", "1985")] * 3, *[("M", "1990")] * 5)
    report = counter.report(3, suppress=False)
    assert (report.rows, report.groups, report.k_reached, report.groups_under_k) == (8, 2, 3, 0)
    assert report.passed and report.suppressed == 0 and report.listed == ()


def test_groups_under_k_are_reported_and_refuse_without_suppress() -> None:
    counter = _counter(*[("F", "1985")] * 4, ("M", "1990"), ("M", "1991"), ("M", "1991"))
    report = counter.report(3, suppress=False)
    assert not report.passed and report.k_reached == 1
    assert (report.groups_under_k, report.rows_under_k) == (2, 3)
    assert [(g.values, g.rows) for g in report.listed] == [(("M", "1990"), 1), (("M", "1991"), 2)]
    assert report.to_json()["small_groups"] == [
        {"values": {"sex": "M", "year": "1990"}, "rows": 1}, {"values": {"sex": "M", "year": "1991"}, "rows": 2}]


def test_suppression_drops_small_groups_and_k_is_judged_on_what_remains() -> None:
    counter = _counter(*[("F", "1985")] * 4, ("M", "1990"))
    report = counter.report(3, suppress=True)
    assert report.passed and report.suppressed == 1 and report.k_reached == 4
    assert counter.small_groups(3) == frozenset({("M", "1990")})


def test_everything_suppressed_leaves_no_k() -> None:
    report = _counter(("F", "1985"), ("M", "1990")).report(2, suppress=True)
    assert report.passed and report.k_reached is None and report.suppressed == 2


def test_the_listing_is_capped_but_the_count_is_not() -> None:
    counter = _counter(*[("F", str(year)) for year in range(LISTED_GROUPS + 50)])
    report = counter.report(2, suppress=False)
    assert report.groups_under_k == LISTED_GROUPS + 50 and len(report.listed) == LISTED_GROUPS


@given(st.lists(st.tuples(st.sampled_from("FMX"), st.integers(1900, 1910).map(str)), min_size=1),
       st.integers(1, 6))
def test_suppressed_export_is_k_anonymous(rows: list[tuple[str, str]], k: int) -> None:
    counter = _counter(*rows)
    small = counter.small_groups(k)
    kept = [row for row in rows if row not in small]
    report = counter.report(k, suppress=True)
    assert report.suppressed == len(rows) - len(kept)
    assert all(kept.count(row) >= k for row in kept)
    assert report.k_reached == (min(kept.count(row) for row in kept) if kept else None)


def test_groups_mixing_text_numbers_and_nulls_are_reported() -> None:
    # A JSON `keep` quasi-identifier may be missing (None), a number or text.
    counter = GroupCounter(("sex", "year"))
    for key in [(None, "1985"), (5, "1985"), ("F", "1985"), ("F", "1985"), ("5", "1985")]:
        counter.add(key)
    report = counter.report(2, suppress=False)
    assert [(g.values, g.rows) for g in report.listed] == [((None, "1985"), 1), (("5", "1985"), 1),
                                                          ((5, "1985"), 1)]
    assert report.to_json()["small_groups"][0] == {"values": {"sex": None, "year": "1985"}, "rows": 1}

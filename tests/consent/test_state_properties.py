"""Property tests of the consent fold: one state from any event order, withdrawal never
retroactive, expiry at the end of the period, guardian consents at the self-consent age."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.consent.model import ConsentEvent, ConsentGrant, Effect, EventKind, Form, Grantor, RecipientRef, Scope
from consentkit.consent.state import Status, birthday_of_age, state_at

START = datetime(2026, 1, 1, tzinfo=UTC)


def _grant(grantor: Grantor = Grantor.SELF, valid_until: datetime | None = None) -> ConsentGrant:
    return ConsentGrant(
        consent_id="c1", subject_id="s1", jurisdiction="eu-gdpr", effect=Effect.PERMIT,
        scope=Scope((RecipientRef("treatment-provider"),), frozenset({"treatment"}), frozenset({"identity"})),
        valid_from=START, valid_until=valid_until, grantor=grantor, form=Form.WRITTEN, recorded_at=START,
        recorded_by="ada", pack_ref="eu-gdpr@test")


offsets = st.integers(min_value=0, max_value=400 * 24)
kinds = st.sampled_from(list(EventKind))
events_strategy = st.lists(st.tuples(offsets, kinds), max_size=8).map(
    lambda items: [ConsentEvent("c1", kind, START + timedelta(hours=h), "ada") for h, kind in items])


@given(events_strategy, offsets, st.randoms())
def test_any_order_of_the_same_events_gives_one_state(events: list[ConsentEvent], probe: int, rnd) -> None:  # type: ignore[no-untyped-def]
    at = START + timedelta(hours=probe)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert state_at(_grant(), events, at) == state_at(_grant(), shuffled, at)


@given(events_strategy, offsets, offsets)
def test_withdrawal_is_never_retroactive(events: list[ConsentEvent], withdraw_at: int, probe: int) -> None:
    withdrawal = ConsentEvent("c1", EventKind.WITHDRAWN, START + timedelta(hours=withdraw_at), "ada")
    at = START + timedelta(hours=probe)
    before = state_at(_grant(), events, at)
    after = state_at(_grant(), [*events, withdrawal], at)
    if at < withdrawal.at:
        assert after == before
    else:
        assert not after.active


@given(events_strategy, offsets)
def test_a_terminal_event_is_final(events: list[ConsentEvent], probe: int) -> None:
    at = START + timedelta(hours=probe)
    state = state_at(_grant(), events, at)
    terminal = [e for e in sorted(events, key=lambda e: e.at)
                if e.at <= at and e.kind is not EventKind.REAFFIRMED]
    assert state.active == (not terminal)


@given(offsets, st.integers(min_value=1, max_value=400 * 24))
def test_expiry_at_the_end_of_the_period(probe: int, length: int) -> None:
    until = START + timedelta(hours=length)
    state = state_at(_grant(valid_until=until), [], START + timedelta(hours=probe))
    assert state.active == (START + timedelta(hours=probe) < until)


def test_not_yet_valid_before_the_start() -> None:
    assert state_at(_grant(), [], START - timedelta(seconds=1)).status is Status.NOT_YET_VALID


@settings(max_examples=50)
@given(st.dates(min_value=date(2008, 1, 1), max_value=date(2014, 12, 31)), offsets)
def test_guardian_consent_lapses_or_is_flagged_at_the_self_consent_age(born: date, probe: int) -> None:
    at = START + timedelta(hours=probe)
    comes_of_age = birthday_of_age(born, 16)
    of_age = START.date() < comes_of_age <= at.date()  # only a consent given for a minor meets the age
    lapse = state_at(_grant(Grantor.GUARDIAN), [], at, birth_date=born, self_consent_age=16,
                     at_self_consent_age="lapse")
    flag = state_at(_grant(Grantor.GUARDIAN), [], at, birth_date=born, self_consent_age=16,
                    at_self_consent_age="reaffirm")
    assert lapse.active == (not of_age)
    assert flag.active
    assert flag.reaffirm_needed == of_age


def test_reaffirmation_after_coming_of_age_clears_the_flag() -> None:
    born = date(2010, 2, 1)
    reaffirmed = ConsentEvent("c1", EventKind.REAFFIRMED, datetime(2026, 3, 1, tzinfo=UTC), "ada")
    at = datetime(2026, 6, 1, tzinfo=UTC)
    for mode in ("lapse", "reaffirm"):
        state = state_at(_grant(Grantor.GUARDIAN), [reaffirmed], at, birth_date=born, self_consent_age=16,
                         at_self_consent_age=mode)
        assert state.active
        assert not state.reaffirm_needed


def test_leap_day_birthday() -> None:
    assert birthday_of_age(date(2008, 2, 29), 17) == date(2025, 3, 1)
    assert birthday_of_age(date(2008, 2, 29), 16) == date(2024, 2, 29)


def test_a_consent_given_for_an_adult_never_meets_the_age() -> None:
    # A representative's consent for someone already past the self-consent age.
    state = state_at(_grant(Grantor.REPRESENTATIVE), [], START + timedelta(days=30), birth_date=date(1970, 1, 1),
                     self_consent_age=18, at_self_consent_age="lapse")
    assert state.active
    assert not state.reaffirm_needed

"""Phone validity as the detector computes it equals libphonenumber's, and E.164 forms agree."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumber

from consentkit.pseudonym import _phones


@settings(max_examples=2000, deadline=None)
@given(region=st.sampled_from(_phones.REGIONS), first=st.integers(1, 9),
       rest=st.text(alphabet="0123456789", min_size=5, max_size=11))
def test_validity_matches_libphonenumber(region: str, first: int, rest: str) -> None:
    nsn = f"{first}{rest}"
    rules = _phones._FACTS[region]
    number = PhoneNumber(country_code=rules.code, national_number=int(nsn))
    assert rules.valid(nsn) == phonenumbers.is_valid_number_for_region(number, region)
    assert _phones._valid_international(rules.code, nsn) == phonenumbers.is_valid_number(number)


@pytest.mark.parametrize(("written", "lang", "expected"), [
    ("+30 691 234 5678", "el", "+306912345678"),
    ("691 234 5678", "el", "+306912345678"),
    ("0030 691 234 5678", "en", "+306912345678"),
    ("070-123 45 67", "sv", "+46701234567"),
    ("+46 70 123 45 67", "sv", "+46701234567"),
    ("8 (916) 123-45-67", "ru", "+79161234567"),
    ("+7 916 123 45 67", "kk", "+79161234567"),
    ("8 (701) 123-45-67", "kk", "+77011234567"),
])
def test_every_written_form_has_one_e164(written: str, lang: str, expected: str) -> None:
    assert _phones.e164(written, lang) == expected


@pytest.mark.parametrize("note", [
    "Mobile 07911 123456, ring back",  # a +44 mobile libphonenumber files under Guernsey
    "call 07457 654321 after five",  # and one under Jersey/Isle of Man numbering
    "US: 212-555-0123 (office)",  # the North American grouping, no trunk prefix
    "or (212) 555-0123",
])
def test_common_uk_and_us_forms_in_english_notes_are_phones(note: str) -> None:
    from consentkit.pseudonym.detect import get_detector

    found = [e.type for e in get_detector().redact(note, lang="en").entities]
    assert found == ["PHONE_NUMBER"], (note, found)


def test_a_london_number_in_an_english_note_is_a_phone_not_an_amka() -> None:
    # 02079460958 passes the AMKA checksum and date; written 3-4-4 it is a London number.
    from consentkit.pseudonym.detect import get_detector

    detector = get_detector()
    assert [e.type for e in detector.redact("or 020 7946 0958 after six", lang="en").entities] == ["PHONE_NUMBER"]
    assert [e.type for e in detector.redact("AMKA 15038512347", lang="en").entities] == ["GR_AMKA"]


def test_the_3_3_4_grouping_does_not_make_a_case_number_a_phone_elsewhere() -> None:
    from consentkit.pseudonym.detect import get_detector

    assert get_detector().redact("Ärendenummer 212-555-0123", lang="sv").entities == []

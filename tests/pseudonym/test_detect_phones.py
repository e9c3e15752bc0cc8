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

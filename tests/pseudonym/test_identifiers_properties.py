"""Property tests for consentkit.pseudonym.identifiers (hypothesis).

The strategies compute check digits on their own (``strategies.py``), from
``pii-and-identifiers.md`` §5, so these tests compare two implementations.
"""

from __future__ import annotations

import re
from datetime import date
from importlib.util import find_spec

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from consentkit.errors import InvalidInputError
from consentkit.pseudonym.identifiers import KINDS, birth_date, is_valid, normalise

from .strategies import (
    AMKA_BIRTH_DATES,
    IIN_BIRTH_DATES,
    PNR_BIRTH_DATES,
    TODAY,
    afm_remainder,
    build_amka,
    build_iin,
    build_inn,
    build_personnummer,
    canonical_ids,
    digit_strings,
    iin_first_pass,
    inn_remainder,
    snils_sum,
    valid_ids,
    written_forms,
)


def _reason(kind: str, value: str) -> str | None:
    """The message ``normalise`` raises for ``value``, or ``None`` if it is valid."""
    try:
        normalise(kind, value, today=TODAY)
    except InvalidInputError as error:
        return str(error)
    return None


@st.composite
def one_digit_changed(draw: st.DrawFn, digits: str) -> tuple[int, str]:
    """``(index, digits with the digit at index replaced by a different digit)``."""
    index = draw(st.integers(0, len(digits) - 1))
    new = draw(st.sampled_from([d for d in "0123456789" if d != digits[index]]))
    return index, digits[:index] + new + digits[index + 1 :]


# --- valid numbers, written forms, normalisation ----------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_generated_numbers_are_valid_and_normalise_to_their_canonical_form(
    kind: str, data: st.DataObject
) -> None:
    canonical, written = data.draw(valid_ids(kind))
    assert is_valid(kind, written, today=TODAY)
    assert normalise(kind, written, today=TODAY) == canonical
    assert normalise(kind, canonical, today=TODAY) == canonical  # idempotent


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_all_written_forms_of_one_number_agree(kind: str, data: st.DataObject) -> None:
    canonical = data.draw(canonical_ids(kind))
    first, second = data.draw(written_forms(kind, canonical)), data.draw(written_forms(kind, canonical))
    assert normalise(kind, first, today=TODAY) == normalise(kind, second, today=TODAY)


_NOISE = st.text(alphabet=st.sampled_from([*"0123456789", " ", "-", "+", "№", "E", "L", "\u2013", "x", "٣"]))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_is_valid_agrees_with_normalise_and_errors_never_quote_the_value(
    kind: str, data: st.DataObject
) -> None:
    mutated = canonical_ids(kind).flatmap(one_digit_changed).map(lambda pair: pair[1])
    value = data.draw(st.one_of(_NOISE, valid_ids(kind).map(lambda pair: pair[1]), mutated))
    message = _reason(kind, value)
    assert is_valid(kind, value, today=TODAY) is (message is None)
    if message is None:
        canonical = normalise(kind, value, today=TODAY)
        assert normalise(kind, canonical, today=TODAY) == canonical
    else:
        assert message.startswith(f"{kind} is not valid: ")
        for run in re.findall(r"\d{6,}", value) + re.findall(r"\d{6,}", re.sub(r"\D", "", value)):
            assert run not in message


# --- single-digit errors ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["GR_AMKA", "RU_OMS", "SE_PERSONNUMMER"])
@given(data=st.data())
def test_luhn_catches_every_single_digit_change(kind: str, data: st.DataObject) -> None:
    canonical = data.draw(canonical_ids(kind))
    if kind == "SE_PERSONNUMMER":  # Luhn covers YYMMDDNNNC, not the century (§5.3)
        canonical = canonical[2:]
    _, changed = data.draw(one_digit_changed(canonical))
    assert not is_valid(kind, changed, today=TODAY)


@given(payload=digit_strings(10), data=st.data())
def test_twelve_digit_inn_catches_every_single_digit_change(payload: str, data: st.DataObject) -> None:
    # The two weights of each digit are never ± each other mod 11, so no change folds both (§5.5).
    number = build_inn(payload)
    _, changed = data.draw(one_digit_changed(number))
    assert not is_valid("RU_INN", changed)


@pytest.mark.parametrize(("kind", "length"), [("GR_AFM", 9), ("RU_INN", 10)])
@given(data=st.data())
def test_mod_11_mod_10_misses_exactly_the_0_10_fold(kind: str, length: int, data: st.DataObject) -> None:
    # c = r mod 10 with r = weighted sum mod 11: r = 0 and r = 10 both give 0 (§5.2, §5.5).
    number = data.draw(canonical_ids(kind).filter(lambda n: len(n) == length))
    index, changed = data.draw(one_digit_changed(number))
    remainder = afm_remainder if kind == "GR_AFM" else inn_remainder
    folds = index < length - 1 and {remainder(number[:-1]), remainder(changed[:-1])} == {0, 10}
    assert is_valid(kind, changed) is folds


@given(data=st.data())
def test_snils_misses_only_the_0_100_fold_and_unchecked_bodies(data: st.DataObject) -> None:
    # Control = S mod 101 mod 100, so S ≡ 0 and S ≡ 100 collide; bodies ≤ 001-001-998 are unchecked (§5.4).
    number = data.draw(canonical_ids("RU_SNILS"))
    index, changed = data.draw(one_digit_changed(number))
    unchecked = int(changed[:9]) <= 1_001_998
    folds = index < 9 and {snils_sum(number[:9]) % 101, snils_sum(changed[:9]) % 101} == {0, 100}
    assert is_valid("RU_SNILS", changed) is (unchecked or folds)


@given(data=st.data())
def test_iin_check_digit_and_its_blind_spot(data: st.DataObject) -> None:
    # Pass 1 weighs the 11th digit by 11 ≡ 0 (mod 11): while pass 1 decides, that digit is unprotected.
    # Every other single change is caught whenever pass 1 decides for both numbers (§5.8).
    number = data.draw(canonical_ids("KZ_IIN"))
    index, changed = data.draw(one_digit_changed(number))
    first_pass_decides = iin_first_pass(number[:11]) != 10 and iin_first_pass(changed[:11]) != 10
    if index == 10 and first_pass_decides:
        assert is_valid("KZ_IIN", changed)
    elif first_pass_decides:
        assert not is_valid("KZ_IIN", changed)


@given(canonical=canonical_ids("GR_AMKA").filter(lambda amka: amka.startswith("0")))
@example("05011012340")
def test_amka_with_leading_zero_passes_the_swedish_check_digit(canonical: str) -> None:
    # §4.4 collision: a leading 0 does not change Luhn, so only the date can tell them apart.
    assert "check digit" not in (_reason("SE_PERSONNUMMER", canonical[1:]) or "")


# --- birth dates ---------------------------------------------------------------------------


@given(born=AMKA_BIRTH_DATES, serial=digit_strings(4))
def test_amka_birth_date_round_trips_within_a_hundred_years(born: date, serial: str) -> None:
    assert birth_date("GR_AMKA", build_amka(born, serial), today=TODAY) == born


@given(born=PNR_BIRTH_DATES, serial=digit_strings(3), coordination=st.booleans(), data=st.data())
def test_personnummer_birth_date_round_trips_from_any_written_form(
    born: date, serial: str, coordination: bool, data: st.DataObject
) -> None:
    canonical = build_personnummer(born, serial, coordination=coordination)
    written = data.draw(written_forms("SE_PERSONNUMMER", canonical))
    assert birth_date("SE_PERSONNUMMER", written, today=TODAY) == born


@given(born=IIN_BIRTH_DATES, male=st.booleans(), serial=digit_strings(4))
def test_iin_birth_date_round_trips(born: date, male: bool, serial: str) -> None:
    iin = build_iin(born, male=male, serial=serial)
    if iin is not None:
        assert birth_date("KZ_IIN", iin) == born


# --- python-stdnum cross-check (optional; never a dependency) --------------------------------

_STDNUM = find_spec("stdnum") is not None


def _candidates(valid: st.SearchStrategy[str], length: int, alphabet: str) -> st.SearchStrategy[str]:
    """Random strings, valid numbers and valid numbers with one digit changed."""
    return st.one_of(
        st.text(alphabet=alphabet, min_size=length - 2, max_size=length + 3),
        valid,
        valid.flatmap(one_digit_changed).map(lambda pair: pair[1]),
    )


@pytest.mark.skipif(not _STDNUM, reason="python-stdnum is not installed")
@given(data=st.data())
def test_agrees_with_stdnum(data: st.DataObject) -> None:
    from stdnum.gr import amka, vat
    from stdnum.ru import inn

    value = data.draw(_candidates(canonical_ids("GR_AMKA"), 11, "0123456789 -"))
    assert is_valid("GR_AMKA", value) is amka.is_valid(value)
    value = data.draw(_candidates(canonical_ids("GR_AFM"), 9, "0123456789 -"))
    assert is_valid("GR_AFM", value) is vat.is_valid(value)
    value = data.draw(_candidates(canonical_ids("RU_INN"), 12, "0123456789 "))  # stdnum strips spaces only
    assert is_valid("RU_INN", value) is inn.is_valid(value)


@pytest.mark.skipif(not _STDNUM, reason="python-stdnum is not installed")
@given(value=_candidates(canonical_ids("SE_PERSONNUMMER").map(lambda n: n[2:]), 10, "0123456789-"))
def test_agrees_with_stdnum_on_ten_digit_personnummer(value: str) -> None:
    # Both resolve the century from the system date. Excluded: samordningsnummer, which
    # stdnum 2.2 rejects (§5), and 12-digit forms, whose century consentkit limits to 18-20.
    from stdnum.se import personnummer

    digits = value.replace("-", "")
    if len(digits) == 10 and int(digits[4:6]) > 60:
        return
    assert is_valid("SE_PERSONNUMMER", value) is personnummer.is_valid(value)

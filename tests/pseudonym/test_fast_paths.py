"""The shortcuts of the export's hot path agree with the plain code they replace.

Each is checked against the standard library (``hmac``, ``base64``, ``csv``, ``datetime``)
or against the general path it short-cuts, over generated inputs.
"""

from __future__ import annotations

import base64
import csv
import hmac
import io
import re
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from consentkit.errors import InvalidInputError
from consentkit.keys import SecretKey
from consentkit.pseudonym import identifiers
from consentkit.pseudonym.export import _csv_text
from consentkit.pseudonym.identifiers import KINDS, normalise, normalise_many
from consentkit.pseudonym.keyed import Pseudonymiser, _base32, _Hmac
from tests.pseudonym.strategies import TODAY, luhn_digit, valid_ids


@given(key=st.binary(max_size=100), messages=st.lists(st.binary(max_size=200), max_size=5))
def test_hmac_with_precomputed_pads_is_hmac_sha256(key: bytes, messages: list[bytes]) -> None:
    assert _Hmac(key).digests(messages) == [hmac.digest(key, m, "sha256") for m in messages]


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=40))
def test_base32_of_a_batch_is_rfc4648_base32_of_each(digests: list[bytes]) -> None:
    expected = "".join(base64.b32encode(d[:20]).decode("ascii").lower() for d in digests)
    assert _base32(digests) == expected


def test_base32_of_extreme_digests() -> None:
    for digest in (bytes(32), b"\xff" * 32, bytes(range(32))):
        assert _base32([digest, digest]) == base64.b32encode(digest[:20]).decode().lower() * 2


@pytest.mark.parametrize("kind", [*KINDS, "TEXT"])
@given(data=st.data())
def test_a_batch_gives_the_pseudonyms_one_by_one(kind: str, data: st.DataObject) -> None:
    if kind == "TEXT":
        values = data.draw(st.lists(st.text(min_size=1).filter(str.strip), max_size=5))
    else:
        values = [written for _, written in data.draw(st.lists(valid_ids(kind), max_size=5))]
    p = Pseudonymiser([SecretKey.from_material("pseudonym", bytes(32))], "research-a")
    assert p.pseudonym_many(kind, values, today=TODAY) == [p.pseudonym(kind, v, today=TODAY) for v in values]


def test_a_batch_with_an_invalid_value_names_the_kind_not_the_value() -> None:
    with pytest.raises(InvalidInputError, match=r"^SE_PERSONNUMMER is not valid: check digit") as raised:
        normalise_many("SE_PERSONNUMMER", ["850709-2388", "850709-2389"], today=TODAY)
    assert "2389" not in str(raised.value)


def _csv_writer_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


_CELLS = st.text(alphabet=st.sampled_from(list('ab ,"\r\n\t;é')), max_size=6)


@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.lists(_CELLS, min_size=width, max_size=width),
                                                         min_size=1, max_size=6)))
@example([[""]])
@example([["a"], [""]])
@example([["", ""]])
def test_csv_text_is_what_the_csv_writer_writes(rows: list[list[str]]) -> None:
    assert _csv_text(rows) == _csv_writer_text(rows)


def test_csv_text_of_values_that_are_not_text() -> None:
    rows = [[None, 5, "x"], [1.5, True, ""]]
    assert _csv_text(rows) == _csv_writer_text(rows)  # type: ignore[arg-type]


def test_month_days_are_the_calendar() -> None:
    for year in (1800, 1900, 1999, 2000, 2023, 2024, 2100):
        for month in range(14):
            for day in range(33):
                try:
                    date(year, month, day)
                    real = True
                except ValueError:
                    real = False
                assert identifiers._is_date(year, f"{month:02d}{day:02d}") is real, (year, month, day)


def test_amka_dates_agree_with_the_calendar() -> None:
    # Every DDMM with a few years (00: 2000 is a leap year, 1900 is not); the Luhn digit is
    # computed, so only the date decides.
    for yy in ("00", "01", "04", "99"):
        for month in range(14):
            for day in range(33):
                payload = f"{day:02d}{month:02d}{yy}1234"
                amka = payload + luhn_digit(payload)
                real = any(_real(century + int(yy), month, day) for century in (1900, 2000))
                assert identifiers.is_valid("GR_AMKA", amka, today=TODAY) is real, amka


def _real(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


_PNR = re.compile(r"([0-9]{2})?([0-9]{6})([-+]?)([0-9]{4})")


@given(st.text(alphabet=st.sampled_from(list("0123456789-+ \u2013")), min_size=8, max_size=14))
@example("850709-2388")
@example("19850709+2388")
@example("8507092388")
def test_personnummer_cut_by_length_agrees_with_the_pattern(value: str) -> None:
    compact = re.sub(r"\s+", "", value).replace("\u2013", "-")
    match = _PNR.fullmatch(compact)
    try:
        parts = identifiers._pnr_parts(value)
    except identifiers._InvalidError:
        assert match is None
    else:
        assert match is not None and parts == match.groups()


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_normalise_many_is_normalise_of_each(kind: str, data: st.DataObject) -> None:
    values = [written for _, written in data.draw(st.lists(valid_ids(kind), max_size=4))]
    assert normalise_many(kind, values, today=TODAY) == [normalise(kind, v, today=TODAY) for v in values]

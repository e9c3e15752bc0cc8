"""Checksum validators and normalisers for the national identifiers consentkit handles.

Kinds (the entity type names of the detector): ``GR_AMKA``, ``GR_AFM``, ``SE_PERSONNUMMER``
(samordningsnummer included), ``RU_SNILS``, ``RU_INN`` (10 and 12 digits), ``RU_PASSPORT``,
``RU_OMS`` (16-digit ENP) and ``KZ_IIN``.

* :func:`is_valid` says whether a written value is a well-formed number of a kind: length,
  the birth date where the number encodes one, and the check digits.
* :func:`normalise` gives the canonical form that keyed pseudonyms and the blind index are
  computed over, so every usual written form of one number gives one string.
* :func:`birth_date` reads the birth date out of an AMKA, a personnummer or an IIN.

Canonical forms are digits only: AMKA 11, AFM 9 (``EL``/``GR`` prefix dropped, legacy
8-digit numbers padded with ``0``), personnummer 12 (``YYYYMMDDNNNC``, samordningsnummer
keeping its day + 60), SNILS 11, INN 10 or 12, passport 10 (series then number), OMS 16,
IIN 12.

Algorithms and examples: ``pii-and-identifiers.md`` §5 (python-stdnum 2.2 and the sources
cited per function below). The time is a parameter: the century of a 10-digit personnummer
and of an AMKA depends on ``today``, which defaults to ``date.today()`` only at the
entry points.

Errors are :class:`~consentkit.errors.InvalidInputError` and name what is wrong (length,
check digit, date) but never the value, which is personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache
from operator import mul

from consentkit.errors import InvalidInputError

__all__ = ["KINDS", "birth_date", "is_valid", "normalise", "normalise_many"]

KINDS: tuple[str, ...] = (
    "GR_AMKA",
    "GR_AFM",
    "SE_PERSONNUMMER",
    "RU_SNILS",
    "RU_INN",
    "RU_PASSPORT",
    "RU_OMS",
    "KZ_IIN",
)

# Whitespace (including no-break and thin spaces) and the dashes word processors put in
# place of a hyphen: hyphen, non-breaking hyphen, figure dash, en dash, minus sign.
_DASHES = "-\u2010\u2011\u2012\u2013\u2212"
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(rf"[\s{re.escape(_DASHES)}]+")
_TO_HYPHEN = str.maketrans(dict.fromkeys(_DASHES, "-"))
_PNR = re.compile(r"([0-9]{2})?([0-9]{6})([-+]?)([0-9]{4})")
# Luhn's doubled digits: 2d, minus 9 above 9 (ISO/IEC 7812-1 Annex B), as ASCII digit to ASCII digit.
_LUHN_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")
# Month and day (MMDD) of every calendar date but 29 February, whose year decides (see _is_date).
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_DAYS = frozenset(f"{month:02d}{day:02d}" for month, days in enumerate(_DAYS_IN_MONTH, 1)
                        for day in range(1, days + 1))
_DAY_MONTHS = frozenset(md[2:] + md[:2] for md in _MONTH_DAYS)  # DDMM, as an AMKA writes it


class _InvalidError(Exception):
    """Internal: why a value is not a valid number of its kind (never the value itself)."""


# --- check digits ---------------------------------------------------------------------


def _luhn_ok(digits: str) -> bool:
    """Luhn mod 10 (ISO/IEC 7812-1 Annex B) over all of ``digits`` (ASCII digits), check digit last.

    Sums the ASCII codes (each digit plus 48) so the loop runs in C: every second digit
    from the right, the check digit excluded, is first replaced by its doubled digit sum.
    """
    raw = digits.encode("ascii")
    return (sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_LUHN_DOUBLED)) - 48 * len(raw)) % 10 == 0


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    """``Σ d_i · w_i`` over the first ``len(weights)`` digits (ASCII digits, 48 each subtracted)."""
    raw = digits.encode("ascii")[:len(weights)]
    total: int = sum(map(mul, raw, weights))
    return total - 48 * sum(weights[:len(raw)])


def _afm_check(payload: str) -> int:
    """AFM: ``(Σ d_i · 2^(9-i)) mod 11 mod 10`` over the first 8 digits (stdnum ``gr.vat``)."""
    return _weighted(payload, (256, 128, 64, 32, 16, 8, 4, 2)) % 11 % 10


def _snils_check(payload: str) -> int:
    """SNILS control number from the 9-digit body (vasiunov/SNILS_CheckAndCount, consultant.ru).

    ``S = Σ d_i · (10 - i)``; ``S < 100`` gives ``S``; 100 and 101 give ``00``; above 101 take
    ``S mod 101`` and write 100 as ``00``. All three cases equal ``S mod 101 mod 100``.
    """
    return _weighted(payload, (9, 8, 7, 6, 5, 4, 3, 2, 1)) % 101 % 100


# INN weights from stdnum ``ru.inn`` (the FNS rule): one check digit for 10-digit numbers
# (organisations), two for 12-digit numbers (individuals), each ``mod 11 mod 10``.
_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_ok(digits: str) -> bool:
    if len(digits) == 10:
        return _weighted(digits, _INN10) % 11 % 10 == int(digits[9])
    first = _weighted(digits, _INN11) % 11 % 10
    second = _weighted(digits, _INN12) % 11 % 10
    return digits[10:] == f"{first}{second}"


# IIN: Government Decree No 565 of 11 June 2003, as implemented by kz-iin-validator and
# valery1707/kaz-person-id (adilet P070000406): weights 1..11, and if that gives 10 a second
# pass; if that gives 10 too, no number is issued with the payload. The 11th weight is
# 11 = 0 mod 11, so while the first pass decides, the 11th digit is not protected at all.
_IIN_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_IIN_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def _iin_check(payload: str) -> int | None:
    check = _weighted(payload, _IIN_FIRST) % 11
    if check == 10:
        check = _weighted(payload, _IIN_SECOND) % 11
    return None if check == 10 else check


# --- dates ------------------------------------------------------------------------------


def _calendar_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _is_date(year: int, month_day: str) -> bool:
    """Whether ``MMDD`` is a calendar date in ``year`` (1-9999), without building a date."""
    if month_day in _MONTH_DAYS:
        return 1 <= year <= 9999
    return month_day == "0229" and 1 <= year <= 9999 and _leap(year)


def _recent_year(two_digits: int, today: date) -> int:
    """The most recent year not after ``today`` that ends in ``two_digits``."""
    return today.year - (today.year - two_digits) % 100


def _amka_birth(digits: str, today: date) -> date | None:
    # DDMMYY (stdnum gr.amka, after amka.gr). The century is not written: take the most
    # recent date not after today. A holder aged 100 or more is then read as a child with
    # the same DDMMYY; nothing in the number separates them, and the young are far more
    # numerous. (stdnum prefers 19YY, which misreads everyone born since 2000.)
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    recent = _recent_year(year, today)
    for candidate in (recent, recent - 100):
        born = _calendar_date(candidate, month, day)
        if born is not None and born <= today:
            return born
    return None


def _pnr_birth(digits: str, today: date) -> date | None:
    # Samordningsnummer add 60 to the day (reference §5.3).
    day = int(digits[6:8])
    return _calendar_date(int(digits[0:4]), int(digits[4:6]), day - 60 if day > 60 else day)


def _iin_birth(digits: str, today: date) -> date | None:
    # 7th digit: 1/2 = 1800s, 3/4 = 1900s, 5/6 = 2000s, odd male (Decree No 565).
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}.get(digits[6])
    if century is None:
        return None
    return _calendar_date(century + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))


# --- parsers: written form -> canonical digits, or _InvalidError --------------------------


def _digits(value: str, *lengths: int) -> str:
    """Drop spaces and hyphens; require ASCII digits of one of ``lengths``."""
    if value.isascii() and value.isdigit() and len(value) in lengths:
        return value  # the usual written form: nothing to drop
    compact = _SEPARATORS.sub("", value)
    return _checked_digits(compact, *lengths)


def _checked_digits(compact: str, *lengths: int, allowed: str = "digits, spaces and hyphens") -> str:
    if not compact:
        raise _InvalidError("the value is empty")
    if not (compact.isascii() and compact.isdigit()):
        raise _InvalidError(f"only {allowed} are allowed")
    if len(compact) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise _InvalidError(f"expected {wanted} digits, got {len(compact)}")
    return compact


def _amka(value: str, today: date) -> str:
    digits = _digits(value, 11)
    # Luhn over all 11 digits (stdnum gr.amka). The date is checked today-independently,
    # like stdnum: DDMMYY must be a calendar date in 19YY or in 20YY.
    if not _luhn_ok(digits):
        raise _InvalidError("check digit does not match")
    # 29 February: 19YY and 20YY are both leap years or neither, except 1900 (2000 is one).
    if digits[:4] not in _DAY_MONTHS and not _is_date(2000 + int(digits[4:6]), digits[2:4] + digits[0:2]):
        raise _InvalidError("the birth date (DDMMYY) is not a calendar date")
    return digits


def _afm(value: str, today: date) -> str:
    compact = _SEPARATORS.sub("", value)
    if compact[:2].upper() in ("EL", "GR"):  # VAT prefix (EL in VIES, GR in ISO 3166)
        compact = compact[2:]
    allowed = "digits, spaces, hyphens and an EL or GR prefix"
    digits = _checked_digits(compact, 8, 9, allowed=allowed).zfill(9)  # legacy 8-digit numbers (stdnum)
    if _afm_check(digits[:8]) != int(digits[8]):
        raise _InvalidError("check digit does not match")
    return digits


def _personnummer(value: str, today: date) -> str:
    century, short_date, sign, serial = _pnr_parts(value)
    # Luhn over the 10 digits YYMMDDNNNC; the century is not covered (stdnum se.personnummer).
    if not _luhn_ok(short_date + serial):
        raise _InvalidError("check digit does not match")
    if century is None:
        century = _pnr_centuries(today)[short_date[:2] + sign]
    elif century not in ("18", "19", "20"):
        # Our own plausibility rule, not Skatteverket's: the 10-digit forms cannot express
        # other centuries, and refusing them keeps random 12-digit strings out.
        raise _InvalidError("the century must be 18, 19 or 20")
    digits = century + short_date + serial
    if short_date[2:6] not in _MONTH_DAYS and not _pnr_date(digits):
        raise _InvalidError("the birth date (YYMMDD, day + 60 for samordningsnummer) is not a calendar date")
    return digits


def _pnr_parts(value: str) -> tuple[str | None, str, str, str]:
    """Century (if written), YYMMDD, separator and the last four digits of a personnummer."""
    # The usual written forms, 10 or 12 digits with or without - or + before the last
    # four, are cut by length: what _PNR matches, without the regular expression's cost.
    length = len(value)
    if length in (11, 13) and value[-5] in "-+":
        sign, body = value[-5], value[:-5] + value[-4:]
    else:
        sign, body = "", value
    if len(body) in (10, 12) and body.isascii() and body.isdigit():
        return body[:-10] or None, body[-10:-4], sign, body[-4:]
    compact = _SPACES.sub("", value).translate(_TO_HYPHEN)
    match = _PNR.fullmatch(compact)
    if match is None:
        allowed = "digits, spaces and - or + before the last four digits"
        _checked_digits(compact.replace("-", "").replace("+", ""), 10, 12, allowed=allowed)
        raise _InvalidError("expected YYMMDD-NNNC, YYMMDD+NNNC or YYYYMMDD-NNNC")
    century, short_date, sign, serial = match.groups()
    return century, short_date, sign, serial


def _pnr_date(digits: str) -> bool:
    """Whether the 12 canonical digits hold a calendar date (samordningsnummer: day + 60, §5.3)."""
    day = digits[6:8]
    if day > "60":
        day = f"{int(day) - 60:02d}"
    return _is_date(int(digits[0:4]), digits[4:6] + day)


@lru_cache(maxsize=4)
def _pnr_centuries(today: date) -> dict[str, str]:
    """The century of a 10-digit personnummer by ``YY`` and its separator (``-``, ``+`` or none).

    The most recent year ending in YY, 100 years earlier with "+" (Folkbokföringslagen §18;
    stdnum se.personnummer). A table per ``today``: the arithmetic is the same for every
    number of one export.
    """
    table = {}
    for two_digits in range(100):
        recent = _recent_year(two_digits, today)
        for sign in ("", "-", "+"):
            year = recent - (100 if sign == "+" else 0)
            table[f"{two_digits:02d}{sign}"] = f"{year // 100:02d}"
    return table


def _snils(value: str, today: date) -> str:
    digits = _digits(value, 11)
    # The control number is only defined for bodies above 001-001-998 (Pension Fund rule
    # cited by vasiunov/SNILS_CheckAndCount); lower bodies are accepted with any control.
    if int(digits[:9]) > 1_001_998 and _snils_check(digits[:9]) != int(digits[9:]):
        raise _InvalidError("control number does not match")
    return digits


def _inn(value: str, today: date) -> str:
    digits = _digits(value, 10, 12)
    if not _inn_ok(digits):
        raise _InvalidError("check digit does not match")
    return digits


def _passport(value: str, today: date) -> str:
    # 4-digit series + 6-digit number, no check digit (§5.6); "№" may stand between them.
    compact = _SEPARATORS.sub("", value)
    if len(compact) == 11 and compact[4] == "№":
        compact = compact[:4] + compact[5:]
    return _checked_digits(compact, 10, allowed="digits, spaces, hyphens and № after the series")


def _oms(value: str, today: date) -> str:
    digits = _digits(value, 16)
    # ENP check digit (FFOMS rules, russian-id Oms.php) is the Luhn digit over all 16 (§5.7).
    if not _luhn_ok(digits):
        raise _InvalidError("check digit does not match")
    return digits


def _iin(value: str, today: date) -> str:
    digits = _digits(value, 12)
    if digits[6] not in "123456":
        raise _InvalidError("the 7th digit (century and sex) must be 1 to 6")
    if _iin_birth(digits, today) is None:
        raise _InvalidError("the birth date (YYMMDD) is not a calendar date")
    check = _iin_check(digits[:11])
    if check is None:
        raise _InvalidError("no check digit exists for the first 11 digits (never issued)")
    if check != int(digits[11]):
        raise _InvalidError("check digit does not match")
    return digits


_PARSERS: dict[str, Callable[[str, date], str]] = {
    "GR_AMKA": _amka,
    "GR_AFM": _afm,
    "SE_PERSONNUMMER": _personnummer,
    "RU_SNILS": _snils,
    "RU_INN": _inn,
    "RU_PASSPORT": _passport,
    "RU_OMS": _oms,
    "KZ_IIN": _iin,
}

_BIRTH_DATES: dict[str, Callable[[str, date], date | None]] = {
    "GR_AMKA": _amka_birth,
    "SE_PERSONNUMMER": _pnr_birth,
    "KZ_IIN": _iin_birth,
}


# --- public API -------------------------------------------------------------------------


def _parser(kind: str) -> Callable[[str, date], str]:
    try:
        return _PARSERS[kind]
    except KeyError:
        # The unknown kind is not echoed: a caller who swapped the arguments would
        # otherwise put a national identifier in the message.
        raise InvalidInputError("unknown identifier kind; expected one of: " + ", ".join(KINDS)) from None


def normalise(kind: str, value: str, *, today: date | None = None) -> str:
    """Return the canonical digits of ``value`` as a number of ``kind``.

    Every usual written form of one number gives the same string: for example
    ``850709-2388``, ``8507092388`` and ``19850709-2388`` all give ``198507092388``.
    ``today`` resolves the century of 10-digit personnummer (default: the system date).

    Raises :class:`~consentkit.errors.InvalidInputError` if ``kind`` is unknown or
    ``value`` is not a valid number of that kind; the message never contains the value.
    """
    parse = _parser(kind)
    if today is None:
        today = date.today()
    try:
        return parse(value, today)
    except _InvalidError as error:
        raise InvalidInputError(f"{kind} is not valid: {error}") from None


def normalise_many(kind: str, values: Iterable[str], *, today: date | None = None) -> list[str]:
    """:func:`normalise` of each of ``values``, in order, for exports: the kind is looked up once.

    Raises like :func:`normalise` for the first value that is not valid.
    """
    parse = _parser(kind)
    if today is None:
        today = date.today()
    try:
        return [parse(value, today) for value in values]
    except _InvalidError as error:
        raise InvalidInputError(f"{kind} is not valid: {error}") from None


def is_valid(kind: str, value: str, *, today: date | None = None) -> bool:
    """Say whether ``value`` is a valid number of ``kind`` in any usual written form.

    Checks the length, the birth date where the number encodes one, and the check digits
    (``RU_PASSPORT`` has none: only its format is checked). ``today`` matters only for
    the century of a 10-digit personnummer. Raises ``InvalidInputError`` for an unknown kind.
    """
    parse = _parser(kind)
    if today is None:
        today = date.today()
    try:
        parse(value, today)
    except _InvalidError:
        return False
    return True


def birth_date(kind: str, value: str, *, today: date | None = None) -> date | None:
    """Return the birth date encoded in ``value``, or ``None`` if ``kind`` encodes none.

    ``GR_AMKA``, ``SE_PERSONNUMMER`` (the real day for samordningsnummer) and ``KZ_IIN``
    encode one. An AMKA does not write its century: the most recent date not after ``today``
    is returned (``None`` if there is none). Raises ``InvalidInputError`` like
    :func:`normalise` when ``value`` is not valid.
    """
    if today is None:
        today = date.today()
    digits = normalise(kind, value, today=today)
    reader = _BIRTH_DATES.get(kind)
    return None if reader is None else reader(digits, today)

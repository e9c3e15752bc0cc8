"""Hypothesis strategies that build valid national identifiers of every kind.

The check digits are computed here straight from the formulas in
``/work/shared/reference/pii-and-identifiers.md`` §5, independently of
``consentkit.pseudonym.identifiers``, so the tests compare two implementations rather
than one with itself. Reusable by the detector tests:

* :func:`canonical_ids` - the canonical digits of valid numbers of a kind;
* :func:`written_forms` - the usual ways one number is written (spaces, hyphens, en
  dashes, ``EL`` prefixes, ``№``, 10- and 12-digit personnummer with ``-``/``+``);
* :func:`valid_ids` - both together, as ``(canonical, written)`` pairs;
* ``build_*`` - plain functions that build one number from its parts.

Written forms of 10-digit personnummer depend on the date they are written: every
strategy here assumes :data:`TODAY`.
"""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from consentkit.pseudonym.identifiers import KINDS

TODAY = date(2026, 11, 23)

CHECKSUM_KINDS = tuple(kind for kind in KINDS if kind != "RU_PASSPORT")

# Separators people (and word processors) put inside numbers.
SEPARATORS = (" ", "-", "\u00a0", "\u2013", "  ")


# --- independent check-digit arithmetic (reference §5) ----------------------------------


def luhn_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload`` (double every second digit from the right)."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        doubled = int(char) * (2 if position % 2 == 0 else 1)
        total += doubled // 10 + doubled % 10
    return str(-total % 10)


def afm_remainder(payload: str) -> int:
    """``Σ d_i · 2^(9-i) mod 11`` over the 8 payload digits (§5.2), before the final ``mod 10``."""
    return sum(int(d) << (8 - i) for i, d in enumerate(payload)) % 11


def snils_sum(body: str) -> int:
    """``S = Σ d_i · (10 - i)`` over the 9-digit body (§5.4)."""
    return sum(int(d) * (9 - i) for i, d in enumerate(body))


def snils_control(body: str) -> str:
    """The two control digits, following the three cases of §5.4 literally."""
    total = snils_sum(body)
    if total < 100:
        return f"{total:02d}"
    if total in (100, 101):
        return "00"
    rest = total % 101
    return "00" if rest == 100 else f"{rest:02d}"


INN_WEIGHTS = {
    10: (2, 4, 10, 3, 5, 9, 4, 6, 8),
    11: (7, 2, 4, 10, 3, 5, 9, 4, 6, 8),
    12: (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8),
}


def inn_remainder(payload: str) -> int:
    """``Σ w_i d_i mod 11`` for the check digit that follows ``payload`` (§5.5), before ``mod 10``."""
    weights = INN_WEIGHTS[len(payload) + 1]
    return sum(int(d) * w for d, w in zip(payload, weights, strict=True)) % 11


def iin_first_pass(payload: str) -> int:
    """``Σ i · d_i mod 11`` for i = 1..11 (§5.8)."""
    return sum((i + 1) * int(d) for i, d in enumerate(payload)) % 11


def iin_check(payload: str) -> int | None:
    """The IIN check digit, or ``None`` when both passes give 10 (never issued, §5.8)."""
    check = iin_first_pass(payload)
    if check == 10:
        second = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
        check = sum(w * int(d) for w, d in zip(second, payload, strict=True)) % 11
    return None if check == 10 else check


# --- builders ------------------------------------------------------------------------------


def build_amka(born: date, serial: str) -> str:
    """``DDMMYY`` + 4-digit serial + Luhn digit (§5.1)."""
    payload = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}{serial}"
    return payload + luhn_digit(payload)


def build_afm(payload: str) -> str:
    """8 payload digits + ``mod 11 mod 10`` check digit (§5.2)."""
    return payload + str(afm_remainder(payload) % 10)


def build_personnummer(born: date, serial: str, *, coordination: bool = False) -> str:
    """The canonical 12 digits ``YYYYMMDDNNNC``; ``coordination`` adds 60 to the day (§5.3)."""
    day = born.day + (60 if coordination else 0)
    short = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial}"
    return f"{born.year // 100:02d}" + short + luhn_digit(short)


def build_snils(body: str) -> str:
    """9-digit body + control number (§5.4)."""
    return body + snils_control(body)


def build_inn(payload: str) -> str:
    """9 digits -> 10-digit INN; 10 digits -> 12-digit INN (§5.5)."""
    if len(payload) == 9:
        return payload + str(inn_remainder(payload) % 10)
    first = payload + str(inn_remainder(payload) % 10)
    return first + str(inn_remainder(first) % 10)


def build_oms(payload: str) -> str:
    """15 digits + Luhn digit (§5.7)."""
    return payload + luhn_digit(payload)


def build_iin(born: date, *, male: bool, serial: str) -> str | None:
    """``YYMMDD`` + century/sex digit + 4-digit serial + check digit, or ``None`` if none exists."""
    century_digit = (born.year // 100 - 18) * 2 + (1 if male else 2)
    payload = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{century_digit}{serial}"
    check = iin_check(payload)
    return None if check is None else payload + str(check)


# --- strategies -----------------------------------------------------------------------------


def digit_strings(length: int) -> st.SearchStrategy[str]:
    """Strings of exactly ``length`` ASCII digits."""
    return st.text(alphabet="0123456789", min_size=length, max_size=length)


# AMKA does not write its century: dates within the last 100 years read back unambiguously.
AMKA_BIRTH_DATES = st.dates(min_value=date(TODAY.year - 99, 1, 1), max_value=TODAY)
# 10-digit personnummer can express births within 199 years of TODAY ("+" from 100 on).
PNR_BIRTH_DATES = st.dates(min_value=date(TODAY.year - 199, 1, 1), max_value=TODAY)
IIN_BIRTH_DATES = st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31))


def _valid_iins() -> st.SearchStrategy[str]:
    built = st.builds(build_iin, IIN_BIRTH_DATES, male=st.booleans(), serial=digit_strings(4))
    return built.filter(lambda iin: iin is not None).map(str)


_CANONICAL: dict[str, st.SearchStrategy[str]] = {
    "GR_AMKA": st.builds(build_amka, AMKA_BIRTH_DATES, digit_strings(4)),
    "GR_AFM": digit_strings(8).map(build_afm),
    "SE_PERSONNUMMER": st.builds(
        build_personnummer, PNR_BIRTH_DATES, digit_strings(3), coordination=st.booleans()
    ),
    # Bodies above 001-001-998, where the control number is defined (§5.4).
    "RU_SNILS": st.integers(1_001_999, 999_999_999).map(lambda n: build_snils(f"{n:09d}")),
    "RU_INN": st.one_of(digit_strings(9), digit_strings(10)).map(build_inn),
    "RU_PASSPORT": digit_strings(10),
    "RU_OMS": digit_strings(15).map(build_oms),
    "KZ_IIN": _valid_iins(),
}


def canonical_ids(kind: str) -> st.SearchStrategy[str]:
    """Canonical digits (the form ``normalise`` returns) of valid numbers of ``kind``."""
    return _CANONICAL[kind]


@st.composite
def _sprinkled(draw: st.DrawFn, digits: str, separators: tuple[str, ...] = SEPARATORS) -> str:
    """``digits`` with a separator (or nothing) drawn for every gap, and optional outer spaces."""
    gap = st.sampled_from(("",) * 2 * len(separators) + separators)  # mostly no separator
    out = [digits[0]]
    for char in digits[1:]:
        out.append(draw(gap))
        out.append(char)
    pad = st.sampled_from(("", " ", "\t"))
    return draw(pad) + "".join(out) + draw(pad)


@st.composite
def _personnummer_forms(draw: st.DrawFn, canonical: str) -> str:
    age_in_years = TODAY.year - int(canonical[:4])
    short, serial = canonical[2:8], canonical[8:]
    forms = [canonical, canonical[:8] + "-" + serial]
    if age_in_years < 100:
        forms += [short + "-" + serial, short + serial]
    else:
        forms.append(short + "+" + serial)
    form = draw(st.sampled_from(forms)).replace("-", draw(st.sampled_from(("-", "\u2013", "\u2011"))))
    return draw(_sprinkled(form, (" ",)))


def written_forms(kind: str, canonical: str) -> st.SearchStrategy[str]:
    """Usual written forms of the number whose canonical digits are ``canonical``."""
    if kind == "SE_PERSONNUMMER":
        return _personnummer_forms(canonical)
    if kind == "GR_AFM":
        # Legacy 8-digit numbers are the canonical ones without their leading 0 (§5.2).
        bare = st.sampled_from([canonical, canonical[1:]] if canonical.startswith("0") else [canonical])
        prefix = st.sampled_from(("", "EL", "EL ", "GR", "el", "EL-"))
        return st.tuples(prefix, bare.flatmap(_sprinkled)).map("".join)
    if kind == "RU_PASSPORT":
        series, number = canonical[:4], canonical[4:]
        middle = st.sampled_from(("", " ", " № ", "№", " №", "№ "))
        return st.tuples(_sprinkled(series), middle, _sprinkled(number)).map("".join)
    if kind == "RU_SNILS":  # printed NNN-NNN-NNN CC
        printed = f"{canonical[:3]}-{canonical[3:6]}-{canonical[6:9]} {canonical[9:]}"
        return st.one_of(st.just(printed), _sprinkled(canonical))
    if kind == "RU_OMS":  # printed in groups of four
        printed = " ".join(canonical[i : i + 4] for i in range(0, 16, 4))
        return st.one_of(st.just(printed), _sprinkled(canonical))
    return _sprinkled(canonical)


def valid_ids(kind: str) -> st.SearchStrategy[tuple[str, str]]:
    """``(canonical, written)`` pairs of valid numbers of ``kind``."""
    return canonical_ids(kind).flatmap(lambda c: st.tuples(st.just(c), written_forms(kind, c)))

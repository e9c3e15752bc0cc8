"""Candidate finders for national identifiers, e-mail addresses and IBANs.

Each finder takes the whole text and returns scored :class:`Candidate` readings; the
detector keeps those at or above its threshold and resolves overlaps. The same finders
back both detector engines: the fast one calls them directly, the presidio one wraps each
kind in an ``EntityRecognizer`` (``detect_presidio.py``), so both see the same candidates.

Identifiers: every run of at least 8 digits joined by separators (up to three spaces,
a hyphen or dash, ``+``) whose digit count fits a kind (8-9: AFM; 10: personnummer, INN,
passport; 11: AMKA, SNILS; 12: personnummer, INN, IIN; 16: OMS) is screened by its check
digits and date, then checked with :func:`consentkit.pseudonym.identifiers.is_valid`. A
run longer than any identifier is two numbers a space apart: its space-separated stretches
are read instead, a little weaker. A reading starts from a base score that
reflects how rarely a random string passes its check (``pii-and-identifiers.md`` §4.4: AFM
10 %, INN-10 10 %, SNILS 1.1 %, INN-12 0.98 %, personnummer 0.72 %, AMKA 0.36 %, IIN
0.21 %) and how telling its written form is (``850709-2388``, ``112-233-445 95``,
``EL 094259216``), then :mod:`._context` adds the words around it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import mul

from consentkit.pseudonym import identifiers
from consentkit.pseudonym._context import Context, context_at, language_prior

__all__ = [
    "EMAIL",
    "IBAN",
    "ID_KINDS",
    "Candidate",
    "email_candidates",
    "iban_candidates",
    "id_candidates",
    "scored",
    "span_context",
]

EMAIL = "EMAIL_ADDRESS"
IBAN = "IBAN_CODE"
ID_KINDS = identifiers.KINDS


@dataclass(frozen=True, slots=True)
class Candidate:
    """One reading of ``text[start:end]`` as ``type``, with its score in [0, 1]."""

    type: str
    start: int
    end: int
    score: float


def scored(kind: str, start: int, end: int, base: float, context: Context, lang: str) -> Candidate:
    """A candidate whose score is ``base`` plus context and language prior, clipped to [0, 1]."""
    score = base + context.adjustment(kind) + language_prior(kind, lang)
    return Candidate(kind, start, end, round(min(1.0, max(0.0, score)), 2))


# --- national identifiers ------------------------------------------------------------------

# Between digits: up to three spaces (tabs, no-break and thin spaces too), a hyphen or dash
# with a space either side or none, or a "+" (personnummer of people aged 100 or more).
# Word processors and hand-typed forms put all of these inside one number.
_SPACE = r"[ \t\u00a0\u2009\u202f]"
_GLUE = rf"(?:{_SPACE}{{1,3}}|{_SPACE}?[-\u2010\u2011\u2012\u2013\u2212]{_SPACE}?)"
_SEP = rf"(?:{_GLUE}|{_SPACE}?\+{_SPACE}?)"
# At least 8 digits (the shortest identifier, a legacy AFM); shorter runs are never read.
# "\d(?<!\d\d)" is "(?<!\d)\d" (a digit with none before it) written so that the pattern
# starts with a digit: the regex engine then skips ahead to digits instead of trying the
# look-behind at every character (a fifth faster on notes).
_RUN = re.compile(rf"\d(?<!\d\d)(?:{_SEP}?\d){{7,}}")
_GROUP = re.compile(r"\d+")
_NON_DIGIT = re.compile(r"\D")
# "4506 № 123456", "серия 4506 номер 123456": a passport's series and number with a word between.
_PASSPORT_SPLIT = re.compile(
    rf"\d(?<!\d\d)(?:{_GLUE}?\d){{3}}[ \t\u00a0]*(?:№|N|No\.?|номер)[ \t\u00a0]*\d(?:{_GLUE}?\d){{5}}(?!\d)",
    re.IGNORECASE
)
_AFM_PREFIX = re.compile(r"(?<![^\W\d_])(?:EL|GR)[ \t\u00a0-]{0,3}$", re.IGNORECASE)
_SNILS_PRINTED = re.compile(r"\d{3}-\d{3}-\d{3}[ \u00a0-]\d{2}")
_PNR_SIGNED = re.compile(r"(?:\d{2})?\d{6}[-\u2010\u2011\u2012\u2013\u2212+]\d{4}")
_PASSPORT_PRINTED = re.compile(r"\d{2}[ \u00a0]\d{2}[ \u00a0]\d{6}|\d{4}[ \u00a0]\d{6}")
_AMKA_WRITTEN = re.compile(r"\d{11}|\d{6}[ \u00a0-]\d{5}")

_KINDS_BY_LENGTH: dict[int, tuple[str, ...]] = {
    8: ("GR_AFM",),  # legacy AFM without its leading 0: only with a label
    9: ("GR_AFM",),
    10: ("SE_PERSONNUMMER", "RU_INN", "RU_PASSPORT"),
    11: ("GR_AMKA", "RU_SNILS"),
    12: ("SE_PERSONNUMMER", "RU_INN", "KZ_IIN"),
    16: ("RU_OMS",),
}
_MAX_DIGITS = 16
_INNER = 0.15
_MAX_GROUPS = 24


def _base(kind: str, written: str, digits: int) -> float:
    """Score of a valid reading before context: rarer by chance and more telling form score higher."""
    if kind == "GR_AMKA":
        # Written whole or as date and serial (150385 12347); grouped otherwise (020 7946 0958) it
        # is more often a phone number, which then wins the overlap where it reads as one.
        return 0.65 if _AMKA_WRITTEN.fullmatch(written) else 0.45
    if kind == "KZ_IIN":
        return 0.65
    if kind == "SE_PERSONNUMMER":
        if _PNR_SIGNED.fullmatch(written):
            return 0.85
        return 0.7 if digits == 12 else 0.6
    if kind == "RU_SNILS":
        return 0.85 if _SNILS_PRINTED.fullmatch(written) else 0.4
    if kind == "RU_INN":
        return 0.4 if digits == 12 else 0.3
    if kind == "GR_AFM":
        return 0.3 if digits == 9 else 0.05
    if kind == "RU_OMS":
        return 0.55
    # RU_PASSPORT: no check digit; the printed groupings are a weak hint, a label decides.
    return 0.15 if _PASSPORT_PRINTED.fullmatch(written) else 0.05


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # Luhn: a doubled digit, its digits summed


def _luhn(digits: str) -> bool:
    return (sum(map(int, digits[-1::-2])) + sum(_DOUBLED[int(d)] for d in digits[-2::-2])) % 10 == 0


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(map(mul, map(int, digits), weights))


_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_IIN1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_IIN2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def _inn(digits: str) -> bool:
    if len(digits) == 10:
        return _weighted(digits, _INN10) % 11 % 10 == int(digits[9])
    return (_weighted(digits, _INN11) % 11 % 10 == int(digits[10])
            and _weighted(digits, _INN12) % 11 % 10 == int(digits[11]))


def _iin(digits: str) -> bool:
    check = _weighted(digits, _IIN1) % 11
    if check == 10:
        check = _weighted(digits, _IIN2) % 11
    return check == int(digits[11])


def _snils(digits: str) -> bool:
    return int(digits[:9]) <= 1_001_998 or _weighted(digits, (9, 8, 7, 6, 5, 4, 3, 2, 1)) % 101 % 100 == int(
        digits[9:])


def _afm(digits: str) -> bool:
    padded = digits.zfill(9)
    return _weighted(padded, (256, 128, 64, 32, 16, 8, 4, 2)) % 11 % 10 == int(padded[8])


# Check digits recomputed on the bare digits, as a cheap screen before ``is_valid``, which
# then checks everything again (written form, dates, check digits): most digit runs in a
# note are case numbers, amounts and phone numbers that fail here at a fraction of the cost.
# The arithmetic is that of ``identifiers`` (pii-and-identifiers.md §5).
_SCREENS: dict[str, Callable[[str], bool]] = {
    "GR_AMKA": _luhn,
    "SE_PERSONNUMMER": lambda digits: _luhn(digits[-10:]),
    "RU_OMS": _luhn,
    "RU_INN": _inn,
    "KZ_IIN": _iin,
    "RU_SNILS": _snils,
    "GR_AFM": _afm,
    "RU_PASSPORT": lambda _digits: True,
}


def _month_day(month: str, day: str) -> bool:
    return "01" <= month <= "12" and ("01" <= day <= "31" or "61" <= day <= "91")


def _plausible(kind: str, digits: str) -> bool:
    """A cheap test of the date part and the check digits before the full check."""
    if kind == "GR_AMKA":  # DDMMYY
        return "01" <= digits[2:4] <= "12" and "01" <= digits[0:2] <= "31"
    if kind == "SE_PERSONNUMMER":  # (YY)YYMMDD, day + 60 for samordningsnummer
        offset = len(digits) - 10
        return _month_day(digits[offset + 2 : offset + 4], digits[offset + 4 : offset + 6])
    if kind == "KZ_IIN":  # YYMMDD, then the century digit
        return "01" <= digits[2:4] <= "12" and "01" <= digits[4:6] <= "31" and digits[6] in "123456"
    return _SCREENS[kind](digits)


@lru_cache(maxsize=32)
def _readings(kinds: frozenset[str]) -> dict[int, tuple[str, ...]]:
    """The kinds of ``kinds`` to try per digit count."""
    return {length: tuple(k for k in options if k in kinds) for length, options in _KINDS_BY_LENGTH.items()}


def _has_space(gap: str) -> bool:
    return any(ch.isspace() for ch in gap)


def _stretches(text: str, match: re.Match[str]) -> list[tuple[int, int, int]]:
    """``(start, end, digits)`` of the readings of a digit run.

    A run is read whole. Only a run longer than any identifier (more than 16 digits: two
    numbers a space apart) is read as every stretch of whole groups split at spaces.
    """
    written = match.group()
    offset = match.start()
    if written.isdigit():  # the usual case: one group
        return [(offset, match.end(), len(written))] if len(written) in _KINDS_BY_LENGTH else []
    groups = [(g.start() + offset, g.end() + offset, g.end() - g.start()) for g in _GROUP.finditer(written)]
    total = sum(g[2] for g in groups)
    if total <= _MAX_DIGITS:
        return [(offset, match.end(), total)] if total in _KINDS_BY_LENGTH else []
    if len(groups) > _MAX_GROUPS:
        return []  # a table or a list of digits, not numbers in prose: no reading is safe
    found = []
    for first in range(len(groups)):
        if first and not _has_space(text[groups[first - 1][1]:groups[first][0]]):
            continue  # a stretch starts after a space, not after a hyphen
        digits = 0
        for last in range(first, len(groups)):
            digits += groups[last][2]
            if digits > _MAX_DIGITS:
                break
            ends_at_space = last == len(groups) - 1 or _has_space(text[groups[last][1]:groups[last + 1][0]])
            if digits in _KINDS_BY_LENGTH and ends_at_space:
                found.append((groups[first][0], groups[last][1], digits))
    return found


def id_candidates(
    text: str, kinds: frozenset[str], lang: str, today: date, contexts: dict[tuple[int, int], Context] | None = None
) -> list[Candidate]:
    """Valid readings of the digit runs in ``text`` as identifiers of ``kinds``.

    Of two valid readings of one kind where one lies inside the other, only the longer is
    kept (``7707083893 24`` is one 12-digit INN, not also a 10-digit one). ``contexts``
    caches the labels around each span for the other finders of the same call.
    """
    if contexts is None:
        contexts = {}
    found: list[Candidate] = []
    by_length = _readings(kinds)
    for run in _RUN.finditer(text):
        for start, end, digits in _stretches(text, run):
            # A stretch inside a longer run (two numbers a space apart) is a weaker reading.
            inner = 0.0 if (start, end) == run.span() else _INNER
            written = text[start:end]
            compact = written if written.isdigit() else _NON_DIGIT.sub("", written)
            context: Context | None = None
            for kind in by_length.get(digits, ()):
                if not _plausible(kind, compact):
                    continue
                begin, base = start, _base(kind, written, digits) - inner
                if kind == "GR_AFM":
                    prefix = _AFM_PREFIX.search(text, max(0, start - 5), start)
                    if prefix is not None:
                        begin, base = prefix.start(), 0.85
                if identifiers.is_valid(kind, text[begin:end], today=today):
                    context = context or span_context(text, start, end, contexts)
                    found.append(scored(kind, begin, end, base, context, lang))
    if "RU_PASSPORT" in kinds:
        for match in _PASSPORT_SPLIT.finditer(text):
            context = span_context(text, match.start(), match.end(), contexts)
            found.append(scored("RU_PASSPORT", match.start(), match.end(), 0.5, context, lang))
    return _longest_per_kind(found)


def span_context(text: str, start: int, end: int, contexts: dict[tuple[int, int], Context]) -> Context:
    """The labels around ``text[start:end]``, computed once per span and call."""
    context = contexts.get((start, end))
    if context is None:
        context = contexts[start, end] = context_at(text, start, end)
    return context


def _longest_per_kind(found: list[Candidate]) -> list[Candidate]:
    kept: list[Candidate] = []
    for candidate in sorted(found, key=lambda c: c.start - c.end):
        inside = any(k.type == candidate.type and k.start <= candidate.start and candidate.end <= k.end
                     for k in kept)
        if not inside:
            kept.append(candidate)
    return kept


# --- e-mail addresses -------------------------------------------------------------------------

# Local part, then labels of letters/digits/hyphens, then a top-level domain of letters only.
# No tldextract: the public-suffix list is a network fetch (presidio#1205), and the shape
# alone separates addresses from other text well enough to redact them. The pattern is
# tried only at each "@": scanning the whole note with it costs more than the rest.
_LOCAL = re.compile(r"[\w%+-](?:[\w.%+-]{0,62}[\w%+-])?$")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63}(?![\w-])")
_LOCAL_BEFORE = re.compile(r"[\w.%+-]")


def email_candidates(text: str) -> list[Candidate]:
    """E-mail addresses in ``text`` (score 1.0)."""
    found = []
    at = text.find("@")
    while at > 0:
        local = _LOCAL.search(text, max(0, at - 64), at)
        domain = _DOMAIN.match(text, at + 1)
        if local is not None and domain is not None:
            start = local.start()
            if start == 0 or not _LOCAL_BEFORE.match(text, start - 1):
                found.append(Candidate(EMAIL, start, domain.end(), 1.0))
        at = text.find("@", at + 1)
    return found


# --- IBANs --------------------------------------------------------------------------------------

# Lengths from the SWIFT IBAN registry (ISO 13616); a country code not listed is no IBAN.
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_IBAN = re.compile(r"(?<![\w])([A-Z]{2})\d{2}(?:[ \u00a0]?[A-Z0-9]){11,30}", re.IGNORECASE)
_ALNUM = re.compile(r"[A-Za-z0-9]")


def _iban_ok(compact: str) -> bool:
    """ISO 7064 MOD 97-10: the rearranged number, letters as 10..35, leaves 1."""
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def iban_candidates(text: str) -> list[Candidate]:
    """IBANs in ``text``, cut to their country's registered length and checked mod 97 (score 1.0)."""
    found = []
    match = _IBAN.search(text)
    while match is not None:
        # The pattern may run on into the next words; the country's length says where it ends,
        # and the search goes on from there (another IBAN may follow in the same stretch).
        next_from = match.start() + 1
        length = _IBAN_LENGTHS.get(match.group(1).upper())
        positions = [m.start() for m in _ALNUM.finditer(match.group())]
        if length is not None and len(positions) >= length:
            end = match.start() + positions[length - 1] + 1
            compact = "".join(ch for ch in text[match.start():end] if ch.isalnum()).upper()
            if not (end < len(text) and text[end].isalnum()) and _iban_ok(compact):
                found.append(Candidate(IBAN, match.start(), end, 1.0))
                next_from = end
        match = _IBAN.search(text, next_from)
    return found

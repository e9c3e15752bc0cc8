"""Phone numbers: the regions GR, SE, RU, KZ, GB (with GG, JE, IM) and US, international and local formats.

A cheap regular expression finds digit chunks shaped like phone numbers (``+30 691 234 5678``,
``8 (8162) 74-59-57``, ``070-123 45 67``, ``6946836732``); only those chunks are checked
against libphonenumber's metadata: its validity patterns, compiled once, on the digits with
the trunk prefix taken off (parsing formatted text costs three times as much, and
``is_valid_number`` re-reads the metadata on every call). presidio's ``PhoneRecognizer`` instead
runs ``PhoneNumberMatcher`` over the whole text once per region, about 1.5 ms a note
(``pii-and-identifiers.md`` §4.2).

libphonenumber accepts far too much on its own: a random 10-digit case number is a valid
US, Greek or Russian number more often than not, and so is almost every personnummer and
AMKA (measured on the sample data). A chunk is therefore scored by how it is written and
where:

* international (``+``, or ``00`` with separators after it) and valid: 0.75; international
  and of a possible length: 0.5;
* valid in a home region of the note's language (el GR, sv SE, ru RU, kk KZ, en GB/US)
  written with its trunk prefix, a bracketed area code or (US) the 3-3-4 grouping: 0.6; in Greece, which has no
  trunk prefix: 0.5; without the trunk prefix: 0.35;
* valid only in another of the six regions: 0.25 (0.35 with trunk prefix or brackets);

then :func:`._context.adjustment` adds the words in front (``тел.`` +0.35, ``Ärendenummer``
-0.35). Regions that cannot reach the threshold are not tried at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber

from consentkit.pseudonym._context import PHONE, Context
from consentkit.pseudonym._recognizers import Candidate, span_context

__all__ = ["HOME_REGIONS", "REGIONS", "e164", "phone_candidates"]

# GG, JE and IM share the UK's +44 and its numbering: a mobile such as 07911 123456 is one
# of theirs in libphonenumber's metadata, and is dialled like any UK number.
REGIONS = ("GR", "SE", "RU", "KZ", "GB", "US", "GG", "JE", "IM")
HOME_REGIONS: dict[str, tuple[str, ...]] = {
    "el": ("GR",), "sv": ("SE",), "ru": ("RU",), "kk": ("KZ",), "en": ("GB", "GG", "JE", "IM", "US"),
}
#: The North American grouping (212-555-0123): as telling as a bracketed area code there.
_NANP_GROUPED = re.compile(r"\d{3}[ \-\u2010\u2011\u2012\u2013]\d{3}[ \-\u2010\u2011\u2012\u2013]\d{4}")

_SEP = r"[ \t\u00a0\u2009\u202f\-\u2010\u2011\u2012\u2013\u2212()]"
# A run of digits and phone separators, read whole (possessive: linear time on any input).
# Whether it is glued to a word, a slash or a decimal separator is checked afterwards, so
# case numbers (1895/55979), amounts (13 472,88) and dates (05.12.2026) never form a chunk.
_RUN = re.compile(rf"(?:\+[ \u00a0]?|\()?\d(?:{_SEP}{{0,3}}\d)*+")
_PIECE = re.compile(r"\S+")
_MAX_PIECES = 12
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4}")
_NON_DIGIT = re.compile(r"\D")
_MIN_DIGITS, _MAX_DIGITS = 7, 15

_INTERNATIONAL_VALID, _INTERNATIONAL_POSSIBLE = 0.75, 0.5
_HOME_SHAPED, _HOME_NO_TRUNK, _HOME_BARE = 0.6, 0.5, 0.35
_FOREIGN, _FOREIGN_SHAPED = 0.25, 0.35


# libphonenumber's validity test (``is_valid_number_for_region``) re-reads the metadata and
# recompiles through its pattern cache on every call; these are the same tests on the same
# patterns, compiled once: a number is valid in a region when its national significant
# number fits the general description and at least one number type (length, then pattern).
# tests/pseudonym/test_detect_phones.py compares the two on generated numbers.
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")
_Desc = tuple[frozenset[int], "re.Pattern[str]"]


@dataclass(frozen=True)
class _Rules:
    code: int
    trunk: str
    leading: re.Pattern[str] | None
    general: _Desc | None
    types: tuple[_Desc, ...]

    def valid(self, nsn: str) -> bool:
        return _fits(self.general, nsn) and any(_fits(desc, nsn) for desc in self.types)


def _fits(desc: _Desc | None, nsn: str) -> bool:
    if desc is None:
        return False
    lengths, pattern = desc
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


def _desc(raw: Any) -> _Desc | None:
    if raw is None or not raw.national_number_pattern:
        return None
    return frozenset(raw.possible_length or ()), re.compile(raw.national_number_pattern)


@cache
def _rules(region: str) -> _Rules | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    types = tuple(d for d in (_desc(getattr(metadata, name)) for name in _TYPES) if d is not None)
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
    return _Rules(metadata.country_code, metadata.national_prefix or "", leading, _desc(metadata.general_desc),
                  types)


def _region_rules(region: str) -> _Rules:
    rules = _rules(region)
    if rules is None:  # pragma: no cover - the six regions ship with phonenumbers
        raise RuntimeError(f"phonenumbers has no metadata for {region}")
    return rules


_FACTS = {region: _region_rules(region) for region in REGIONS}
_OWN_CODES = frozenset(rules.code for rules in _FACTS.values())
_COUNTRY_CODES = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _valid_international(code: int, nsn: str) -> bool:
    """``phonenumbers.is_valid_number`` for a country code of the six regions, without its overhead."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    if len(regions) == 1:
        rules = _rules(regions[0])
        return rules is not None and rules.valid(nsn)
    for region in regions:  # as region_code_for_number: leading digits decide, else validity
        rules = _rules(region)
        if rules is None:
            continue
        if rules.leading is not None:
            if rules.leading.match(nsn):
                return rules.valid(nsn)
        elif rules.valid(nsn):
            return True
    return False


def _international(digits: str) -> PhoneNumber | None:
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in _COUNTRY_CODES and len(digits) > length:
            return PhoneNumber(country_code=code, national_number=int(digits[length:]))
    return None


def _national(digits: str, region: str) -> tuple[int, str, bool] | None:
    """The number ``digits`` dialled inside ``region`` (country code, national significant
    number) and whether the trunk prefix was written; no PhoneNumber is built for a reading
    that is only scored."""
    rules = _FACTS[region]
    trunk = rules.trunk
    with_trunk = bool(trunk) and digits.startswith(trunk)
    national = digits[len(trunk):] if with_trunk else digits
    if not national or national[0] == "0" or not rules.valid(national):
        return None
    return rules.code, national, with_trunk


def _score_national(digits: str, bracketed: bool, lang: str, floor: float, nanp: bool = False) -> float | None:
    """Best base score of a national-format chunk, trying only regions that can reach ``floor``;
    ``nanp``: written in the North American 3-3-4 grouping, which shapes a US reading."""
    home = HOME_REGIONS[lang]
    if floor <= _HOME_SHAPED:
        for region in home:
            found = _national(digits, region)
            if found is not None:
                number_shaped = found[2] or bracketed or (nanp and region == "US")
                if number_shaped:
                    return _HOME_SHAPED
                return _HOME_BARE if _FACTS[region].trunk else _HOME_NO_TRUNK
    if floor <= _FOREIGN_SHAPED:
        for region in REGIONS:
            if region in home:
                continue
            found = _national(digits, region)
            if found is not None:
                return _FOREIGN_SHAPED if (found[2] or bracketed or (nanp and region == "US")) else _FOREIGN
    return None


def _free(text: str, start: int, end: int) -> bool:
    """Not glued to a word, a "+", a slash, or the digits of a decimal number or a date."""
    before = text[start - 1] if start else " "
    if before.isalnum() or before in "+/_" or (before in ".," and start > 1 and text[start - 2].isdigit()):
        return False
    after = text[end] if end < len(text) else " "
    if after.isalnum() or after == "_":
        return False
    return not (after in "/.," and end + 1 < len(text) and text[end + 1].isdigit())


def _chunks(text: str) -> list[tuple[int, int]]:
    """Spans of phone-shaped chunks of 7 to 15 digits.

    A run with more digits is two or more numbers a space apart: every stretch of its
    space-separated pieces that has a phone's length is a chunk then.
    """
    found = []
    for run in _RUN.finditer(text):
        written = run.group()
        if len(written) < _MIN_DIGITS:
            continue  # most runs in prose ("3", "12.5", "2026"): too few characters for a phone's digits
        start, end = run.span()
        if written[0] == "(" and ")" not in written:  # "(070-765 43 21)": the number is in brackets
            start, written = start + 1, written[1:]
        if not _free(text, start, end):
            continue
        count = sum(map(str.isdigit, written))
        if _MIN_DIGITS <= count <= _MAX_DIGITS:
            found.append((start, end))
        elif count > _MAX_DIGITS:
            pieces = [(m.start() + start, m.end() + start, sum(map(str.isdigit, m.group())))
                      for m in _PIECE.finditer(written)]
            if len(pieces) > _MAX_PIECES:
                continue
            for first in range(len(pieces)):
                digits = 0
                for last in range(first, len(pieces)):
                    digits += pieces[last][2]
                    if digits > _MAX_DIGITS:
                        break
                    if digits >= _MIN_DIGITS:
                        found.append((pieces[first][0], pieces[last][1]))
    return found


def phone_candidates(
    text: str,
    lang: str,
    threshold: float,
    settled: Mapping[tuple[int, int], float] | None = None,
    contexts: dict[tuple[int, int], Context] | None = None,
) -> list[Candidate]:
    """Phone-number readings of the chunks in ``text`` that reach ``threshold``.

    ``settled`` maps spans to the best identifier score found on exactly that span: a chunk
    whose best possible phone score does not exceed it cannot win the overlap resolution
    (anything that beats the identifier there beats the phone too), so it is not parsed.
    ``contexts`` caches the labels around spans already looked at in this call.
    """
    if contexts is None:
        contexts = {}
    found = []
    for start, end in _chunks(text):
        chunk = text[start:end]
        digits = _NON_DIGIT.sub("", chunk)
        if _DATE.fullmatch(chunk):
            continue
        context = span_context(text, start, end, contexts).adjustment(PHONE)
        floor = threshold - context
        international = chunk[0] == "+" or (digits.startswith("00") and _NON_DIGIT.search(chunk) is not None)
        best = _INTERNATIONAL_VALID if international else _HOME_SHAPED
        if best < floor or (settled and settled.get((start, end), -1.0) >= best + context):
            continue
        base: float | None
        if international:
            base = _international_score(digits if chunk[0] == "+" else digits[2:])
        else:
            base = _score_national(digits, "(" in chunk, lang, floor, _NANP_GROUPED.fullmatch(chunk) is not None)
        if base is not None and base >= floor:
            found.append(Candidate(PHONE, start, end, round(min(1.0, base + context), 2)))
    return found


def _international_score(digits: str) -> float | None:
    number = _international(digits)
    if number is None:
        return None
    if number.country_code in _OWN_CODES:
        valid = _valid_international(number.country_code, str(number.national_number))
    else:
        valid = phonenumbers.is_valid_number(number)
    if valid:
        return _INTERNATIONAL_VALID
    return _INTERNATIONAL_POSSIBLE if phonenumbers.is_possible_number(number) else None


def e164(text: str, lang: str) -> str | None:
    """``+CCNNN…`` for a phone number as written in a note of ``lang``, or ``None``.

    Used to give every written form of one number the same pseudonym.
    """
    digits = _NON_DIGIT.sub("", text)
    if not digits:
        return None
    number: PhoneNumber | None
    if text.lstrip().startswith("+") or digits.startswith("00"):
        number = _international(digits.removeprefix("00") if not text.lstrip().startswith("+") else digits)
    else:
        number = None
        for region in (*HOME_REGIONS.get(lang, ()), *REGIONS):
            found = _national(digits, region)
            if found is not None:
                number = PhoneNumber(country_code=found[0], national_number=int(found[1]))
                break
    if number is None:
        return None
    return f"+{number.country_code}{number.national_number}"

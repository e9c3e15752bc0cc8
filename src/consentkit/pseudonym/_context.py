"""Context words around a number: which label ("АМКА", "тел.", "Ärendenummer") stands nearest.

A checksum says a digit string *can* be an identifier of a kind; the words in front of it
say which one it *is*. An 11-digit string may be an AMKA or a SNILS, a 10-digit one a
personnummer, an INN, a passport or a phone number (``pii-and-identifiers.md`` §4.4). The
detector scores every reading and lets the label nearest to the number decide:

* the candidate's own label is the nearest one: ``+boost`` (0.35; RU_PASSPORT, which has no
  check digit and lives on its label, 0.5);
* its own label is in the window but another stands nearer: ``+0.15``;
* only other labels are in the window: ``-0.15`` (evidence it is something else), and
  ``-0.35`` for a phone number whose nearest label says case, file or reference number;
* its own label right after the number (``850709-2388 (personnummer)``): ``+0.2``.

The window is the 48 characters before the number, cut at the previous digit so the label
of an earlier number does not count twice. Labels match at the start of a word, so
inflected forms and Swedish compounds match through their stem (``телефону``,
``τηλεφώνου``, ``telefonnummer``), and Greek is compared without accents.

Languages add a prior: a kind native to the note's language gets ``+0.1``
(``GR_*`` in Greek, ``SE_PERSONNUMMER`` in Swedish, ``RU_*`` in Russian, ``KZ_IIN`` in Kazakh).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["LANGUAGES", "NEGATIVE", "PHONE", "Context", "adjustment", "context_at", "keywords", "language_prior"]

#: Languages the detector knows: context words, phone home regions, name endings.
LANGUAGES = ("en", "el", "sv", "ru", "kk")

PHONE = "PHONE_NUMBER"
#: Label of words that name a case, file or reference number: such a number is no phone.
NEGATIVE = "NOT_A_PHONE"

_WINDOW = 48
_SUFFIX = 24

# Keywords per label, lower case, Greek without accents. A word ending in "*" is a stem and
# matches at the start of a word ("телефон*" finds "телефону", "telefon*" finds
# "telefonnummer"); any other word must stand whole ("ref" must not find "referral").
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "GR_AMKA": ("αμκα", "α.μ.κ.α", "amka", "μητρωου κοινωνικης*", "social security number", "ssn"),
    "GR_AFM": ("αφμ", "α.φ.μ", "afm", "φορολογικ*", "vat", "tin", "tax id", "tax number", "tax no"),
    "SE_PERSONNUMMER": ("personnummer*", "personnr", "pnr", "pers.nr", "person-nr", "samordningsnummer*",
                        "samordningsnr", "personal identity number", "personal number", "swedish id",
                        "swedish personal*", "id-nummer*", "födelsenummer*"),
    "RU_SNILS": ("снилс*", "snils", "страховое свидетельство*", "страхового свидетельства", "страховой номер*",
                 "пенсионн*"),
    "RU_INN": ("инн", "inn", "taxpayer*", "налогоплательщик*", "tax identification number"),
    "RU_PASSPORT": ("паспорт*", "passport*", "серия", "серии", "сер.", "серию"),
    "RU_OMS": ("омс", "oms", "полис*", "енп", "enp", "медицинского страхования", "medical insurance",
               "health insurance"),
    "KZ_IIN": ("иин", "iin", "жсн", "индивидуальный идентификационный", "жеке сәйкестендіру*"),
    PHONE: ("phone*", "tel", "tel.", "telephone*", "mobile", "mob", "mob.", "cell", "cellphone", "ph", "ph.",
            "call", "called", "reach", "reachable", "ring", "sms", "text", "whatsapp", "viber", "contact",
            "contact number",
            "τηλ*", "κινητ*", "κιν", "κιν.", "σταθερ*", "επικοινων*", "καλεσ*",
            "telefon*", "tfn", "tel.nr", "telnr", "mobil*", "nås", "nummer till", "ringa", "ringer", "ringde",
            "kontaktnummer",
            "телефон*", "тел", "тел.", "т.", "моб*", "сот.", "сотов*", "звон*", "позвон*", "связ*",
            "контактн*", "вотсап", "ватсап", "ұялы", "байланыс*"),
    NEGATIVE: ("ref", "ref.", "reference", "case no", "case number", "file", "file no", "claim", "invoice",
               "order", "account", "record",
               "φακελ*", "πρωτοκ*", "υποθεσ*", "αιτησ*", "παραστατικ*", "τιμολογ*",
               "ärende*", "diarie*", "dnr", "referens*", "faktura*", "beslut*", "journal*",
               "дело", "дела", "делу", "обращени*", "заявлени*", "протокол*", "счет*", "счёт*",
               "регистрационн*", "өтініш*", "іс"),
}

_NATIVE: dict[str, frozenset[str]] = {
    "el": frozenset({"GR_AMKA", "GR_AFM"}),
    "sv": frozenset({"SE_PERSONNUMMER"}),
    "ru": frozenset({"RU_SNILS", "RU_INN", "RU_PASSPORT", "RU_OMS"}),
    "kk": frozenset({"KZ_IIN"}),
    "en": frozenset(),
}

_BOOST = {"RU_PASSPORT": 0.5}
_DEFAULT_BOOST = 0.35

_LABEL_OF: dict[str, str] = {}
for _label, _words in _KEYWORDS.items():
    for _word in _words:
        _LABEL_OF.setdefault(_word.rstrip("*"), _label)


def _alternative(word: str) -> str:
    if word.endswith("*"):
        return re.escape(word[:-1])
    return re.escape(word) + r"(?![^\W\d_])"


# Longest first, so "telephone" is preferred to "tel" at the same position.
_KEYWORD = re.compile(
    r"(?<![^\W\d_])("
    + "|".join(_alternative(w) for w in sorted({w for ws in _KEYWORDS.values() for w in ws},
                                                 key=len, reverse=True))
    + ")"
)
_GREEK_ACCENTS = str.maketrans("άέήίόύώϊΐϋΰ", "αεηιουωιιυυ")
_SUFFIX_START = re.compile(r"[\s(:\u2013-]{0,3}")


def _fold(text: str) -> str:
    return text.lower().translate(_GREEK_ACCENTS)


@lru_cache(maxsize=4096)
def _labels(window: str) -> tuple[str | None, frozenset[str]]:
    """The nearest label in ``window`` (the last one) and every label in it."""
    found = [_LABEL_OF[m.group(1)] for m in _KEYWORD.finditer(_fold(window))]
    if not found:
        return None, frozenset()
    return found[-1], frozenset(found)


_LAST_DIGIT = re.compile(r"\d\D*$")


def _window_before(text: str, start: int) -> str:
    begin = max(0, start - _WINDOW)
    last = _LAST_DIGIT.search(text, begin, start)
    return text[last.start() + 1 : start] if last else text[begin:start]


def _label_after(text: str, end: int) -> str | None:
    skip = _SUFFIX_START.match(text, end, min(len(text), end + _SUFFIX))
    position = skip.end() if skip else end
    match = _KEYWORD.match(_fold(text[position : position + _SUFFIX]))
    return _LABEL_OF[match.group(1)] if match else None


def keywords(label: str) -> tuple[str, ...]:
    """The context words of ``label`` (stems without their ``*``), for presidio recognizers."""
    return tuple(word.rstrip("*") for word in _KEYWORDS.get(label, ()))


def language_prior(kind: str, lang: str) -> float:
    """``+0.1`` for an identifier native to the note's language, else 0."""
    return 0.1 if kind in _NATIVE.get(lang, frozenset()) else 0.0


class Context:
    """The labels around one span: the nearest before it, all before it, the one right after.

    The label after the span is read only when a reading needs it (its own label is not
    before it), which is rare: most identifiers carry their label in front.
    """

    __slots__ = ("_after", "_end", "_read", "_text", "nearest", "present")

    def __init__(self, nearest: str | None, present: frozenset[str], text: str, end: int) -> None:
        self.nearest = nearest
        self.present = present
        self._text = text
        self._end = end
        self._after: str | None = None
        self._read = False

    def after(self) -> str | None:
        """The label right after the span, if any."""
        if not self._read:
            self._after, self._read = _label_after(self._text, self._end), True
        return self._after

    def adjustment(self, kind: str) -> float:
        """How much these labels raise or lower a reading as ``kind``."""
        delta = 0.0
        if self.nearest == kind:
            delta = _BOOST.get(kind, _DEFAULT_BOOST)
        elif kind in self.present:
            delta = 0.15
        elif self.nearest is not None:
            delta = -0.35 if kind == PHONE and self.nearest == NEGATIVE else -0.15
        if delta <= 0 and self.after() == kind:
            delta = 0.2
        return delta


def context_at(text: str, start: int, end: int) -> Context:
    """The labels around ``text[start:end]``."""
    nearest, present = _labels(_window_before(text, start))
    return Context(nearest, present, text, end)


def adjustment(text: str, start: int, end: int, kind: str) -> float:
    """How much the words around ``text[start:end]`` raise or lower a reading as ``kind``."""
    return context_at(text, start, end).adjustment(kind)

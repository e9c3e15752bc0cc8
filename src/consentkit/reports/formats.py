"""Dates and numbers written the way each report language writes them.

Babel is not a dependency of consentkit, and four languages need only a few rules, so
they are spelt out here (checked against the CLDR data Babel ships: month names, the
genitive month in Greek and Russian, the decimal and grouping separators).
Kazakh falls back to Russian, anything unknown to English.
"""

from __future__ import annotations

from datetime import date, datetime

__all__ = ["format_date", "format_datetime", "format_number", "format_percent"]

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    # CLDR "format" (genitive) month names: "2 Μαρτίου 2026", "2 марта 2026 г.".
    "el": ("Ιανουαρίου", "Φεβρουαρίου", "Μαρτίου", "Απριλίου", "Μαΐου", "Ιουνίου", "Ιουλίου", "Αυγούστου",
           "Σεπτεμβρίου", "Οκτωβρίου", "Νοεμβρίου", "Δεκεμβρίου"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
}
_DATE_PATTERN = {"en": "{d} {m} {y}", "el": "{d} {m} {y}", "sv": "{d} {m} {y}", "ru": "{d} {m} {y} г."}
# (decimal separator, grouping separator); CLDR: sv and ru group with a no-break space.
_SEPARATORS = {"en": (".", ","), "el": (",", "."), "sv": (",", "\u00a0"), "ru": (",", "\u00a0")}
_FALLBACK = {"kk": "ru"}


def _lang(lang: str) -> str:
    lang = _FALLBACK.get(lang, lang)
    return lang if lang in _MONTHS else "en"


def format_date(value: date | str | None, lang: str) -> str:
    """``2 March 2026``, ``2 Μαρτίου 2026``, ``2 mars 2026``, ``2 марта 2026 г.``; ``""`` for none.

    Accepts a date or stored text (``YYYY-MM-DD`` or an instant; only the day is used).
    """
    if value is None or value == "":
        return ""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    if isinstance(day, datetime):
        day = day.date()
    code = _lang(lang)
    return _DATE_PATTERN[code].format(d=day.day, m=_MONTHS[code][day.month - 1], y=day.year)


def format_datetime(value: datetime | str | None, lang: str) -> str:
    """The date as :func:`format_date` plus ``HH:MM UTC`` (stored instants are UTC)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{format_date(moment.date(), lang)} {moment:%H:%M} UTC"


def format_number(value: float, lang: str, *, decimals: int = 0) -> str:
    """``1,234,567`` (en), ``1.234.567`` (el), ``1 234 567`` (sv, ru); decimals rounded."""
    decimal, group = _SEPARATORS[_lang(lang)]
    text = f"{abs(value):,.{decimals}f}"
    whole, _, fraction = text.partition(".")
    whole = whole.replace(",", group)
    sign = "-" if value < 0 and float(text.replace(",", "")) != 0 else ""
    return sign + whole + (decimal + fraction if fraction else "")


def format_percent(value: float, lang: str, *, decimals: int = 1) -> str:
    """A share as a percentage in the language's style (``12.5%``, ``12,5 %`` in sv and ru)."""
    number = format_number(value * 100, lang, decimals=decimals)
    return f"{number}\u00a0%" if _lang(lang) in ("sv", "ru", "el") else f"{number}%"

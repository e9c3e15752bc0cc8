"""Translations from gettext ``.po`` catalogs in ``consentkit/locales/`` (en, el, sv, ru).

The catalogs are plain gettext files a translator edits with any PO editor; consentkit
reads them directly (msgid/msgstr pairs, no compilation step). Kazakh falls back to
Russian, then anything missing falls back to English, then to the message id.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cache
from importlib import resources

__all__ = ["LANGUAGES", "catalog", "fallbacks", "translator"]

LANGUAGES = ("en", "el", "sv", "ru")
_FALLBACK = {"kk": "ru"}


@cache
def catalog(lang: str) -> dict[str, str]:
    """The msgid -> msgstr pairs of one language (empty if there is no catalog)."""
    source = resources.files("consentkit").joinpath("locales", f"{lang}.po")
    if not source.is_file():
        return {}
    return _parse(source.read_text("utf-8"))


def fallbacks(lang: str) -> tuple[str, ...]:
    """The languages a text for ``lang`` is looked up in, in order (``kk`` → ``kk``, ``ru``, ``en``)."""
    return tuple(dict.fromkeys((lang, *((_FALLBACK[lang],) if lang in _FALLBACK else ()), "en")))


def translator(lang: str) -> Callable[[str], str]:
    """A ``_`` function for ``lang`` with the fallbacks described above."""
    chain = [catalog(each) for each in fallbacks(lang)]

    def translate(message_id: str) -> str:
        for entries in chain:
            text = entries.get(message_id)
            if text:
                return text
        return message_id

    return translate


def _parse(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    key: list[str] | None = None
    value: list[str] | None = None
    current: list[str] | None = None
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("msgid "):
            if key is not None and value is not None:
                entries["".join(key)] = "".join(value)
            key, value = [_unquote(stripped[6:])], None
            current = key
        elif stripped.startswith("msgstr "):
            value = [_unquote(stripped[7:])]
            current = value
        elif stripped.startswith('"') and current is not None:
            current.append(_unquote(stripped))
    if key is not None and value is not None:
        entries["".join(key)] = "".join(value)
    entries.pop("", None)
    return entries


def _unquote(text: str) -> str:
    value = ast.literal_eval(text)
    return value if isinstance(value, str) else ""

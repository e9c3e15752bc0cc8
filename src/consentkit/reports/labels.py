"""Report labels and vocabulary names from the gettext catalogs, in the report's language.

Every ``report:<key>`` message of the English catalog is a label; templates read them as
``L["key"]`` (a missing one fails the render under ``StrictUndefined``). Vocabulary ids
(purposes, categories, recipient types) are shown through ``vocab:<id>``; an id a pack
adds without a translation shows as itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from consentkit.i18n import LANGUAGES, catalog, translator

__all__ = ["fill", "names", "page_language", "report_labels", "vocabulary"]

_FALLBACK = {"kk": "ru"}


def page_language(lang: str) -> str:
    """The language a report is written in: the one asked for, Kazakh → Russian, else English."""
    lang = _FALLBACK.get(lang, lang)
    return lang if lang in LANGUAGES else "en"


def report_labels(lang: str) -> dict[str, str]:
    """Every report label in ``lang`` (with the catalog fallbacks of :mod:`consentkit.i18n`)."""
    _ = translator(lang)
    return {key[len("report:"):]: _(key) for key in catalog("en") if key.startswith("report:")}


def vocabulary(lang: str) -> Callable[[str], str]:
    """``name("police")`` → ``"полиция"``; unknown ids come back unchanged."""
    _ = translator(lang)

    def name(code: str) -> str:
        text = _(f"vocab:{code}")
        return code if text == f"vocab:{code}" else text

    return name


def names(codes: Iterable[str], name: Callable[[str], str]) -> list[str]:
    """Translated names of ``codes``, in the order given."""
    return [name(code) for code in codes]


def fill(template: str, values: Mapping[str, object]) -> str:
    """Put values into a label's ``{placeholders}`` (labels come from catalogs, not users)."""
    text = template
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text

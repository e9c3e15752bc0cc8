"""Third parties in free text: the subject's copy must not disclose other people (GDPR
Art. 15(4); 152-FZ art. 14(8)(4)), so every free text shown to the subject goes through
the PII detector of :mod:`consentkit.pseudonym.detect` first.

The detector (presidio and its recognisers) is imported on first use only. Where it is
not installed, free text is withheld rather than shown unredacted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["WITHHELD", "redactor"]

#: What replaces a free text when the detector is unavailable.
WITHHELD = "[…]"


def redactor(lang: str, known_names: Sequence[str]) -> Callable[[str], str]:
    """A function that redacts other people's names (``known_names`` and those the detector finds)."""
    names = [n for n in dict.fromkeys(known_names) if n and n.strip()]

    def redact(text: str) -> str:
        try:
            from consentkit.pseudonym.detect import get_detector  # noqa: PLC0415 - presidio loads lazily
        except ImportError:
            return WITHHELD
        result: str = get_detector().redact(text, lang=lang, known_names=names).text
        return result

    return redact

"""Reason and obligation texts in the staff's language, from editable gettext catalogs."""

from __future__ import annotations

from typing import Any

from consentkit.i18n import translator

__all__ = ["localise"]


def localise(decision_json: dict[str, Any], lang: str) -> dict[str, Any]:
    """Replace the English reason texts of a decision's JSON with ``lang`` ones (codes stay)."""
    _ = translator(lang)
    data = dict(decision_json)
    data["reasons"] = {c: _(f"reason:{code}") for c, code in data["denied"].items()}
    data["lang"] = lang
    return data

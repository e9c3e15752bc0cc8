"""Dates and numbers in each report language, and the label catalogs' completeness."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from consentkit.i18n import catalog
from consentkit.reports.formats import format_date, format_datetime, format_number, format_percent
from consentkit.reports.labels import report_labels, vocabulary

TEMPLATES = Path(__file__).parents[2] / "templates"


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "2 March 2026"), ("el", "2 Μαρτίου 2026"), ("sv", "2 mars 2026"), ("ru", "2 марта 2026 г."),
    ("kk", "2 марта 2026 г."), ("xx", "2 March 2026"),
])
def test_dates(lang: str, text: str) -> None:
    assert format_date(date(2026, 3, 2), lang) == text
    assert format_date("2026-03-02T23:59:00.000000Z", lang) == text


def test_times_and_empty_values() -> None:
    assert format_datetime("2026-03-04T22:30:00.000000Z", "sv") == "4 mars 2026 22:30 UTC"
    assert format_date(None, "en") == "" and format_datetime("", "en") == ""


@pytest.mark.parametrize(("lang", "whole", "decimal"), [
    ("en", "1,234,567", "12.50"), ("el", "1.234.567", "12,50"), ("sv", "1\u00a0234\u00a0567", "12,50"),
    ("ru", "1\u00a0234\u00a0567", "12,50"),
])
def test_numbers(lang: str, whole: str, decimal: str) -> None:
    assert format_number(1234567, lang) == whole
    assert format_number(12.5, lang, decimals=2) == decimal
    assert format_number(-3, lang) == "-3"


def test_percent() -> None:
    assert format_percent(0.125, "en") == "12.5%"
    assert format_percent(0.125, "ru") == "12,5\u00a0%"


def test_every_label_is_translated_in_every_language() -> None:
    english = report_labels("en")
    assert len(english) > 150
    for lang in ("el", "sv", "ru"):
        entries = catalog(lang)
        missing = [k for k in english if not entries.get(f"report:{k}")]
        assert not missing, (lang, missing)
        untranslated = [k for k in english if entries[f"report:{k}"] == english[k] and not k.startswith("unit")]
        # a few labels are the same word in Swedish ("Status", "Period", "Form"...)
        assert len(untranslated) <= 8, (lang, untranslated)
    for lang in ("en", "el", "sv", "ru"):
        name = vocabulary(lang)
        assert all(name(code) != code or lang == "en" for code in ("police", "treatment", "case-notes"))


def test_every_label_a_template_uses_exists() -> None:
    used = set()
    for template in TEMPLATES.glob("report-*.j2"):
        text = template.read_text("utf-8")
        used |= set(re.findall(r"L\[\"([a-z0-9:.-]+)\"\]", text)) | set(re.findall(r"L\.([a-z_]+)\b", text))
    assert used and not used - set(report_labels("en"))

"""Every report in every language and format, checked by content; escaping, strict
variables, the sandbox for user templates, the JSON schema, CSV and PDF."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from consentkit.errors import ConfigurationError, InvalidInputError
from consentkit.kit import ConsentKit
from consentkit.reports.environment import escape_markdown, render
from consentkit.reports.formats import format_date
from consentkit.reports.labels import report_labels, vocabulary
from consentkit.reports.output import render_report
from tests.reports.conftest import HOSTILE_NAME, World

LANGS = ("en", "el", "sv", "ru", "kk")
TEXT_FORMATS = ("html", "md", "json", "csv")
SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report-schema.json").read_text("utf-8"))
HAS_WEASYPRINT = importlib.util.find_spec("weasyprint") is not None

SUBJECT_SECTIONS = ("data-held", "purposes", "recipients", "disclosures", "consents", "retention", "rights",
                    "authority", "source", "automated", "transfers", "access-log")
DPO_SECTIONS = ("integrity", "trends", "consent-stats", "disclosure-stats", "overrides", "denials", "sar-register",
                "erasures", "anomalies", "retention-due")
ROPA_SECTIONS = ("ropa-a", "ropa-b", "ropa-c", "ropa-d", "ropa-e", "ropa-f", "ropa-g")


def _render(world: World, kind: str, lang: str, fmt: str, org: Path) -> str | bytes:
    if kind == "subject":
        return world.sam.report_subject(world.anna, lang=lang, fmt=fmt, organisation=org).content
    if kind == "dpo":
        return world.dora.report_dpo(date(2026, 3, 1), date(2026, 3, 6), lang=lang, fmt=fmt, organisation=org).content
    return world.dora.report_ropa(lang=lang, fmt=fmt, organisation=org).content


def _shown(text: str, fmt: str) -> str:
    return escape_markdown(text) if fmt == "md" else text.replace("&", "&amp;").replace("<", "&lt;") \
        .replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")


def _expected(kind: str, lang: str) -> tuple[list[str], list[str]]:
    """Section titles (labels) and data the report must show in ``lang``."""
    labels, name = report_labels(lang), vocabulary(lang)
    if kind == "subject":
        titles = [labels[k] for k in SUBJECT_SECTIONS] + [labels["title-subject"], labels["confirmation"]]
        data = ["Anna Example", "+30 210 000 0000", "okana", format_date("2026-03-03", lang),
                format_date("1990-05-04", lang), name("treatment-provider"), name("emergency-care"),
                "GDPR Art. 6(1)(d), Art. 9(2)(c)", "GDPR Art. 12(3)", format_date("2026-04-02", lang)]
        return titles, data
    if kind == "dpo":
        titles = [labels[k] for k in DPO_SECTIONS] + [labels["title-dpo"], labels["intact"]]
        data = ["vital-interests", "child-abuse-report", "GR-2026-17", "suspected neglect of a child",
                format_date("2026-01-26", lang), name("law-enforcement")]
        return titles, data
    titles = [labels[k] for k in ROPA_SECTIONS] + [labels["title-ropa"]]
    data = ["Municipality of Example, social services", "Addiction care case files", "adequacy decision (EEA)",
            "Five years after the last entry.", labels["security:audit-chain"], name("care-coordination"),
            "Integritetsskyddsmyndigheten (IMY)"]
    return titles, data


@pytest.mark.parametrize("kind", ["subject", "dpo", "ropa"])
def test_every_report_in_every_language_and_format(world: World, org_file: Path, kind: str) -> None:
    world.sam.checkpoint()
    validator = Draft202012Validator(SCHEMA)
    for lang in LANGS:
        page_lang = "ru" if lang == "kk" else lang
        titles, data = _expected(kind, page_lang)
        for fmt in TEXT_FORMATS:
            out = _render(world, kind, lang, fmt, org_file)
            assert isinstance(out, str)
            assert "report:" not in out and "vocab:" not in out, (lang, fmt)
            if fmt in ("html", "md"):
                missing = [t for t in [*titles, *data] if _shown(t, fmt) not in out]
                assert not missing, (kind, lang, fmt, missing)
                if fmt == "html":
                    assert out.startswith("<!DOCTYPE html>") and f'<html lang="{page_lang}">' in out
                    assert "@media print" in out and "<script" not in out and "src=" not in out
            elif fmt == "json":
                model = json.loads(out)
                errors = [e.message for e in validator.iter_errors(model)]
                assert not errors, (kind, lang, errors[:3])
                assert model["lang"] == page_lang
            else:
                rows = list(csv.reader(io.StringIO(out)))
                assert len(rows) >= 2, (kind, lang)  # a header and data


@pytest.mark.skipif(not HAS_WEASYPRINT, reason="the pdf extra (WeasyPrint) is not installed")
@pytest.mark.parametrize("kind", ["subject", "dpo", "ropa"])
def test_pdf_in_every_language(world: World, org_file: Path, tmp_path: Path, kind: str) -> None:
    for lang in ("en", "el", "sv", "ru"):
        pdf = _render(world, kind, lang, "pdf", org_file)
        assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-") and len(pdf) > 2000
    out = tmp_path / "out"
    out.mkdir()
    world.sam.report_subject(world.anna, fmt="pdf", out=out / "a.pdf")
    assert (out / "a.pdf").read_bytes().startswith(b"%PDF-")


def test_pdf_without_the_extra_says_what_to_install(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(ConfigurationError, match=r"install consentkit\[pdf\]"):
        world.sam.report_subject(world.anna, fmt="pdf")


def test_hostile_name_renders_inertly(world: World) -> None:
    html = world.sam.report_subject(world.eve, fmt="html").content
    assert isinstance(html, str)
    assert "<script>" not in html and "alert(1)</script>" not in html
    assert "Eve &lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} [x](javascript:1)" in html
    md = world.sam.report_subject(world.eve, fmt="md").content
    assert isinstance(md, str)
    assert r"Eve \<script\>alert(1)\</script\> {{ 7\*7 }} \[x\](javascript:1)" in md
    markdown_it = pytest.importorskip("markdown_it")
    as_html = markdown_it.MarkdownIt("commonmark").render(md)
    assert "<script" not in as_html and 'href="javascript' not in as_html and "{{ 7*7 }}" in as_html
    model = json.loads(world.sam.report_subject(world.eve, fmt="json").content)
    assert model["data_held"][0]["items"][0]["value"] == HOSTILE_NAME  # JSON carries the data as data


def test_missing_template_variable_fails_loudly() -> None:
    labels = report_labels("en")
    with pytest.raises(ConfigurationError, match=r"report-ropa\.html\.j2 failed to render \(UndefinedError\)"):
        render("report-ropa.html.j2", {"r": {"lang": "en", "generated_text": "x"}, "L": labels})
    model = {"lang": "en", "report": "ropa"}
    with pytest.raises(ConfigurationError, match="UndefinedError"):
        render_report("ropa", model, "md")


def test_user_templates_override_and_are_sandboxed(world: World, org_file: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, open_as: Any) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report-ropa.html.j2").write_text("<p>{{ L['title-ropa'] }}: {{ r.activities | length }} "
                                                "{{ r.controller.name }}</p>", "utf-8")
    (folder / "report-dpo.html.j2").write_text("{{ r.__class__.__mro__[1].__subclasses__() }}", "utf-8")
    (folder / "report-subject.html.j2").write_text("{{ r.nothing_here }}", "utf-8")
    monkeypatch.setenv("CONSENTKIT_TEMPLATES", str(folder))
    dora: ConsentKit = open_as("dora")
    out = dora.report_ropa(fmt="html", organisation=org_file).content
    assert out == "<p>Record of processing activities: 1 Municipality of Example, social services</p>"
    with pytest.raises(ConfigurationError, match=r"failed to render \(SecurityError\)"):
        dora.report_dpo(date(2026, 3, 1), date(2026, 3, 6), fmt="html")
    with pytest.raises(ConfigurationError, match=r"failed to render \(UndefinedError\)"):
        dora.report_subject(world.anna, fmt="html")
    # a template the user did not override still comes from the shipped folder
    assert str(dora.report_ropa(fmt="md", lang="sv").content).startswith("# Register över behandlingar")


def test_csv_sections_are_spreadsheet_safe(world: World) -> None:
    world.sam.check(world.anna, recipient="healthcare", purpose="emergency-care", categories=["identity"],
                    override="vital-interests", justification="=HYPERLINK(\"http://x\",\"click\")")
    out = world.dora.report_dpo(date(2026, 3, 1), date(2026, 3, 6), fmt="csv").content
    assert isinstance(out, str)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["override_id"] for r in rows} == {"vital-interests", "child-abuse-report"}
    assert "'=HYPERLINK(\"http://x\",\"click\")" in {r["justification"] for r in rows}
    requests = list(csv.DictReader(io.StringIO(str(world.dora.report_dpo(
        date(2026, 3, 1), date(2026, 3, 6), fmt="csv", section="requests").content))))
    assert {(r["subject_id"], r["overdue"]) for r in requests} == {(world.anna, "False"), (world.olga, "True")}
    with pytest.raises(InvalidInputError, match="--section: choose one of"):
        world.dora.report_dpo(date(2026, 3, 1), date(2026, 3, 6), fmt="csv", section="nope")
    consents = list(csv.DictReader(io.StringIO(str(world.sam.report_subject(world.anna, fmt="csv",
                                                                            section="consents").content))))
    assert [c["status"] for c in consents] == ["active", "withdrawn"]

"""Turning a report's view-model into a file: HTML, Markdown, JSON, CSV or PDF.

* HTML and Markdown come from templates (``report-<kind>.html.j2`` / ``.md.j2``), with
  the labels of the report's language as ``L`` and the model as ``r``.
* JSON is the model itself; its shape is documented in ``docs/report-schema.json``.
* CSV is one tabular section (``--section``), spreadsheet-safe: a cell that a spreadsheet
  would run as a formula is prefixed with ``'`` (OWASP, "CSV Injection").
* PDF is the HTML laid out by WeasyPrint, an optional extra (``consentkit[pdf]``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup

from consentkit.errors import ConfigurationError, InvalidInputError
from consentkit.reports.charts import line_chart
from consentkit.reports.labels import report_labels

__all__ = ["FORMATS", "KINDS", "SECTIONS", "render_report"]

KINDS = ("subject", "dpo", "ropa")
FORMATS = ("html", "md", "json", "csv", "pdf")


def _join(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(_join(v) for v in value)
    if isinstance(value, dict):  # a spreadsheet cell a person reads: "period: 5 years, citation: ..."
        return value.get("id") or ", ".join(f"{k}: {_join(v)}" for k, v in value.items() if v not in (None, "", []))
    if value is None:
        return ""
    return str(value)


#: The tabular sections of each report, the first being the default for ``--format csv``.
SECTIONS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "subject": {
        "disclosures": ("disclosures", ("date", "recipient_type", "recipient_id", "purpose", "categories", "basis",
                                        "override", "decision")),
        "consents": ("consents", ("consent_id", "effect", "status", "valid_from", "valid_until", "recipients",
                                  "purposes", "categories", "grantor", "form", "receipt_ids")),
        "access-log": ("access_log", ("action", "count", "first_text", "last_text")),
    },
    "dpo": {
        "overrides": ("overrides", ("used_at", "disclosure_id", "subject_id", "jurisdiction", "override_id",
                                    "mandatory", "actor", "approver", "justification", "reference", "review_status",
                                    "review_outcome", "reviewed_by", "subject_informed", "inform_by",
                                    "inform_overdue")),
        "consents": ("consents", ("jurisdiction", "purpose", "granted", "refused", "withdrawn", "revoked",
                                  "expired")),
        "disclosures": ("disclosures", ("basis", "decision", "recipient_type", "count")),
        "denials": ("denials", ("outcome", "purpose", "recipient_type", "count")),
        "requests": ("requests.rows", ("request_id", "subject_id", "jurisdiction", "received_on", "due_on",
                                       "extended_to", "status", "closed_on", "outcome", "overdue", "late")),
        "erasures": ("lifecycle.erasures", ("subject_id", "date", "ground")),
        "retention-due": ("retention_due", ("jurisdiction", "rule", "cutoff", "subjects", "sample")),
    },
    "ropa": {
        "activities": ("activities", ("id", "name", "jurisdiction", "purpose_ids", "data_subjects", "category_ids",
                                      "recipient_ids", "transfers", "retention", "security_measures")),
    },
}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _csv(kind: str, model: Mapping[str, Any], section: str | None) -> str:
    sections = SECTIONS[kind]
    name = section or next(iter(sections))
    if name not in sections:
        raise InvalidInputError(f"--section: choose one of {', '.join(sections)} for the {kind} report")
    path, columns = sections[name]
    items: Any = model
    for key in path.split("."):
        items = items[key]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for item in items:
        cells = [_join(item.get(c)) for c in columns]
        writer.writerow([f"'{c}" if c.startswith(_FORMULA) else c for c in cells])
    return buffer.getvalue()


def _charts(model: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Markup]:
    trends = model.get("trends")
    if not trends:
        return {}
    series = trends["series"]
    names = trends["series_names"]
    return {
        "activity": line_chart(labels["trends"], trends["bucket_texts"],
                               {k: series[k] for k in ("granted", "withdrawn", "disclosed")}, names),
        "exceptions": line_chart(labels["trends"], trends["bucket_texts"],
                                 {k: series[k] for k in ("overrides", "denied")}, names),
    }


def _pdf(html: str) -> bytes:
    try:
        import weasyprint  # noqa: PLC0415 - optional extra, imported only for PDF output
    except ImportError:
        raise ConfigurationError("PDF output needs the optional extra: install consentkit[pdf] "
                                 "(pip install 'consentkit[pdf]'), or choose --format html") from None
    document: bytes = weasyprint.HTML(string=html).write_pdf()
    return document


def render_report(kind: str, model: Mapping[str, Any], fmt: str, *, templates_dir: Path | None = None,
                  section: str | None = None) -> str | bytes:
    """Render a report's model as ``fmt``; text formats give ``str``, PDF gives ``bytes``."""
    if kind not in KINDS:
        raise InvalidInputError(f"report: choose one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise InvalidInputError(f"--format: choose one of {', '.join(FORMATS)}")
    if fmt == "json":
        return json.dumps(model, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(kind, model, section)
    labels = report_labels(str(model["lang"]))
    context: dict[str, object] = {"r": model, "L": labels, "charts": _charts(model, labels) if fmt != "md" else {}}
    name = f"report-{kind}.{'md' if fmt == 'md' else 'html'}.j2"
    from consentkit.reports.environment import render  # noqa: PLC0415 - jinja2 costs ~30 ms of every command's start-up

    text = render(name, context, templates_dir)
    return _pdf(text) if fmt == "pdf" else text

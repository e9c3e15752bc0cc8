"""``consentkit report``: subject access, the DPO's review and records of processing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from consentkit.cli._app import App, common_options, pass_app

if TYPE_CHECKING:
    from consentkit.kit._reports import Report

F = TypeVar("F", bound=Callable[..., Any])

_FORMATS = ("html", "md", "json", "csv", "pdf")
_LANGS = ("en", "el", "sv", "ru", "kk")


def _output_options(command: F) -> F:
    options = (
        click.option("--format", "fmt", type=click.Choice(_FORMATS), default="html", show_default=True,
                     help="html (self-contained, prints well), md, json (docs/report-schema.json), csv "
                          "(one table, see --section) or pdf (needs consentkit[pdf])."),
        click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write here (atomically, mode 0600) instead of standard output."),
        click.option("--section", help="With --format csv: which table (default: the report's main one)."),
        click.option("--org", "organisation", envvar="CONSENTKIT_ORGANISATION",
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Organisation configuration (env CONSENTKIT_ORGANISATION; see docs/reports.md)."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _deliver(app: App, report: Report) -> None:
    """Print the report, or with -o a one-line summary of what was written.

    Without -o under the global --json: a json report is printed as it is (it is the JSON
    document asked for); any other text format comes inside the summary, as ``content``.
    """
    if report.path is not None:
        app.emit(report.to_json(), human=f"{report.kind} report ({report.format}, {report.lang}) written to "
                                         f"{report.path} (audit entry {report.audit_id})")
        return
    if isinstance(report.content, bytes):
        from consentkit.errors import InvalidInputError

        raise InvalidInputError("--format pdf: give -o FILE (a PDF is not printed to the terminal)")
    if app.as_json and report.format != "json":
        app.emit({**report.to_json(), "content": report.content}, human="")
        return
    click.echo(report.content, nl=False)


@click.group()
def report() -> None:
    """Reports from templates, in en, el, sv or ru (kk reads ru); each one is audited."""


@report.command("subject")
@click.argument("subject_id")
@click.option("--lang", type=click.Choice(_LANGS), help="Language [default: the subject's].")
@click.option("--request", "request_id", help="The access request answered [default: the subject's oldest open one].")
@click.option("--received", help="Date the request was received (YYYY-MM-DD), when it is not in the register.")
@_output_options
@common_options
@pass_app
def report_subject(app: App, subject_id: str, lang: str | None, request_id: str | None, received: str | None,
                   fmt: str, out: Path | None, section: str | None, organisation: Path | None) -> None:
    """The subject access report (GDPR Art. 15; 152-FZ art. 14(7)) for one client."""
    from consentkit.clock import parse_date

    report_ = app.kit().report_subject(
        subject_id, lang=lang, fmt=fmt, out=out, request_id=request_id,
        received=parse_date(received, field_name="--received") if received else None,
        organisation=organisation, section=section)
    _deliver(app, report_)
    count = report_.summary.get("free_texts_to_read", 0)
    if count:
        click.echo(f"consentkit: note: this copy holds {count} free-text passage(s) (reasons the client gave): "
                   "read them for names of other people before sending it; names consentkit does not hold "
                   "are not recognised", err=True)


@report.command("dpo")
@click.option("--from", "start", required=True, help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last day of the period (YYYY-MM-DD), included.")
@click.option("--lang", type=click.Choice(_LANGS), default="en", show_default=True, help="Language.")
@_output_options
@common_options
@pass_app
def report_dpo(app: App, start: str, end: str, lang: str, fmt: str, out: Path | None, section: str | None,
               organisation: Path | None) -> None:
    """The DPO's review of a period: consents, disclosures, overrides, requests, integrity, anomalies."""
    from consentkit.clock import parse_date

    report_ = app.kit().report_dpo(parse_date(start, field_name="--from"), parse_date(end, field_name="--to"),
                                   lang=lang, fmt=fmt, out=out, organisation=organisation, section=section)
    _deliver(app, report_)


@report.command("ropa")
@click.option("--lang", type=click.Choice(_LANGS), default="en", show_default=True, help="Language.")
@_output_options
@common_options
@pass_app
def report_ropa(app: App, lang: str, fmt: str, out: Path | None, section: str | None,
                organisation: Path | None) -> None:
    """Records of processing activities (GDPR Art. 30(1)(a)-(g)) from the packs and --org."""
    report_ = app.kit().report_ropa(lang=lang, fmt=fmt, out=out, organisation=organisation, section=section)
    _deliver(app, report_)

"""``consentkit sar``: the register of subject-access requests and their deadlines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from consentkit.cli._app import App, common_options, pass_app

if TYPE_CHECKING:
    from consentkit.storage.sar import AccessRequest


def _row(request: AccessRequest) -> dict[str, Any]:
    return {**request.__dict__, "deadline": request.deadline}


def _line(request: AccessRequest) -> str:
    closed = f" closed {request.closed_on} ({request.outcome})" if request.closed_on else ""
    return (f"{request.request_id}  {request.subject_id}  received {request.received_on}  "
            f"due {request.deadline}  {request.status}{closed}")


@click.group()
def sar() -> None:
    """Subject-access requests: record them, see what is due, close them."""


@sar.command("open")
@click.argument("subject_id")
@click.option("--received", help="Date the request arrived (YYYY-MM-DD) [default: today].")
@click.option("--channel", type=click.Choice(("written", "electronic", "in-person", "phone")), default="written",
              show_default=True, help="How the request arrived.")
@click.option("--org", "organisation", envvar="CONSENTKIT_ORGANISATION", type=click.Path(dir_okay=False,
              path_type=Path), help="Organisation configuration (public holidays for working-day deadlines).")
@common_options
@pass_app
def sar_open(app: App, subject_id: str, received: str | None, channel: str, organisation: Path | None) -> None:
    """Record a request; its due date follows the subject's pack (1 month, 10 working days...)."""
    from consentkit.clock import parse_date

    request = app.kit().open_access_request(
        subject_id, received=parse_date(received, field_name="--received") if received is not None else None,
        channel=channel, organisation=organisation)
    app.emit(_row(request), human=f"{request.request_id}: received {request.received_on}, due {request.due_on}")


@sar.command("list")
@click.option("--status", type=click.Choice(("open", "closed")), help="Only open or closed requests.")
@click.option("--subject", "subject_id", help="Only this subject's requests.")
@common_options
@pass_app
def sar_list(app: App, status: str | None, subject_id: str | None) -> None:
    """List requests, earliest deadline first."""
    from consentkit.types import check_subject_id

    requests = app.kit().access_requests(status=status,
                                         subject_id=check_subject_id(subject_id) if subject_id else None)
    app.emit([_row(r) for r in requests], human="\n".join(_line(r) for r in requests) or "no requests")


@sar.command("extend")
@click.argument("request_id")
@click.option("--org", "organisation", envvar="CONSENTKIT_ORGANISATION", type=click.Path(dir_okay=False,
              path_type=Path), help="Organisation configuration (public holidays).")
@common_options
@pass_app
def sar_extend(app: App, request_id: str, organisation: Path | None) -> None:
    """Extend the deadline once, as the pack allows (tell the subject why, before the first deadline)."""
    request = app.kit().extend_access_request(request_id, organisation=organisation)
    app.emit(_row(request), human=f"{request.request_id}: now due {request.deadline}")


@sar.command("close")
@click.argument("request_id")
@click.option("--outcome", type=click.Choice(("answered", "refused", "withdrawn")), default="answered",
              show_default=True, help="How the request ended.")
@common_options
@pass_app
def sar_close(app: App, request_id: str, outcome: str) -> None:
    """Close a request (the DPO report counts it as late if closed after its deadline)."""
    request = app.kit().close_access_request(request_id, outcome=outcome)
    app.emit(_row(request), human=f"{request.request_id}: {outcome} on {request.closed_on}")

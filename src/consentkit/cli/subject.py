"""``consentkit subject``: register, read, find, hold and erase clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from consentkit.cli._app import App, common_options, pass_app, report_error

if TYPE_CHECKING:
    from consentkit.subjects import SubjectRecord

_GROUNDS = ("request", "consent-withdrawn", "objection", "unlawful", "retention-ended",
            "legal-obligation", "court-order")


@click.group()
def subject() -> None:
    """Clients: personal fields are stored only encrypted under each client's own key."""


@subject.command("add")
@click.option("--jurisdiction", required=True, help="Policy pack: eu-gdpr, gr, se, ru, kz, us-42cfr2.")
@click.option("--name", required=True, help="Full name as the client gives it.")
@click.option("--birth-date", required=True, help="YYYY-MM-DD.")
@click.option("--national-id", help="National identifier (AMKA, personnummer, SNILS, IIN...).")
@click.option("--national-id-type", help="GR_AMKA, GR_AFM, SE_PERSONNUMMER, RU_SNILS, RU_INN, KZ_IIN... "
                                         "[default: the jurisdiction's usual one].")
@click.option("--language", help="el, sv, ru, kk or en [default: the jurisdiction's language].")
@click.option("--contact", help="Phone or e-mail.")
@click.option("--other-name", "other_names", multiple=True, help="Another name or spelling (repeatable).")
@common_options
@pass_app
def subject_add(app: App, jurisdiction: str, name: str, birth_date: str, national_id: str | None,
                national_id_type: str | None, language: str | None, contact: str | None,
                other_names: tuple[str, ...]) -> None:
    """Register a client; prints the new subject id."""
    from consentkit.clock import parse_date

    born = parse_date(birth_date, field_name="--birth-date")
    record = app.kit().add_subject(
        jurisdiction=jurisdiction, name=name, birth_date=born, national_id=national_id,
        national_id_type=national_id_type, language=language, contact=contact, other_names=other_names,
    )
    app.emit({"subject_id": record.subject_id, "jurisdiction": record.jurisdiction,
              "language": record.language}, human=record.subject_id)


@subject.command("show")
@click.argument("subject_id")
@common_options
@pass_app
def subject_show(app: App, subject_id: str) -> None:
    """Show one client (decrypted; the access is audited)."""
    record = app.kit().subject(subject_id)
    app.emit(record.public_view(), human=_describe(record))


@subject.command("list")
@click.option("--jurisdiction", help="Only this jurisdiction.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, type=click.IntRange(0, 2**63 - 1))
@common_options
@pass_app
def subject_list(app: App, jurisdiction: str | None, limit: int, offset: int) -> None:
    """List clients by id (nothing is decrypted)."""
    records = app.kit().subjects(jurisdiction=jurisdiction, limit=limit, offset=offset)
    rows = [_summary(r) for r in records]
    app.emit(rows, human="\n".join(
        f"{r['subject_id']}  {r['jurisdiction']:<9} {r['status']:<7} {'hold' if r['legal_hold'] else ''}"
        for r in rows) or "no subjects")


@subject.command("find")
@click.option("--national-id", required=True, help="The number as written on the document.")
@click.option("--national-id-type", help="Its type [default: try every known type].")
@click.option("--jurisdiction", help="Use this jurisdiction's usual identifier type.")
@common_options
@pass_app
def subject_find(app: App, national_id: str, national_id_type: str | None, jurisdiction: str | None) -> None:
    """Find clients by national ID through the keyed blind index."""
    found = app.kit().find_subjects(national_id, national_id_type=national_id_type, jurisdiction=jurisdiction)
    if not found:  # like grep: exit 1, here with the one-line message every error has
        report_error(click.get_current_context(), 1, "no client with this national ID", "NotFoundError")
    app.emit({"subject_ids": found}, human="\n".join(found))


@subject.command("hold")
@click.argument("subject_id")
@click.option("--reason", required=True, help="Why the data must be kept (stored encrypted).")
@common_options
@pass_app
def subject_hold(app: App, subject_id: str, reason: str) -> None:
    """Place a legal hold: erasure is refused until released."""
    app.kit().hold_subject(subject_id, reason=reason)
    app.emit({"subject_id": subject_id, "legal_hold": True}, human="legal hold placed")


@subject.command("release")
@click.argument("subject_id")
@common_options
@pass_app
def subject_release(app: App, subject_id: str) -> None:
    """Release a subject's legal holds."""
    released = app.kit().release_subject(subject_id)
    app.emit({"subject_id": subject_id, "released": released}, human=f"{released} hold(s) released")


@subject.command("erase")
@click.argument("subject_id")
@click.option("--ground", type=click.Choice(_GROUNDS), default="request", show_default=True,
              help="Why: the GDPR Art. 17 ground, end of retention, or a court order.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options
@pass_app
def subject_erase(app: App, subject_id: str, ground: str, yes: bool) -> None:
    """Erase a client by destroying their data key (cannot be undone).

    Refused under a legal hold. The audit trail keeps verifying afterwards.
    """
    if not yes and not _confirmed("Erasure destroys the client's key and cannot be undone. Continue?"):
        # Asked on a terminal or not: a script that pipes "n" (or nothing) must not erase anyone.
        from consentkit.errors import OperationRefusedError

        raise OperationRefusedError("not erased: answer y to the question, or give --yes")
    record = app.kit().erase_subject(subject_id, ground=ground)
    app.emit(record.public_view(), human=_describe(record))


def _confirmed(question: str) -> bool:
    """y/n on standard input (the question on stderr, so --json output stays clean); no answer is no."""
    try:
        return click.confirm(question, default=False, err=True)
    except click.Abort:
        return False


def _summary(record: SubjectRecord) -> dict[str, Any]:
    view = record.public_view()
    return {k: view[k] for k in ("subject_id", "jurisdiction", "language", "created_at", "status",
                                 "erased_at", "legal_hold")}


def _describe(record: SubjectRecord) -> str:
    view = record.public_view()
    lines = [f"{'subject':<17}{record.subject_id}",
             f"{'jurisdiction':<17}{record.jurisdiction} (language {record.language})"]
    if record.erased_at is not None:
        lines.append(f"{'status':<17}erased on {record.erased_at.date().isoformat()}: "
                     "personal fields can no longer be read")
        return "\n".join(lines)
    lines.append(f"{'status':<17}active" + ("  (legal hold)" if record.on_hold else ""))
    for key in ("name", "other_names", "birth_date", "national_id_type", "national_id", "contact"):
        value = view[key]
        if value:
            text = ", ".join(str(v) for v in value) if isinstance(value, list) else value
            lines.append(f"{key.replace('_', ' '):<17}{text}")
    return "\n".join(lines)

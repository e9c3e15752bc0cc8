"""``consentkit consent``: grant, withdraw, revoke, re-affirm and read consents."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import click

from consentkit.cli._app import App, common_options, pass_app
from consentkit.cli._options import category_option, split_values

if TYPE_CHECKING:
    from consentkit.kit._consents import ConsentView


@click.group()
def consent() -> None:
    """Consents: append-only, checked against the client's jurisdiction, withdrawable at any time."""


@consent.command("grant")
@click.option("--subject", "subject_id", required=True, help="The client's subject id.")
@click.option("--recipient", "recipients", multiple=True, required=True,
              help="Recipient TYPE or TYPE:ID (repeatable), e.g. treatment-provider:okana-athens.")
@click.option("--purpose", "purposes", multiple=True, required=True, help="Purpose (repeatable or a,b).")
@category_option
@click.option("--valid-from", help="Start (ISO 8601) [default: now].")
@click.option("--valid-until", help="End (ISO 8601): a date means through the end of that day (UTC), "
              "a date-time with offset that instant.")
@click.option("--grantor", type=click.Choice(("self", "guardian", "representative")), default="self",
              show_default=True)
@click.option("--grantor-name", help="Name of the guardian or representative (stored encrypted).")
@click.option("--form", type=click.Choice(("written", "electronic", "verbal")), default="written", show_default=True)
@click.option("--witness", help="Witness of a verbal consent (stored encrypted).")
@click.option("--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scan of the signed form: its SHA-256 is recorded, the file is not stored.")
@click.option("--notice-version", help="Version of the information notice shown.")
@click.option("--notice-language", help="Language of the notice shown (el, sv, ru, kk, en).")
@click.option("--in-custody", is_flag=True, help="Captured while the client was in custody.")
@click.option("--interpreter", help="Language interpreted into, if an interpreter was used.")
@click.option("--capacity-assessed", is_flag=True, help="The client's capacity to consent was assessed.")
@click.option("--irrevocable-until", help="Irrevocable through this date (or until this date-time), where the "
              "pack allows it.")
@click.option("--attest", "attest", multiple=True,
              help="An element present on the signed form, e.g. signature, identity-document (repeatable).")
@click.option("--refuse", is_flag=True, help="Record an explicit refusal: never share this.")
@click.option("--supersedes", help="Consent id this one replaces.")
@common_options
@pass_app
def consent_grant(app: App, subject_id: str, recipients: tuple[str, ...], purposes: tuple[str, ...],
                  categories: tuple[str, ...], valid_from: str | None, valid_until: str | None, grantor: str,
                  grantor_name: str | None, form: str, witness: str | None, evidence: Path | None,
                  notice_version: str | None, notice_language: str | None, in_custody: bool,
                  interpreter: str | None, capacity_assessed: bool, irrevocable_until: str | None,
                  attest: tuple[str, ...], refuse: bool, supersedes: str | None) -> None:
    """Record a consent; refused with every missing element and its citation if the pack says no."""
    from consentkit.clock import parse_instant
    from consentkit.consent.model import CaptureContext

    digest = hashlib.sha256(evidence.read_bytes()).hexdigest() if evidence else None
    view = app.kit().grant_consent(
        subject_id, recipients=split_values(recipients), purposes=split_values(purposes),
        categories=split_values(categories),
        valid_from=parse_instant(valid_from, field_name="--valid-from") if valid_from else None,
        valid_until=parse_instant(valid_until, field_name="--valid-until", end_of_day=True) if valid_until else None,
        grantor=grantor, grantor_name=grantor_name, form=form, witness=witness, evidence_sha256=digest,
        notice_version=notice_version, notice_language=notice_language,
        context=CaptureContext(in_custody, interpreter, capacity_assessed),
        irrevocable_until=parse_instant(irrevocable_until, field_name="--irrevocable-until",
                                        end_of_day=True)
        if irrevocable_until else None,
        attest=split_values(attest), refuse=refuse, supersedes=supersedes)
    _emit_recorded(app, view)


@consent.command("withdraw")
@click.argument("consent_id")
@click.option("--reason", required=True, help="Why (stored encrypted).")
@click.option("--form", type=click.Choice(("written", "electronic", "verbal")),
              help="How the withdrawal was given (some packs require writing).")
@common_options
@pass_app
def consent_withdraw(app: App, consent_id: str, reason: str, form: str | None) -> None:
    """The client withdraws a consent (forward only); lists the recipients to tell."""
    result = app.kit().withdraw_consent(consent_id, reason=reason, form=form)
    _emit_withdrawal(app, result.consent_id, result.kind, result.at.isoformat(), result.recipients_to_tell)


@consent.command("revoke")
@click.argument("consent_id")
@click.option("--reason", required=True, help="Why (stored encrypted).")
@click.option("--by", type=click.Choice(("guardian", "representative", "court")), default="guardian",
              show_default=True)
@click.option("--form", type=click.Choice(("written", "electronic", "verbal")))
@common_options
@pass_app
def consent_revoke(app: App, consent_id: str, reason: str, by: str, form: str | None) -> None:
    """A guardian, representative or court revokes a consent (forward only)."""
    result = app.kit().revoke_consent(consent_id, reason=reason, by=by, form=form)
    _emit_withdrawal(app, result.consent_id, result.kind, result.at.isoformat(), result.recipients_to_tell)


@consent.command("reaffirm")
@click.argument("consent_id")
@common_options
@pass_app
def consent_reaffirm(app: App, consent_id: str) -> None:
    """The client re-affirms a consent (e.g. one a guardian gave before they came of age)."""
    view = app.kit().reaffirm_consent(consent_id)
    app.emit(view.to_json(), human=f"{consent_id}  {view.state.status.value}")


@consent.command("list")
@click.option("--subject", "subject_id", required=True)
@click.option("--at", help="State at this time (ISO 8601) [default: now].")
@common_options
@pass_app
def consent_list(app: App, subject_id: str, at: str | None) -> None:
    """List a client's consents with their state."""
    from consentkit.clock import parse_instant

    views = app.kit().consents(subject_id, at=parse_instant(at, field_name="--at") if at else None)
    app.emit([v.to_json() for v in views], human="\n".join(_line(v) for v in views) or "no consents")


@consent.command("show")
@click.argument("consent_id")
@common_options
@pass_app
def consent_show(app: App, consent_id: str) -> None:
    """Show one consent with its history."""
    view = app.kit().consent(consent_id)
    data = view.to_json()
    width = max(len(key) for key in data)
    lines = [f"{key.ljust(width)}  {_text(value)}" for key, value in data.items() if key != "history"]
    lines += ["history:", *_history_lines(view.history())]
    app.emit(data, human="\n".join(lines))


@consent.command("history")
@click.argument("consent_id")
@common_options
@pass_app
def consent_history(app: App, consent_id: str) -> None:
    """The consent's append-only history."""
    rows = app.kit().consent(consent_id).history()
    app.emit(rows, human="\n".join(_history_lines(rows)))


def _history_lines(rows: list[dict[str, str | None]]) -> list[str]:
    return [f"{str(r['at'])[:19]}  {r['kind']:<11} by {r['by']} (recorded by {r['actor']})" for r in rows]


def _text(value: object) -> str:
    """A field of `consent show` as text: lists joined with commas, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _line(view: ConsentView) -> str:
    g = view.grant
    flag = " (re-affirmation due)" if view.state.reaffirm_needed else ""
    return (f"{g.consent_id}  {view.state.status.value:<10} {g.effect.value:<7} "
            f"{','.join(str(r) for r in g.scope.recipients)}  {','.join(sorted(g.scope.purposes))}  "
            f"{','.join(sorted(g.scope.categories))}{flag}")


def _emit_withdrawal(app: App, consent_id: str, kind: str, at: str,
                     recipients: tuple[dict[str, str | None], ...]) -> None:
    human = [f"{consent_id} {kind} at {at} (earlier disclosures stay lawful)"]
    if recipients:
        human.append("tell these recipients, who received data under it:")
        human += [f"  {r['recipient_type']}{':' + str(r['recipient_id']) if r['recipient_id'] else ''} "
                  f"(last {str(r['last_disclosed'])[:10]})" for r in recipients]
    app.emit({"consent_id": consent_id, "status": kind, "at": at, "recipients_to_tell": list(recipients)},
             human="\n".join(human))


# -- receipts and FHIR R5 interop (consentkit.kit._interop) -----------------------------------

_MAX_RECEIPT_BYTES = 64 * 1024


@consent.command("receipt")
@click.argument("consent_id")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write receipt.jwt, receipt.html and receipt.txt into this folder.")
@click.option("--format", "fmt", type=click.Choice(("jwt", "html", "text")), default="jwt", show_default=True,
              help="What to print (without --out).")
@common_options
@pass_app
def consent_receipt(app: App, consent_id: str, out_dir: Path | None, fmt: str) -> None:
    """Issue a signed consent receipt (EdDSA JWT, Kantara v1.1) in the client's language."""
    receipt = app.kit().consent_receipt(consent_id, out_dir=out_dir)
    if out_dir is not None:
        app.emit(receipt.to_json(), human="\n".join([f"receipt {receipt.receipt_id} (key {receipt.kid})",
                                                     *(f"written to {f}" for f in receipt.files)]))
        return
    app.emit(receipt.to_json(), human={"jwt": receipt.token, "html": receipt.html, "text": receipt.text}[fmt]
             .rstrip("\n"))


@consent.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--public-key", "public_keys", multiple=True,
              help="Verifier key (name+id+key, from `consentkit keys public`) or a signing-*.pub file; "
                   "repeatable. Offline: checks the signature only, without the database.")
@common_options
@pass_app
def consent_verify(app: App, file: Path, public_keys: tuple[str, ...]) -> None:
    """Verify a receipt FILE (receipt.jwt, or - for stdin): signature, key id, issuer and,
    with the database, the consent's current status. Exit code 4 if it does not verify."""
    token = _read_limited(file, _MAX_RECEIPT_BYTES, "receipt").decode("ascii", "replace").strip()
    if public_keys:
        from consentkit.cli.audit import _verifiers
        from consentkit.clock import SystemClock
        from consentkit.consent.receipts import verify_offline

        check = verify_offline(token, _verifiers(app, public_keys), SystemClock().now())
    else:
        check = app.kit().verify_receipt(token)
    app.emit(check.to_json(), human=f"{check.summary}\nreceipt {check.receipt_id} for consent {check.consent_id}, "
                                    f"issued {check.issued_at.date().isoformat()} by {check.issuer} (key {check.kid})")


@consent.command("export")
@click.argument("consent_id")
@click.option("--format", "fmt", type=click.Choice(("fhir-r5",)), default="fhir-r5", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of printing.")
@common_options
@pass_app
def consent_export(app: App, consent_id: str, fmt: str, out: Path | None) -> None:
    """Export a consent as an HL7 FHIR R5 Consent resource (JSON; no names)."""
    import json

    doc = app.kit().export_consent_fhir(consent_id)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    from consentkit.kit._files import atomic_write

    atomic_write(out, [text])
    app.emit({"consent_id": consent_id, "format": fmt, "out": str(out)}, human=f"{fmt} written to {out}")


@consent.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--subject", "subject_id", help="The client's subject id, if the document has no Patient/<id>.")
@common_options
@pass_app
def consent_import(app: App, file: Path, subject_id: str | None) -> None:
    """Record the consent a FHIR R5 Consent JSON FILE describes (checked against the client's pack)."""
    from consentkit.consent.fhir import MAX_DOCUMENT_BYTES, parse_fhir_json

    doc = parse_fhir_json(_read_limited(file, MAX_DOCUMENT_BYTES, "FHIR Consent"))
    view = app.kit().import_consent_fhir(doc, subject_id=subject_id)
    _emit_recorded(app, view)


def _read_limited(file: Path, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes of FILE (or stdin for ``-``); larger input is refused unread."""
    import sys

    from consentkit.errors import InvalidInputError

    try:
        if str(file) == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with file.open("rb") as handle:
                data = handle.read(limit + 1)
    except OSError:
        raise InvalidInputError(f"cannot read {file}") from None
    if len(data) > limit:
        raise InvalidInputError(f"{file}: larger than {limit // 1024} KiB; not a {what}")
    return data


def _emit_recorded(app: App, view: ConsentView) -> None:
    """A grant or import just recorded: its id and status (``pack`` is the pack id, as in ``check``)."""
    from consentkit.policy.model import split_ref

    app.emit({"consent_id": view.grant.consent_id, "status": view.state.status.value,
              "effect": view.grant.effect.value, "pack": split_ref(view.grant.pack_ref)[0],
              "pack_ref": view.grant.pack_ref},
             human=f"{view.grant.consent_id}  {view.state.status.value}")

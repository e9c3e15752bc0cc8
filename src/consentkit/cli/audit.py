"""``consentkit audit``: verify, checkpoint, prove, export and read the audit trail."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from consentkit.cli._app import App, common_options, pass_app

if TYPE_CHECKING:
    from consentkit.audit.checkpoint import NoteVerifier
    from consentkit.errors import AuditIntegrityError
    from consentkit.kit._audit import AuditVerification

INTEGRITY_EXIT = 4
#: Sequence numbers and sizes are 64-bit signed in both databases; larger values are a usage error.
MAX_SEQ = 2**63 - 1


@click.group()
def audit() -> None:
    """The tamper-evident audit trail (RFC 9162 Merkle tree, signed C2SP checkpoints)."""


@audit.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--trusted", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint you kept from an earlier `audit checkpoint --out`: prove the log (or the "
                   "export FILE) extends it.")
@click.option("--public-key", "public_keys", multiple=True,
              help="Verifier key (name+id+key) or a signing-*.pub file; repeatable. For FILE.")
@click.option("--deep", is_flag=True,
              help="Re-encode every stored field instead of reading the entry the database computes "
                   "(also catches edits made to the database file behind the database's back; slower).")
@common_options
@pass_app
def audit_verify(app: App, file: Path | None, trusted: Path | None, public_keys: tuple[str, ...],
                 deep: bool) -> None:
    """Verify the whole trail, or an export / proof FILE offline with only the public key.

    Exit code 4 names the first damaged entry and the kind of damage.
    """
    trusted_note = _trusted_note(trusted) if trusted else None
    if file is not None:
        _verify_file(app, file, public_keys, trusted_note)
        return
    result = app.kit().verify_audit(trusted_note=trusted_note, deep=deep)
    app.emit(_result_json(result), human=_result_text(result))
    if not result.ok:
        click.echo(f"consentkit: audit trail damaged: {result.damage.message}", err=True)  # type: ignore[union-attr]
        click.get_current_context().exit(INTEGRITY_EXIT)


@audit.command("checkpoint")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the signed checkpoint here, for the auditor to keep outside the database.")
@common_options
@pass_app
def audit_checkpoint(app: App, out: Path | None) -> None:
    """Sign a checkpoint of the log as it is now."""
    info = app.kit().checkpoint()
    if out is not None:
        from consentkit.kit._files import atomic_write

        atomic_write(out, [info.note], mode=0o644)
    app.emit(asdict(info), human=f"checkpoint at size {info.size}, root {info.root}, key {info.signer_kid}"
             + (f"\nwritten to {out}" if out else ""))


@audit.command("prove")
@click.argument("seq", type=click.IntRange(0, MAX_SEQ))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proof here [default: audit-<SEQ>.tlog-proof].")
@common_options
@pass_app
def audit_prove(app: App, seq: int, out: Path | None) -> None:
    """Write an inclusion proof (C2SP tlog-proof) for entry SEQ, verifiable offline."""
    from consentkit.kit._files import atomic_write

    text = app.kit().prove_inclusion(seq)
    target = out or Path(f"audit-{seq}.tlog-proof")
    atomic_write(target, [text], mode=0o644)
    app.emit({"seq": seq, "proof": str(target)}, human=f"inclusion proof for entry {seq} written to {target}")


@audit.command("consistency")
@click.option("--from", "old_size", required=True, type=click.IntRange(1, MAX_SEQ),
              help="Earlier tree size.")
@click.option("--to", "new_size", type=click.IntRange(1, MAX_SEQ),
              help="Later tree size [default: now].")
@common_options
@pass_app
def audit_consistency(app: App, old_size: int, new_size: int | None) -> None:
    """Print a consistency proof between two tree sizes (RFC 9162 §2.1.4)."""
    proof = app.kit().prove_consistency(old_size, new_size)
    app.emit(asdict(proof))


@audit.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@click.option("--format", "fmt", type=click.Choice(("jsonl", "fhir")), default="jsonl", show_default=True,
              help="jsonl: entries + signed checkpoints (verifiable offline); fhir: R4 AuditEvent Bundle.")
@common_options
@pass_app
def audit_export(app: App, out: Path, fmt: str) -> None:
    """Export the trail (takes a fresh signed checkpoint first)."""
    count = app.kit().export_audit(out, fmt=fmt)
    app.emit({"entries": count, "out": str(out), "format": fmt}, human=f"{count} entries written to {out}")


@audit.command("log")
@click.option("--subject", help="Only events about this subject.")
@click.option("--by", "by_actor", help="Only events by this actor.")
@click.option("--action", help="Only this action, e.g. subject.erased.")
@click.option("--since", help="From this time (ISO 8601); a date means from the start of that day (UTC).")
@click.option("--until", help="Up to this time (ISO 8601); a date includes that whole day (UTC).")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@common_options
@pass_app
def audit_log(app: App, subject: str | None, by_actor: str | None, action: str | None, since: str | None,
              until: str | None, limit: int) -> None:
    """Read events; personal details are shown decrypted only to the DPO."""
    from consentkit.clock import format_instant, parse_instant
    from consentkit.storage.audit_log import AuditFilter
    from consentkit.types import check_subject_id

    where = AuditFilter(
        subject_id=check_subject_id(subject) if subject else None, actor=by_actor, action=action,
        since=format_instant(parse_instant(since, field_name="--since")) if since else None,
        until=format_instant(parse_instant(until, field_name="--until", end_of_day=True)) if until else None,
        limit=limit)
    records = app.kit().audit_log(where)
    rows: list[dict[str, Any]] = [
        {"seq": r.seq, "ts": r.ts, "actor": r.actor, "action": r.action, "subject_id": r.subject_id,
         "object_ref": r.object_ref, "outcome": r.outcome, "details": dict(r.details),
         "personal": r.personal_state if r.personal is None else dict(r.personal)} for r in records]
    app.emit(rows, human="\n".join(_log_line(r) for r in rows) or "no events")


def _log_line(row: dict[str, Any]) -> str:
    text = (f"{row['seq']:>7} {str(row['ts'])[:19]} {row['actor']:<12} {row['action']:<24} {row['outcome']:<8} "
            f"{row['subject_id'] or ''} {row['object_ref'] or ''} {json.dumps(row['details'], ensure_ascii=False)}")
    if isinstance(row["personal"], dict):
        text += f" personal={json.dumps(row['personal'], ensure_ascii=False)}"
    return text


def _read_text(file: Path) -> str:
    """A file the auditor hands over (export, proof, trusted checkpoint), as UTF-8 text."""
    from consentkit.errors import InvalidInputError

    try:
        return file.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidInputError(f"cannot read {file} as UTF-8 text") from None


def _trusted_note(file: Path) -> str:
    """The auditor's kept checkpoint (``--trusted``), checked for form before anything else."""
    from consentkit.audit.checkpoint import parse_note
    from consentkit.errors import InvalidInputError

    text = _read_text(file)
    try:
        parse_note(text)
    except InvalidInputError as error:
        raise InvalidInputError(f"--trusted {file}: not a signed checkpoint from `audit checkpoint --out` "
                                f"({error})") from None
    return text


def _verify_file(app: App, file: Path, public_keys: tuple[str, ...], trusted_note: str | None) -> None:
    """Verify an export or proof file offline (an export also against the auditor's kept checkpoint).

    Exit 1 when the file cannot be read, is empty or is neither an export nor a proof file
    (or a key argument is bad); exit 4, naming the line, when it is one of them but was
    damaged, including damage that stops a line from parsing.
    """
    from consentkit.audit.export import looks_like_export, verify_export
    from consentkit.audit.proof_file import looks_like_proof, verify_proof
    from consentkit.errors import AuditIntegrityError, InvalidInputError

    text = _read_evidence(file)
    if not text.strip():
        raise InvalidInputError(f"{file} is empty: not an audit export or inclusion proof file")
    lines = text.split("\n")  # not splitlines(): a field may hold U+2028 and other line breaks
    is_proof = looks_like_proof(text)
    if not is_proof and not looks_like_export(lines):
        raise InvalidInputError(f"{file} is not a consentkit audit export or inclusion proof file")
    if is_proof and trusted_note is not None:
        raise InvalidInputError("--trusted: an inclusion proof holds no log to compare with your checkpoint; "
                                "give --trusted with an export or with the database")
    verifiers = _verifiers(app, public_keys, origin=_named_origin(text, lines, is_proof))
    what = "inclusion-proof" if is_proof else "export"
    try:
        if is_proof:
            proof = verify_proof(text, verifiers)
        else:
            result = verify_export(lines, verifiers, trusted_note=trusted_note)
    except AuditIntegrityError as error:
        _file_damaged(app, file, what, error)
        return
    if is_proof:
        app.emit({"ok": True, "kind": what, "seq": proof.index},
                 human=f"proof verified: entry {proof.index} is in the signed log")
        return
    report = result.report
    human = (f"export verified: {report.size} entries of {result.origin}, {result.checkpoints} signed "
             f"checkpoint(s) verified, newest covers {result.covered}")
    if result.trusted_size is not None:
        human += f"\nconsistent with your trusted checkpoint at size {result.trusted_size}"
    app.emit({"ok": True, "kind": what, "origin": result.origin, "entries": report.size,
              "checkpoints": result.checkpoints, "covered": result.covered, "root": report.root.hex(),
              "trusted_size": result.trusted_size}, human=human)


def _read_evidence(file: Path) -> str:
    """The export or proof file under verification. Bytes that are not UTF-8 are kept as lone
    surrogates, so the line holding them is reported as damaged instead of the whole file refused."""
    from consentkit.errors import InvalidInputError

    try:
        data = file.read_bytes()
    except OSError:
        raise InvalidInputError(f"cannot read {file}") from None
    return data.decode("utf-8", errors="surrogateescape")


def _file_damaged(app: App, file: Path, what: str, error: AuditIntegrityError) -> None:
    """Report a file that does not verify as ``audit verify`` reports a damaged database: the
    damage (kind, seq, message, and the file's line) in the JSON, one line on stderr, exit 4."""
    if app.as_json:
        app.emit({"ok": False, "kind": what, "file": str(file),
                  "damage": {"kind": error.kind, "seq": error.seq, "message": error.message, "line": error.line}})
    label = "inclusion proof" if what == "inclusion-proof" else "audit export"
    click.echo(f"consentkit: {label} does not verify: {error.message}", err=True)
    click.get_current_context().exit(INTEGRITY_EXIT)


def _named_origin(text: str, lines: list[str], is_proof: bool) -> str | None:
    """The log name the file gives (an export's header, a proof's checkpoint), or ``None``.

    A bare signing-*.pub file carries no name, and a note verifier is named. The file's own
    name is safe to use for it: the key id hashes name and key, and the signature covers the
    checkpoint's name line, so a file that names another log finds no signature it trusts.
    """
    try:
        if is_proof:
            return text.split("\n\n", 1)[1].split("\n", 1)[0] or None
        origin = json.loads(lines[0]).get("origin")
    except (IndexError, ValueError, AttributeError):
        return None
    return origin if isinstance(origin, str) and origin else None


def _verifiers(app: App, public_keys: tuple[str, ...], *, origin: str | None = None) -> list[NoteVerifier]:
    from consentkit.audit.checkpoint import parse_verifier_key
    from consentkit.errors import InvalidInputError

    if public_keys:
        verifiers = []
        for item in public_keys:
            path = Path(item)
            if not path.is_file() and "+" not in item:  # a verifier key is name+id+key; this was meant as a file
                raise InvalidInputError(f"--public-key {item}: no such file (give a signing-*.pub file or a "
                                        "verifier key from `consentkit keys public`)")
            verifiers.append(_pem_verifier(app, path, origin) if path.is_file() else parse_verifier_key(item))
        return verifiers
    keys_dir = Path(app.keys or "consentkit-keys")
    pubs = sorted(keys_dir.glob("signing-*.pub"))
    if not pubs:
        raise InvalidInputError("give --public-key (a verifier key from `consentkit keys public`, or a "
                                "signing-*.pub file): an export proves nothing against its own keys")
    return [_pem_verifier(app, p, origin) for p in pubs]


def _pem_verifier(app: App, path: Path, origin: str | None = None) -> NoteVerifier:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from consentkit.audit.checkpoint import NoteVerifier
    from consentkit.errors import InvalidInputError

    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError):
        raise InvalidInputError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInputError(f"{path}: not an Ed25519 public key")
    return NoteVerifier.from_public_key(_origin_near(path, origin), key)


def _origin_near(path: Path, named: str | None) -> str:
    """The log's name from the key directory beside ``path``, else the one the verified file gives."""
    from consentkit.errors import InvalidInputError

    index = path.parent / "keyring.json"
    try:
        return str(json.loads(index.read_text("utf-8"))["origin"])
    except (OSError, ValueError, KeyError):
        if named is not None:
            return named
        raise InvalidInputError(f"{path}: cannot tell the log's name; pass the verifier key string from "
                                "`consentkit keys public` instead") from None


def _result_json(result: AuditVerification) -> dict[str, Any]:
    data = asdict(result)
    data["ok"] = result.ok
    return data


def _result_text(result: AuditVerification) -> str:
    if not result.ok:
        damage = result.damage
        return f"AUDIT TRAIL DAMAGED ({damage.kind}): {damage.message}"  # type: ignore[union-attr]
    lines = [f"audit trail intact: {result.size} events; chain and Merkle root {result.root[:16]}... recomputed"]
    if result.erased_subjects:
        lines.append(f"{result.erased_events} events of {result.erased_subjects} erased subject(s), verified "
                     "(their personal details are unreadable by design)")
    newest = result.newest_checkpoint
    if newest is not None:
        lines.append(f"{result.checkpoints} signed checkpoint(s) verified; newest at size {newest.size}, "
                     f"{newest.created_at[:19]}Z, key {newest.signer_kid}")
        if newest.size < result.size:
            lines.append(f"{result.size - newest.size} newer event(s) are chained but not yet in a signed "
                         "checkpoint (run `consentkit audit checkpoint`)")
    else:
        lines.append("no signed checkpoint yet: run `consentkit audit checkpoint --out FILE` and keep the file")
    if result.trusted_size is not None:
        lines.append(f"consistent with your trusted checkpoint at size {result.trusted_size}")
    return "\n".join(lines)

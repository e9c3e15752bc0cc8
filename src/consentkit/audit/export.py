"""The audit export: JSON Lines of every entry plus the signed checkpoints, verifiable
offline by an auditor who holds only the log's public key.

Line 1 is a header, then one object per entry (columns exactly as stored, hashes in hex),
then one ``{"checkpoint": note}`` per signed checkpoint. The header's origin is used to
re-encode entries; trust comes only from the verifier keys the auditor supplies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from consentkit.audit.checkpoint import NoteVerifier, open_checkpoint
from consentkit.audit.verify import ChainReport, RawRow, TrustedRoot, scan_chain
from consentkit.errors import AuditIntegrityError, InvalidInputError

__all__ = ["EXPORT_FORMAT", "ExportVerification", "export_lines", "verify_export"]

EXPORT_FORMAT = "consentkit-audit-export/1"
_FIELDS = ("seq", "ts", "actor", "action", "subject_id", "object_ref", "outcome", "details", "sealed",
           "prev_hash", "entry_hash")


@dataclass(frozen=True)
class ExportVerification:
    """Result of verifying an export file offline."""

    origin: str
    report: ChainReport
    checkpoints: int
    covered: int


def export_lines(origin: str, rows: Iterable[RawRow], notes: Sequence[str], exported_at: str) -> Iterator[str]:
    """The export, one JSON document per line (without newlines)."""
    yield json.dumps({"format": EXPORT_FORMAT, "origin": origin, "exported_at": exported_at})
    for row in rows:
        item = dict(zip(_FIELDS, row, strict=True))
        item["prev_hash"], item["entry_hash"] = row[9].hex(), row[10].hex()
        yield json.dumps(item, ensure_ascii=False)
    for note in notes:
        yield json.dumps({"checkpoint": note}, ensure_ascii=False)


def _parse_row(obj: dict[str, object], line: int) -> RawRow:
    try:
        values = [obj[name] for name in _FIELDS]
        seq = values[0]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise TypeError
        texts = [v if v is None or isinstance(v, str) else _bad(line) for v in values[1:9]]
        prev, digest = bytes.fromhex(str(values[9])), bytes.fromhex(str(values[10]))
    except (KeyError, TypeError, ValueError):
        raise InvalidInputError(f"export line {line}: not an audit entry (fields {', '.join(_FIELDS)})") from None
    return (seq, str(texts[0]), str(texts[1]), str(texts[2]), texts[3], texts[4], str(texts[5]),
            str(texts[6]), texts[7], prev, digest)


def _bad(line: int) -> str:
    raise InvalidInputError(f"export line {line}: a field has the wrong type")


def _read(lines: Iterable[str]) -> tuple[str, list[RawRow], list[str]]:
    origin: str | None = None
    rows: list[RawRow] = []
    notes: list[str] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            raise InvalidInputError(f"export line {number}: not JSON") from None
        if not isinstance(obj, dict):
            raise InvalidInputError(f"export line {number}: expected a JSON object")
        if origin is None:
            if obj.get("format") != EXPORT_FORMAT or not isinstance(obj.get("origin"), str):
                raise InvalidInputError(f"export line 1: not a consentkit audit export ({EXPORT_FORMAT})")
            origin = obj["origin"]
        elif "checkpoint" in obj:
            if not isinstance(obj["checkpoint"], str):
                raise InvalidInputError(f"export line {number}: the checkpoint must be a string")
            notes.append(obj["checkpoint"])
        else:
            rows.append(_parse_row(obj, number))
    if origin is None:
        raise InvalidInputError("export: the file is empty")
    return origin, rows, notes


def verify_export(lines: Iterable[str], verifiers: Sequence[NoteVerifier]) -> ExportVerification:
    """Verify an export with the auditor's keys; raises :class:`AuditIntegrityError` on damage."""
    origin, rows, notes = _read(lines)
    if not notes:
        raise AuditIntegrityError("export: no signed checkpoint, so nothing ties these entries to the log's "
                                  "key", kind="unsigned")
    trusted = []
    for number, note in enumerate(notes, start=1):
        checkpoint = open_checkpoint(note, verifiers)
        if checkpoint.origin != origin:
            raise AuditIntegrityError(f"export: checkpoint {number} is for log {checkpoint.origin}, "
                                      f"not {origin}", kind="forged-checkpoint")
        trusted.append(TrustedRoot(checkpoint.size, checkpoint.root, f"checkpoint {number} (size "
                                                                     f"{checkpoint.size})"))
    report = scan_chain(origin, rows, trusted)
    if report.damage is not None:
        raise AuditIntegrityError(report.damage.message, kind=report.damage.kind, seq=report.damage.seq)
    return ExportVerification(origin, report, len(notes), max(t.size for t in trusted))

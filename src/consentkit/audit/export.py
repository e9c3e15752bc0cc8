"""The audit export: JSON Lines of every entry plus the signed checkpoints, verifiable
offline by an auditor who holds only the log's public key.

Line 1 is a header, then one object per entry (columns exactly as stored, hashes in hex),
then one ``{"checkpoint": note}`` per signed checkpoint. The header's origin is used to
re-encode entries; trust comes only from the verifier keys the auditor supplies.

A file that is recognisably an export (its header, or the entry and checkpoint lines
after it) but has a line that no longer parses has been damaged: that is an integrity
failure (kind ``malformed``, naming the line, never quoting it). A file that is not an
export at all, or is empty, is an input error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from consentkit.audit.checkpoint import Checkpoint, NoteVerifier, open_checkpoint, parse_note
from consentkit.audit.merkle import root
from consentkit.audit.verify import ChainReport, RawRow, TrustedRoot, scan_chain
from consentkit.errors import AuditIntegrityError, InvalidInputError

__all__ = ["EXPORT_FORMAT", "ExportVerification", "export_lines", "looks_like_export", "verify_export"]

EXPORT_FORMAT = "consentkit-audit-export/1"
_FORMAT_FAMILY = "consentkit-audit-export/"
_FIELDS = ("seq", "ts", "actor", "action", "subject_id", "object_ref", "outcome", "details", "sealed",
           "prev_hash", "entry_hash")
_HASH_SIZE = 32


@dataclass(frozen=True)
class ExportVerification:
    """Result of verifying an export file offline."""

    origin: str
    report: ChainReport
    checkpoints: int
    covered: int
    trusted_size: int | None = None  #: the size of the auditor's own checkpoint the export extends


def export_lines(origin: str, rows: Iterable[RawRow], notes: Sequence[str], exported_at: str) -> Iterator[str]:
    """The export, one JSON document per line (without newlines)."""
    yield json.dumps({"format": EXPORT_FORMAT, "origin": origin, "exported_at": exported_at})
    for row in rows:
        item = dict(zip(_FIELDS, row, strict=True))
        item["prev_hash"], item["entry_hash"] = row[9].hex(), row[10].hex()
        yield json.dumps(item, ensure_ascii=False)
    for note in notes:
        yield json.dumps({"checkpoint": note}, ensure_ascii=False)


def looks_like_export(lines: Iterable[str]) -> bool:
    """Whether ``lines`` claim to be an audit export: the first line is an export header (of any
    version), or one of the first two lines is an entry or checkpoint line (the header was damaged)."""
    first = list(_numbered(lines, 2))
    if not first:
        return False
    if _format_of(first[0][1]).startswith(_FORMAT_FAMILY):
        return True
    return any(_is_body_line(text) for _, text in first)


@dataclass(frozen=True)
class _Broken:
    """The first line that no longer parses: its number, what it was, the entries before it."""

    line: int
    what: str  # "header", "entry" or "checkpoint"
    entries_before: int

    def error(self) -> AuditIntegrityError:
        if self.what == "entry":
            return AuditIntegrityError(
                f"export line {self.line} was damaged: it is no longer a readable audit entry "
                f"(entry {self.entries_before} was expected there)",
                kind="malformed", seq=self.entries_before, line=self.line)
        return AuditIntegrityError(f"export line {self.line} was damaged: it is no longer a readable {self.what}",
                                   kind="malformed", line=self.line)


def _numbered(lines: Iterable[str], limit: int | None = None) -> Iterator[tuple[int, str]]:
    found = 0
    for number, text in enumerate(lines, start=1):
        if text.strip():
            yield number, text
            found += 1
            if limit is not None and found >= limit:
                return


def _json_object(text: str) -> dict[str, object] | None:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _format_of(text: str) -> str:
    """The ``format`` of a header line ("" if the line is not a JSON object with a text format)."""
    obj = _json_object(text)
    value = obj.get("format") if obj is not None else None
    return str(value) if _is_text(value) else ""


def _is_body_line(text: str) -> bool:
    obj = _json_object(text)
    return obj is not None and ("entry_hash" in obj or "checkpoint" in obj)


def _is_text(value: object) -> bool:
    """A string that encodes as UTF-8 (a lone surrogate, from ``\\udc80`` or undecodable bytes, does not)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_origin(value: object) -> bool:
    """A log name: non-empty text on one line (it is quoted in messages)."""
    return _is_text(value) and bool(value) and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in str(value))


def _parse_row(obj: dict[str, object]) -> RawRow | None:
    """The row of an entry line, or ``None`` if the line is not a well-formed entry."""
    if any(name not in obj for name in _FIELDS):
        return None
    values = [obj[name] for name in _FIELDS]
    seq = values[0]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return None
    required = (values[1], values[2], values[3], values[6], values[7])  # ts, actor, action, outcome, details
    optional = (values[4], values[5], values[8])  # subject_id, object_ref, sealed
    if not all(_is_text(v) for v in required) or not all(v is None or _is_text(v) for v in optional):
        return None
    try:
        prev, digest = bytes.fromhex(_hex_text(values[9])), bytes.fromhex(_hex_text(values[10]))
    except ValueError:
        return None
    if len(prev) != _HASH_SIZE or len(digest) != _HASH_SIZE:
        return None
    return (seq, str(values[1]), str(values[2]), str(values[3]), _opt(values[4]), _opt(values[5]),
            str(values[6]), str(values[7]), _opt(values[8]), prev, digest)


def _hex_text(value: object) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isalnum():
        raise ValueError("not hex")
    return value


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class _Parsed:
    origin: str
    rows: list[RawRow]
    notes: list[tuple[int, str]]  # (line number, signed note)
    broken: _Broken | None = None


def _header_origin(first: tuple[int, str], numbered: Iterator[tuple[int, str]]) -> str:
    """The origin named by the header line ``first``; raises if the file is not an intact export."""
    number, text = first
    head, fmt = _json_object(text), _format_of(text)
    if head is not None and fmt == EXPORT_FORMAT and _is_origin(head.get("origin")):
        return str(head["origin"])
    if fmt.startswith(_FORMAT_FAMILY) and fmt != EXPORT_FORMAT:  # a well-formed header of another version
        raise InvalidInputError(f"export line {number}: this consentkit reads {EXPORT_FORMAT} exports only; "
                                "verify the file with the consentkit version that wrote it")
    if fmt == EXPORT_FORMAT or _is_body_line(text) or _is_body_line(next(numbered, (0, ""))[1]):
        raise _Broken(number, "header", 0).error()  # the header was edited or deleted
    raise InvalidInputError(f"export line {number}: not a consentkit audit export ({EXPORT_FORMAT})")


def _read(lines: Iterable[str]) -> _Parsed:
    numbered = _numbered(lines)
    first = next(numbered, None)
    if first is None:
        raise InvalidInputError("export: the file is empty")
    parsed = _Parsed(_header_origin(first, numbered), [], [])
    for number, text in numbered:
        obj = _json_object(text)
        is_checkpoint = ("checkpoint" in obj) if obj is not None else bool(
            parsed.notes or text.lstrip().startswith('{"checkpoint"'))
        if is_checkpoint:
            note = obj.get("checkpoint") if obj is not None else None
            if _is_text(note) and _parses_as_note(str(note)):
                parsed.notes.append((number, str(note)))
            elif parsed.broken is None:
                parsed.broken = _Broken(number, "checkpoint", len(parsed.rows))
            continue
        if parsed.broken is not None:
            continue  # entries after a damaged line are not scanned: the damage is named first
        row = _parse_row(obj) if obj is not None else None
        if row is None:
            parsed.broken = _Broken(number, "entry", len(parsed.rows))
        else:
            parsed.rows.append(row)
    return parsed


def _parses_as_note(note: str) -> bool:
    try:
        parse_note(note)
    except InvalidInputError:
        return False
    return True


def verify_export(lines: Iterable[str], verifiers: Sequence[NoteVerifier], *,
                  trusted_note: str | None = None) -> ExportVerification:
    """Verify an export with the auditor's keys; raises :class:`AuditIntegrityError` on damage
    (including a line damaged so that it no longer parses) and :class:`InvalidInputError` when
    the lines are not an audit export at all.

    With ``trusted_note`` (a checkpoint the auditor kept from earlier), the export must also
    extend it: an export cut short, or a log rewritten and re-signed with its own key since
    then, is damage even though every checkpoint inside the file verifies.
    """
    parsed = _read(lines)
    origin, rows, broken = parsed.origin, parsed.rows, parsed.broken
    if not parsed.notes:
        if broken is not None:
            raise broken.error()
        raise AuditIntegrityError("export: no signed checkpoint, so nothing ties these entries to the log's "
                                  "key", kind="unsigned")
    trusted = []
    for number, (line, note) in enumerate(parsed.notes, start=1):
        try:
            checkpoint = open_checkpoint(note, verifiers)
        except AuditIntegrityError as error:
            raise AuditIntegrityError(f"export line {line}: {error.message}",
                                      kind=error.kind, seq=error.seq, line=line) from None
        if checkpoint.origin != origin:
            raise AuditIntegrityError(f"export line {line}: checkpoint {number} is for log {checkpoint.origin}, "
                                      f"not {origin}", kind="forged-checkpoint", line=line)
        trusted.append(TrustedRoot(checkpoint.size, checkpoint.root, f"checkpoint {number} (size "
                                                                     f"{checkpoint.size})"))
    if broken is not None and broken.what == "entry":
        # Only the entries before the damaged line are known: check them against the roots they cover.
        report = scan_chain(origin, rows, [t for t in trusted if t.size <= len(rows)])
    else:
        report = scan_chain(origin, rows, trusted)
    if report.damage is not None:
        raise AuditIntegrityError(report.damage.message, kind=report.damage.kind, seq=report.damage.seq)
    if broken is not None:
        raise broken.error()
    covered = max(t.size for t in trusted)
    if report.size > covered:
        # `audit export` signs a checkpoint of every entry it writes: entries past the newest
        # checkpoint were added to the file afterwards, or that checkpoint was taken out.
        uncovered = f"entry {covered}" if report.size == covered + 1 else f"entries {covered}-{report.size - 1}"
        raise AuditIntegrityError(
            f"{uncovered} of the export {'is' if report.size == covered + 1 else 'are'} covered by no signed "
            f"checkpoint (the newest covers {covered}): an export is signed up to its last entry, so "
            "entries were added after it was written, or its last checkpoint was removed",
            kind="inserted", seq=covered)
    if trusted_note is None:
        return ExportVerification(origin, report, len(trusted), covered)
    kept = _trusted_checkpoint(trusted_note, verifiers, origin)
    _check_extends(rows, kept)
    return ExportVerification(origin, report, len(trusted), covered, kept.size)


def _check_extends(rows: Sequence[RawRow], kept: Checkpoint) -> None:
    """Entries that verified (their stored hashes are their leaves) must start with the tree
    of the auditor's checkpoint."""
    if kept.size > len(rows):
        raise AuditIntegrityError(
            f"your trusted checkpoint covers {kept.size} entries but the export has {len(rows)}: entries "
            "were cut off, or the log was rolled back", kind="truncated", seq=len(rows))
    if kept.size and root([row[10] for row in rows[:kept.size]]) != kept.root:
        raise AuditIntegrityError(
            f"the export does not extend your trusted checkpoint (size {kept.size}): the log was rewritten "
            "and its checkpoints re-signed after you took yours", kind="re-signed")


def _trusted_checkpoint(note: str, verifiers: Sequence[NoteVerifier], origin: str) -> Checkpoint:
    try:
        kept = open_checkpoint(note, verifiers)
    except AuditIntegrityError as error:
        raise AuditIntegrityError(f"your trusted checkpoint: {error.message}", kind=error.kind) from None
    except InvalidInputError as error:
        raise InvalidInputError(f"--trusted: not a signed checkpoint ({error})") from None
    if kept.origin != origin:
        raise AuditIntegrityError(f"your trusted checkpoint is for log {kept.origin}, not {origin}",
                                  kind="unknown-key")
    return kept

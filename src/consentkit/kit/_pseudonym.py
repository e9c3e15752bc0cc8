"""Pseudonymised exports and re-identification of tokens: the use cases behind
``consentkit pseudonymise`` and ``consentkit reidentify``.

Both are audited. An export's event holds the domains, the schema hash, the row counts,
the k threshold and the k reached, and the suppressed count: never a value from the data
nor the file names (a file may be named after a client). A re-identification's event
holds the token's kind, key id and domain, and the reason as its length and a keyed MAC
only (see :meth:`PseudonymOps.reidentify` for why).
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent, AuditRecord, Outcome
from consentkit.errors import InvalidInputError, OperationRefusedError, PermissionDeniedError
from consentkit.keys import open_sealed
from consentkit.kit._base import KitBase
from consentkit.kit._export_sources import InProcess, Passes, file_passes
from consentkit.kit._files import atomic_write
from consentkit.pseudonym.export import Counts, Exporter
from consentkit.pseudonym.kanon import GroupCounter, KAnonymityReport
from consentkit.pseudonym.keyed import Pseudonymiser, Tokeniser, check_domain
from consentkit.pseudonym.records import (
    Record,
    format_of,
    read_mappings,
)
from consentkit.pseudonym.schema import ExportSchema, load_schema
from consentkit.storage import Tx
from consentkit.storage.audit_log import AuditFilter
from consentkit.subjects import PersonalData, personal_aad
from consentkit.types import check_reason

__all__ = [
    "SUBJECT_FIELDS", "ExportProgress", "ExportResult", "PseudonymOps", "Reidentification", "SubjectsQuery",
]

#: ``progress(phase, rows_done, rows_total)``: phase ``counting`` (first pass, total
#: unknown) or ``writing`` (total known after a first pass, else ``None``).
ExportProgress = Callable[[str, int, int | None], None]

_EXPORTED = "pseudonym.exported"
_PAGE = 500  # subjects decrypted per read transaction
_TOKEN_HEAD = re.compile(r"tok_([0-9a-f]{8})_([A-Z][A-Z0-9_]{0,63})\.")
_REASON_INFO = b"consentkit/audit/reidentify-reason/v1"


@dataclass(frozen=True)
class ExportResult:
    """What an export did. ``written`` is False when k-anonymity refused it (nothing was written)."""

    out: str
    format: str
    written: bool
    rows_read: int
    rows_written: int
    suppressed: int
    schema_sha256: str
    domains: tuple[str, ...]
    k: int | None
    k_reached: int | None
    kanon: KAnonymityReport | None
    audit_id: int

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape of ``consentkit pseudonymise``."""
        report = self.kanon.to_json() if self.kanon is not None else None
        return {
            "written": self.written, "out": self.out if self.written else None, "format": self.format,
            "rows": self.rows_written, "rows_read": self.rows_read, "suppressed": self.suppressed,
            "k": self.k, "k_reached": self.k_reached,
            "groups_under_k": report["groups_under_k"] if report else 0,
            "rows_under_k": report["rows_under_k"] if report else 0,
            "small_groups": report["small_groups"] if report else [],
            "quasi_identifiers": report["quasi_identifiers"] if report else [],
            "domains": list(self.domains), "schema_sha256": self.schema_sha256, "audit_id": self.audit_id,
        }


@dataclass(frozen=True)
class SubjectsQuery:
    """Export source: the subjects of one jurisdiction, read from the database.

    Its columns are :data:`SUBJECT_FIELDS`; like a file's header, the schema must give
    every one of them an action. Erased subjects are left out (their data is gone).
    """

    jurisdiction: str


#: The columns of a :class:`SubjectsQuery`.
SUBJECT_FIELDS = ("subject_id", "jurisdiction", "language", "created_at", "name", "other_names", "birth_date",
                  "national_id", "national_id_type", "contact")


@dataclass(frozen=True)
class Reidentification:
    """A revealed token: its kind, the clear value, the domain it was made in and the audit entry."""

    kind: str
    value: str = field(repr=False)
    domain: str
    audit_id: int


class PseudonymOps(KitBase):
    """Pseudonymised exports (supervisor, DPO, admin) and token re-identification."""

    def pseudonymise(
        self,
        source: str | Path | SubjectsQuery,
        *,
        schema: ExportSchema | str | Path,
        out: str | Path,
        fmt: str | None = None,
        k: int | None = None,
        suppress: bool = False,
        progress: ExportProgress | None = None,
    ) -> ExportResult:
        """Export ``source`` to ``out`` through ``schema``, all or nothing.

        ``source`` is a CSV or JSONL file (``fmt`` or its extension says which) or a
        :class:`SubjectsQuery`, read straight from the database so no clear-text file is
        ever needed. With quasi-identifiers declared, a first pass counts their
        generalised groups; if any has fewer than ``k`` rows (default: the schema's ``k``)
        the export is refused (``written`` False, audited) unless ``suppress`` drops those
        rows. The output is written to a temporary file and renamed at the end; the audit
        event commits just before the rename, so no export exists without its event.
        """
        out = Path(out)
        loaded = schema if isinstance(schema, ExportSchema) else _read_schema(Path(schema))
        if k is not None and k < 1:
            raise InvalidInputError("--k: give a whole number of at least 1")
        threshold = (k or loaded.k) if loaded.quasi_identifiers else None
        with self.store.write() as tx:  # refuse early: before reading a single row
            self._require(tx, Permission.EXPORT)
        today = self.clock.now().date()
        with ExitStack() as stack:
            if isinstance(source, SubjectsQuery):
                self.packs.get(source.jurisdiction)  # an unknown jurisdiction is an error, not an empty export
                in_fmt, name = "db:subjects", f"the subjects of {source.jurisdiction}"
                out_fmt = _output_format(out, fmt or "csv")
                exporter = Exporter(loaded, self.keys.pseudonyms, today=today, unit="record")
                query, columns = source, exporter.columns

                def records() -> AbstractContextManager[Iterator[Record]]:  # the database is read in each pass
                    return nullcontext(read_mappings(self._subject_rows(query), name, SUBJECT_FIELDS, columns))

                passes: Passes = InProcess(exporter, records, out_fmt)
            else:
                path = Path(source)
                in_fmt, name = format_of(path.name, fmt), path.name
                out_fmt = _output_format(out, in_fmt)
                if out.resolve() == path.resolve():
                    raise InvalidInputError("--out: choose a file other than the input")
                exporter = Exporter(loaded, self.keys.pseudonyms, today=today)
                passes = file_passes(path, in_fmt, out_fmt, exporter, self.keys.pseudonyms, today, stack)
            return self._export(loaded, source, (in_fmt, out_fmt), name, out, threshold, suppress, passes, progress)

    def _export(self, schema: ExportSchema, source: object, formats: tuple[str, str], name: str, out: Path,
                threshold: int | None, suppress: bool, passes: Passes,
                progress: ExportProgress | None) -> ExportResult:
        """The k-anonymity gate (first pass), then the written file (second pass), both audited."""
        in_fmt, out_fmt = formats
        report: KAnonymityReport | None = None
        small: frozenset[tuple[Any, ...]] = frozenset()
        total: int | None = None
        if threshold is not None:
            counter = passes.count(_phase(progress, "counting", None))
            report = counter.report(threshold, suppress=suppress)
            total = report.rows
            if not report.passed:
                counts = Counts(read=report.rows)
                record = self._audit_export(schema, source, in_fmt, out_fmt, report, counts, refused=True)
                return _result(out, out_fmt, False, counts, schema, threshold, report, record)
            small = counter.small_groups(threshold) if suppress else frozenset()

        counts = Counts()
        audited: list[AuditRecord] = []

        def chunks() -> Iterator[str | bytes]:
            recount = GroupCounter(schema.quasi_identifiers)
            yield from passes.write(counts, small, _phase(progress, "writing", total), recount)
            if threshold is not None and recount.report(threshold, suppress=False).groups_under_k:
                # The input changed between the passes: what would be written is not k-anonymous.
                raise OperationRefusedError(f"{name} changed while it was exported; nothing was written")
            audited.append(self._audit_export(schema, source, in_fmt, out_fmt, report, counts, refused=False))

        atomic_write(out, chunks())
        return _result(out, out_fmt, True, counts, schema, threshold, report, audited[0])

    def reidentify(self, token: str, *, reason: str | None, domain: str | None = None) -> Reidentification:
        """Reveal a token (supervisor, DPO, admin); every attempt is audited, refused ones too.

        Without ``domain`` the domains of earlier exports (from their audit events) are
        tried; AES-SIV authenticates the domain, so a wrong one simply does not decrypt.

        The reason is required but is *not* stored in clear nor sealed: a token is not tied
        to a subject, so there is no subject data key to seal it under, and a reason often
        names people ("client's daughter asked ...") who could then never be erased from an
        append-only log. The event records its length and an HMAC under a key derived from
        the master key, so a DPO holding the case file can confirm which reason was given,
        while the log alone reveals nothing and cannot be dictionary-searched.
        """
        text = unicodedata.normalize("NFC", check_reason(
            reason or "", "--reason", "say why the value must be re-identified (required; it is audited)")).strip()
        if domain is not None:
            try:
                check_domain(domain)  # audited below: never a name typed in the wrong place
            except InvalidInputError as error:
                raise InvalidInputError(f"--domain: {error}") from None
        head = _TOKEN_HEAD.match(token)
        kind, kid8 = (head.group(2), head.group(1)) if head else (None, None)
        base: dict[str, Any] = {"kind": kind, "key_id": self._full_kid(kid8), "reason_chars": len(text),
                                "reason_mac": self._reason_mac(text)}
        try:
            with self.store.write() as tx:
                self._require(tx, Permission.REIDENTIFY)
                domains = [domain] if domain else self._export_domains(tx)
        except PermissionDeniedError:
            self._audit_reidentify({**base, "refused": "permission"}, Outcome.REFUSED)
            raise
        for candidate in domains:
            try:
                revealed_kind, value = Tokeniser(self.keys.pseudonyms, candidate).reveal(token)
            except InvalidInputError:
                continue
            record = self._audit_reidentify({**base, "domain": candidate}, Outcome.OK)
            return Reidentification(revealed_kind, value, candidate, record.seq)
        self._audit_reidentify({**base, "domain": domain, "refused": "undecodable"}, Outcome.REFUSED)
        hint = "" if domain else "; give --domain if it was not made by a pseudonymise export"
        raise InvalidInputError(f"token does not decode with this installation's keys{hint}")

    def text_pseudonymiser(self, domain: str) -> Pseudonymiser:
        """Keyed pseudonyms of export ``domain``, for entities found in free text
        (``redact --pseudonymise``).

        They are the very pseudonyms of that domain's exports: whoever computes them for
        values they know can link an export's rows back to people. So it takes the export
        permission, like an export, and is audited (the domain; never the text).
        """
        pseudonymiser = Pseudonymiser(self.keys.pseudonyms, domain)  # checks the domain first
        with self.store.write() as tx:
            self._require(tx, Permission.EXPORT)
            self._audit(tx, AuditEvent("pseudonym.text-redacted", details={"domain": domain}))
        return pseudonymiser

    # -- internals -----------------------------------------------------------------------

    def _audit_export(self, schema: ExportSchema, source: object, in_fmt: str, out_fmt: str,
                      report: KAnonymityReport | None, counts: Counts, *, refused: bool) -> AuditRecord:
        details: dict[str, Any] = {
            "domains": list(schema.domains), "schema_sha256": schema.sha256, "input_format": in_fmt,
            "format": out_fmt, "rows_read": counts.read, "rows_written": 0 if refused else counts.written,
            "suppressed": counts.suppressed,
            "columns": {c.name: c.action_name for c in schema.columns},
        }
        if isinstance(source, SubjectsQuery):
            details["jurisdiction"] = source.jurisdiction
        if report is not None:
            details.update(quasi_identifiers=list(report.quasi_identifiers), k=report.k,
                           k_reached=report.k_reached,
                           groups_under_k=report.groups_under_k, rows_under_k=report.rows_under_k)
        with self.store.write() as tx:
            return self._audit(tx, AuditEvent(_EXPORTED, outcome=Outcome.REFUSED if refused else Outcome.OK,
                                              details=details))

    def _audit_reidentify(self, details: dict[str, Any], outcome: str) -> AuditRecord:
        with self.store.write() as tx:
            return self._audit(tx, AuditEvent("pseudonym.reidentified", outcome=outcome, details=details))

    def _subject_rows(self, query: SubjectsQuery) -> Iterator[dict[str, Any]]:
        """The subjects of a jurisdiction, decrypted one page at a time (erased ones have no data)."""
        offset = 0
        while True:
            with self.store.read() as tx:
                page = tx.subjects.page(jurisdiction=query.jurisdiction, limit=_PAGE, offset=offset)
            if not page:
                return
            offset += len(page)
            for stored in page:
                if stored.erased_at is not None or stored.personal is None:
                    continue
                personal = PersonalData.from_bytes(open_sealed(
                    self._data_key(stored), stored.personal, personal_aad(stored.subject_id)))
                yield {
                    "subject_id": stored.subject_id, "jurisdiction": stored.jurisdiction,
                    "language": stored.language, "created_at": stored.created_at, "name": personal.name,
                    "other_names": "; ".join(personal.other_names) or None,
                    "birth_date": personal.birth_date.isoformat(), "national_id": personal.national_id,
                    "national_id_type": personal.national_id_type, "contact": personal.contact,
                }

    def _export_domains(self, tx: Tx) -> list[str]:
        """Domains of earlier exports, most recent first (from their audit events; no personal data)."""
        seen: dict[str, None] = {}
        for event in reversed(tx.audit.query(AuditFilter(action=_EXPORTED, limit=100_000))):
            for name in event.details.get("domains", ()):
                seen.setdefault(str(name), None)
        return list(seen)

    def _full_kid(self, kid8: str | None) -> str | None:
        if kid8 is None:
            return None
        return next((key.kid for key in self.keys.pseudonyms if key.kid.startswith(kid8)), kid8)

    def _reason_mac(self, text: str) -> str:
        master = self.keys.master
        key = HKDF(SHA256(), 32, salt=None, info=_REASON_INFO).derive(master.material)
        return f"{master.kid}:{hmac.new(key, text.encode(), 'sha256').hexdigest()}"


def _result(out: Path, out_fmt: str, written: bool, counts: Counts, schema: ExportSchema, k: int | None,
            report: KAnonymityReport | None, record: AuditRecord) -> ExportResult:
    return ExportResult(
        out=str(out), format=out_fmt, written=written, rows_read=counts.read,
        rows_written=counts.written if written else 0, suppressed=counts.suppressed if written else 0,
        schema_sha256=schema.sha256, domains=schema.domains, k=k,
        k_reached=report.k_reached if report is not None else None, kanon=report, audit_id=record.seq,
    )


def _output_format(out: Path, in_fmt: str) -> str:
    try:
        return format_of(out.name)
    except InvalidInputError:
        return in_fmt  # an unusual extension: write the input's format


def _read_schema(path: Path) -> ExportSchema:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InvalidInputError(f"--schema: cannot read {path} ({reason})") from None
    return load_schema(path.name, text)


def _phase(progress: ExportProgress | None, phase: str, total: int | None) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda done: progress(phase, done, total)


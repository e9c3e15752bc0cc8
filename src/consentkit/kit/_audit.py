"""Use cases on the audit trail: checkpoints, verification, proofs, export and reading."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

from consentkit.access import Permission, allowed_roles
from consentkit.audit import checkpoint as notes
from consentkit.audit.envelope import encode_entry
from consentkit.audit.events import AuditEvent, AuditRecord
from consentkit.audit.export import export_lines
from consentkit.audit.fhir import fhir_bundle
from consentkit.audit.merkle import consistency_proof, inclusion_proof, root, verify_consistency
from consentkit.audit.proof_file import format_proof
from consentkit.audit.verify import (
    ChainReport,
    Damage,
    TrustedRoot,
    finish,
    ranges_join,
    scan_chain,
    scan_encoded,
    scan_stored,
)
from consentkit.errors import AuditIntegrityError, ErasedError, InvalidInputError, NotFoundError, StorageError
from consentkit.keys import open_sealed
from consentkit.kit._base import CHECKPOINT_EVERY, CheckpointInfo, KitBase, audit_aad
from consentkit.kit._files import atomic_write
from consentkit.storage import Tx
from consentkit.storage.audit_log import AuditFilter, StoredCheckpoint
from consentkit.storage.audit_scan import RangeWorkers, due_sizes, start_ranges, worker_count

__all__ = ["AuditOps", "AuditVerification", "CheckpointInfo", "ConsistencyProof"]


@dataclass(frozen=True)
class ConsistencyProof:
    """Proof that the log at ``new_size`` extends the log at ``old_size``."""

    old_size: int
    new_size: int
    old_root: str
    new_root: str
    hashes: tuple[str, ...]


@dataclass
class AuditVerification:
    """What ``verify`` found; ``damage`` is ``None`` when the trail is intact."""

    size: int = 0
    root: str = ""
    checkpoints: int = 0
    newest_checkpoint: CheckpointInfo | None = None
    trusted_size: int | None = None
    erased_subjects: int = 0
    erased_events: int = 0
    damage: Damage | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return self.damage is None

    def raise_for_damage(self) -> None:
        """Raise :class:`AuditIntegrityError` naming the damage, if any."""
        if self.damage is not None:
            raise AuditIntegrityError(self.damage.message, kind=self.damage.kind, seq=self.damage.seq)


class AuditOps(KitBase):
    """The audit trail's library API: append, verify, checkpoint, prove, export, read."""

    def append_event(self, event: AuditEvent) -> AuditRecord:
        """Append an event of the embedding system (e.g. a record it showed) to the trail."""
        with self.store.write() as tx:
            self._require(tx, Permission.DISCLOSURE_CHECK)
            data_key = None
            if event.personal and event.subject_id:
                data_key = self._data_key(self._subject(tx, event.subject_id))
            return self._audit(tx, event, data_key=data_key)

    def verifiers(self) -> list[notes.NoteVerifier]:
        """Note verifiers for every signing key of this installation (old ones included)."""
        return [notes.NoteVerifier.from_public_key(s.name, s.public_key) for s in self.keys.signers]

    def public_keys(self) -> list[str]:
        """Verifier key strings (C2SP) for auditors, active key first."""
        return [v.key for v in self.verifiers()]

    def checkpoint(self) -> CheckpointInfo:
        """Sign a checkpoint of the log as it is now and store it."""
        with self.store.write() as tx:
            self._require(tx, Permission.AUDIT_CHECKPOINT)
            return self._sign_checkpoint(tx)

    def verify_audit(self, *, trusted_note: str | None = None, deep: bool = False,
                     workers: int | None = None) -> AuditVerification:
        """Verify the whole trail (:meth:`_verify_audit`); a row whose stored values are not of
        their column's type, which SQLite lets SQL write, is named damage rather than a crash."""
        try:
            return self._verify_audit(trusted_note=trusted_note, deep=deep, workers=workers)
        except (TypeError, AttributeError, ValueError, StorageError) as error:
            if isinstance(error, InvalidInputError):  # the caller's input (a --trusted note): theirs to fix
                raise
            with self.store.read() as tx:
                seq = tx.audit.first_mistyped_row()
            if seq is None:
                raise
            return AuditVerification(damage=Damage(
                "changed", seq, f"entry {seq} holds a value that is not of its column's type (or not UTF-8 "
                                "text): it was edited directly in the database"))

    def _verify_audit(self, *, trusted_note: str | None, deep: bool, workers: int | None) -> AuditVerification:
        """Verify the whole trail: chain, Merkle root, checkpoints, head, destroyed keys.

        With ``trusted_note`` (a checkpoint the auditor kept), also prove that today's log
        extends it: a rewrite that was re-signed with the log's own key is caught here.
        Entries are read as the database concatenates them (``storage.entry_sql``); ``deep``
        re-encodes every stored field in Python instead, which also catches a field edited
        byte by byte in the database file behind the database's back (several times slower).
        ``workers`` ranges are verified in parallel processes (default: one per core, up to
        4, for a log of 200,000 entries or more; 1 verifies in this process).
        """
        result = AuditVerification()
        with self.store.read(snapshot=True) as tx:
            self._require(tx, Permission.AUDIT_READ)
            stored = tx.audit.checkpoints()
            try:
                size = tx.audit.head().size
            except (StorageError, InvalidInputError) as error:
                result.damage = Damage("forged-head", None, f"the log head cannot be read ({error}): it was "
                                                            "deleted or rewritten directly in the database")
                return result
            # Workers start first: they read and hash while this process authenticates the checkpoints.
            count = 1 if deep else worker_count(size, workers)
            with start_ranges(tx.conn, self.keys.origin, size, count, [c.size for c in stored]) as ranges:
                trusted = self._authenticated_checkpoints(stored, result)
                if result.damage is None and not deep and not tx.audit.entry_column_intact():
                    result.damage = Damage(
                        "schema", None, "the audit table no longer computes each entry from its fields "
                        "(its definition was altered): the log cannot be trusted; run `audit verify --deep`")
                if result.damage is None:
                    roots = [t for t, _ in trusted]
                    if deep:
                        with closing(tx.audit.rows()) as rows:
                            report = scan_chain(self.keys.origin, rows, roots)
                    else:
                        report = self._scan_entries(tx, size, roots, ranges)
                    result.size, result.root = report.size, report.root.hex()
                    result.damage = report.damage
            if result.damage is None:
                self._check_head(tx, result)
            if result.damage is None and trusted_note is not None:
                self._check_trusted(tx, trusted_note, result)
            if result.damage is None:
                self._check_erasures(tx, result)
        return result

    def _scan_entries(self, tx: Tx, size: int, roots: list[TrustedRoot], ranges: RangeWorkers) -> ChainReport:
        """Verify the entries the database computed.

        The fast path rebuilds the tree from the entries alone (this process takes the first
        range, ``ranges`` the others) and checks that each stored hash is its entry's. It is accepted
        only if everything matches: the ranges join, no row lies beyond the head, every signed
        root and the head's tree agree. Anything else is diagnosed by one sequential scan,
        which follows the chain entry by entry and names the first bad entry.
        """
        with closing(tx.audit.leaf_rows(0, ranges.end)) as batches:
            first = scan_stored(self.keys.origin, batches, block_height=ranges.height,
                                sizes=due_sizes([t.size for t in roots], 0, ranges.end))
        others = ranges.results()
        if others is not None:
            scans = [first, *others]
            if ranges_join(scans, size) and tx.audit.max_seq() == (size - 1 if size else None):
                report = finish(scans, roots)
                head = tx.audit.head()
                if report.damage is None and (report.size, report.root) == (head.size, head.compact.root()) \
                        and self._last_hash(tx, size) == head.last_hash.hex():
                    return report
        with closing(tx.audit.entries()) as batches:
            return scan_encoded(self.keys.origin, batches, roots, lambda seq, _at: tx.audit.raw(seq))

    def prove_inclusion(self, seq: int) -> str:
        """A C2SP tlog-proof file showing that entry ``seq`` is in a signed checkpoint."""
        with self.store.write() as tx:
            self._require(tx, Permission.AUDIT_READ)
            if tx.audit.get(seq) is None:
                raise NotFoundError(f"no audit entry {seq}: the log has {tx.audit.head().size} entries")
            covering = [c for c in tx.audit.checkpoints() if c.size > seq]
            if covering:
                stored = covering[-1]
                info = CheckpointInfo(stored.size, stored.root.hex(), stored.signer_kid, stored.created_at,
                                      stored.note)
            else:
                self._require(tx, Permission.AUDIT_CHECKPOINT)
                info = self._sign_checkpoint(tx)
            leaves = tx.audit.leaf_hashes(info.size)
            row = tx.audit.raw(seq)
        if row is None:  # pragma: no cover - checked above inside the same transaction
            raise NotFoundError(f"no audit entry {seq}")
        entry = encode_entry(self.keys.origin, *row[:10])
        return format_proof(entry, seq, inclusion_proof(leaves, seq, info.size), info.note)

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the log at ``new_size`` (default: now) extends the log at ``old_size``."""
        with self.store.read(snapshot=True) as tx:
            self._require(tx, Permission.AUDIT_READ)
            entries = tx.audit.head().size
            size = entries if new_size is None else new_size
            if not 0 < old_size <= size:
                raise InvalidInputError(f"sizes: need 0 < old size <= new size (the log has {entries} entries)")
            leaves = tx.audit.leaf_hashes(size)
        if len(leaves) < size:
            raise InvalidInputError(f"sizes: the log has only {len(leaves)} entries")
        proof = consistency_proof(leaves, old_size, size)
        return ConsistencyProof(old_size, size, root(leaves[:old_size]).hex(), root(leaves).hex(),
                                tuple(h.hex() for h in proof))

    def export_audit(self, out: Path, *, fmt: str = "jsonl") -> int:
        """Write the trail with its checkpoints (JSON Lines) or as FHIR R4 AuditEvents; returns the count."""
        if fmt not in ("jsonl", "fhir"):
            raise InvalidInputError("--format: choose jsonl or fhir")
        # Written beside OUT first and moved into place only once the export's audit event
        # (and its checkpoint) committed: no export without its event, nothing of an earlier
        # OUT lost when the export fails.
        staged = out.with_name(f".{out.name}.{secrets.token_hex(4)}.staged")
        try:
            with self.store.write() as tx:
                self._require(tx, Permission.AUDIT_READ)
                self._require(tx, Permission.AUDIT_CHECKPOINT)
                self._sign_checkpoint(tx)
                size = tx.audit.head().size
                if fmt == "jsonl":
                    lines = export_lines(self.keys.origin, tx.audit.rows(),
                                         [c.note for c in tx.audit.checkpoints()], self._now())
                    atomic_write(staged, _joined(lines))
                else:
                    bundle = fhir_bundle(self.keys.origin, tx.audit.rows())
                    atomic_write(staged, iter([json.dumps(bundle, ensure_ascii=False, indent=1)]))
                self._audit(tx, AuditEvent("audit.exported", details={"format": fmt, "entries": size}))
            try:
                os.replace(staged, out)
            except OSError as error:
                raise StorageError(f"cannot write {out}: {error.strerror or 'I/O error'}") from None
        finally:
            staged.unlink(missing_ok=True)
        return size

    def audit_log(self, where: AuditFilter) -> list[AuditRecord]:
        """Read events; personal details are decrypted only for roles allowed to see them."""
        with self.store.write() as tx:
            self._require(tx, Permission.AUDIT_READ)
            records = tx.audit.query(where)
            personal = Permission.AUDIT_READ_PERSONAL in self._permissions(tx)
            if personal:
                records = [self._decrypt(tx, r) for r in records]
            self._audit(tx, AuditEvent("audit.read", details={
                "results": len(records), "personal": personal,
                "filter": {k: v for k, v in vars(where).items() if v is not None and k != "limit"}}))
        return records

    # -- internals ---------------------------------------------------------------------

    def _authenticated_checkpoints(self, checkpoints: list[StoredCheckpoint],
                                   result: AuditVerification) -> list[tuple[TrustedRoot, StoredCheckpoint]]:
        trusted: list[tuple[TrustedRoot, StoredCheckpoint]] = []
        verifiers = self.verifiers()
        for stored in checkpoints:
            label = f"the checkpoint signed {stored.created_at[:19]}Z (size {stored.size})"
            try:
                cp = notes.open_checkpoint(stored.note, verifiers)
            except AuditIntegrityError as error:
                result.damage = Damage(error.kind, None, f"{label}: {error.message}")
                return trusted
            except InvalidInputError as error:  # not a signed note at all: rewritten in the database
                result.damage = Damage("forged-checkpoint", None, f"{label}: not a signed checkpoint ({error})")
                return trusted
            if cp.origin != self.keys.origin or cp.size != stored.size or cp.root != stored.root:
                result.damage = Damage("forged-checkpoint", None,
                                       f"{label}: its stored size or root differs from what was signed")
                return trusted
            trusted.append((TrustedRoot(cp.size, cp.root, label), stored))
        result.checkpoints = len(trusted)
        if trusted:
            s = trusted[-1][1]
            result.newest_checkpoint = CheckpointInfo(s.size, s.root.hex(), s.signer_kid, s.created_at, s.note)
        return trusted

    def _check_head(self, tx: Tx, result: AuditVerification) -> None:
        head = tx.audit.head()
        if head.size and (head.tag is None or not self.keys.check_head_tag(head.message(self.keys.origin),
                                                                           head.tag)):
            # First: a head consentkit did not write explains every mismatch below.
            result.damage = Damage("forged-head", head.size - 1,
                                   "the log head was not written by consentkit (its MAC does not verify): "
                                   "entries were appended or the head rewritten directly in the database")
        elif head.size > result.size:
            result.damage = Damage("truncated", result.size,
                                   f"the log head records {head.size} entries but only {result.size} "
                                   "remain: the tail was removed")
        elif head.size < result.size:
            result.damage = Damage("inserted", head.size,
                                   f"the log holds {result.size} entries but its head records {head.size}: "
                                   "entries were added without going through consentkit")
        elif head.compact.root().hex() != result.root or head.last_hash.hex() != self._last_hash(tx, head.size):
            result.damage = Damage("changed", None, "the log head's Merkle state does not match its entries")
        elif (due := head.size // CHECKPOINT_EVERY * CHECKPOINT_EVERY) and (
                result.newest_checkpoint is None or result.newest_checkpoint.size < due):
            result.damage = Damage(
                "forged-checkpoint", None,
                f"no signed checkpoint covers the first {due:,} entries, yet consentkit signs one in the append "
                f"that completes every {CHECKPOINT_EVERY:,} events: signed checkpoints were deleted")

    @staticmethod
    def _last_hash(tx: Tx, size: int) -> str:
        if size == 0:
            return bytes(32).hex()
        row = tx.audit.raw(size - 1)
        return row[10].hex() if row else ""

    def _check_trusted(self, tx: Tx, note: str, result: AuditVerification) -> None:
        cp = notes.open_checkpoint(note, self.verifiers())
        result.trusted_size = cp.size
        if cp.origin != self.keys.origin:
            result.damage = Damage("unknown-key", None, f"your trusted checkpoint is for log {cp.origin}")
            return
        if cp.size > result.size:
            result.damage = Damage("truncated", result.size,
                                   f"your trusted checkpoint covers {cp.size} entries but the log has "
                                   f"{result.size}: it was rolled back")
            return
        leaves = tx.audit.leaf_hashes(result.size)
        proof = consistency_proof(leaves, cp.size, result.size) if cp.size else []
        if cp.size and not verify_consistency(cp.size, result.size, cp.root, bytes.fromhex(result.root), proof):
            result.damage = Damage(
                "re-signed", None,
                f"the log is not an extension of your trusted checkpoint (size {cp.size}): it was "
                "rewritten and its checkpoints re-signed after you took yours")

    def _check_erasures(self, tx: Tx, result: AuditVerification) -> None:
        recorded = tx.audit.erased_subjects()
        destroyed = tx.subjects.destroyed_keys()
        unexplained = sorted(set(destroyed) - recorded)
        if unexplained:
            result.damage = Damage(
                "key-destroyed", None,
                f"{len(unexplained)} subject key(s) were destroyed without an erasure event "
                f"(first: subject {unexplained[0]})")
            return
        restored = tx.subjects.with_keys(recorded)
        if restored:
            result.damage = Damage(
                "key-restored", None,
                f"{len(restored)} subject(s) erased in the log have a data key again (first: subject "
                f"{restored[0]}): their data was put back, e.g. from a backup; erase them again "
                "(`consentkit subject erase`)")
            return
        result.erased_subjects = len(recorded)
        result.erased_events = tx.audit.count_for_subjects(recorded)

    def _permissions(self, tx: Tx) -> set[Permission]:
        held = self._roles_of_actor(tx)
        return {p for p in Permission if allowed_roles(p) & held}

    def _decrypt(self, tx: Tx, record: AuditRecord) -> AuditRecord:
        if record.sealed is None or record.subject_id is None:
            return record
        stored = tx.subjects.get(record.subject_id)
        if stored is None or stored.wrapped is None:
            return replace(record, personal=None, personal_state="erased")
        try:
            data_key = self._data_key(stored)
        except ErasedError:
            return replace(record, personal=None, personal_state="erased")
        plain = open_sealed(data_key, base64.b64decode(record.sealed),
                            audit_aad(self.keys.origin, record.seq, record.subject_id))
        return replace(record, personal=json.loads(plain), personal_state="decrypted")


def _joined(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        yield line + "\n"

"""The audit trail as stored: serialised appends, reads, checkpoints.

There is no update or delete here on purpose: the only way to change the trail is to
append to it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError

from consentkit.audit.envelope import canonical_json, check_token, encode_entry, entry_hash
from consentkit.audit.events import AuditEvent, AuditRecord
from consentkit.audit.merkle import CompactRange
from consentkit.audit.verify import EncodedRow, RawRow
from consentkit.errors import AuditIntegrityError, StorageError
from consentkit.storage._raw import RawStatements
from consentkit.storage.entry_sql import entry_column_intact
from consentkit.storage.tables import AuditCheckpointRow, AuditEventRow

__all__ = ["AuditFilter", "AuditLog", "Head", "StoredCheckpoint"]

_COLUMNS = (
    AuditEventRow.seq, AuditEventRow.ts, AuditEventRow.actor, AuditEventRow.action,
    AuditEventRow.subject_id, AuditEventRow.object_ref, AuditEventRow.outcome,
    AuditEventRow.details, AuditEventRow.sealed, AuditEventRow.prev_hash, AuditEventRow.entry_hash,
)


# The append path's statements, sent raw (see storage._raw): every audited operation runs
# them, and through SQLAlchemy they cost more Python than the database spent on them.
_READ_HEAD_SQL = "SELECT size, last_hash, compact, tag FROM ck_audit_head WHERE id = 1"
_INSERT_EVENT_SQL = ("INSERT INTO ck_audit_events (seq, ts, actor, action, subject_id, object_ref, outcome, "
                     "details, sealed, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_UPDATE_HEAD_SQL = "UPDATE ck_audit_head SET size = ?, last_hash = ?, compact = ?, tag = ? WHERE id = 1"


@dataclass
class Head:
    """The log head: number of entries, last entry hash, Merkle compact range and its MAC."""

    size: int
    last_hash: bytes
    compact: CompactRange
    tag: str | None = None

    def message(self, origin: str, compact: bytes | None = None) -> bytes:
        """The bytes the head's MAC covers (``compact``: ``self.compact.to_bytes()`` if already made)."""
        if compact is None:
            compact = self.compact.to_bytes()
        return f"consentkit/audit-head/v1|{origin}|{self.size}|{self.last_hash.hex()}|{compact.hex()}".encode()


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint row."""

    checkpoint_id: int
    size: int
    root: bytes
    note: str
    signer_kid: str
    created_at: str


@dataclass(frozen=True)
class AuditFilter:
    """Filters for reading events back (all optional, combined with AND)."""

    subject_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 1000


class AuditLog:
    """Append to and read ``ck_audit_events``; lock and update ``ck_audit_head``."""

    def __init__(self, conn: Connection, raw: RawStatements | None = None) -> None:
        self.conn = conn
        self._sql = raw or RawStatements(conn)
        # The head as locked by this transaction's first append; the lock is held until commit,
        # so later appends in the same transaction reuse it (batched appends).
        self._locked: Head | None = None
        self._trusted = False  # the locked head's MAC was checked (see trusted_head)

    def head(self, *, lock: bool = False) -> Head:
        """The head row; ``lock`` takes the row lock that serialises appends on PostgreSQL."""
        if self._locked is not None:
            return self._locked
        # FOR UPDATE only on PostgreSQL: SQLite's BEGIN IMMEDIATE already holds the write lock.
        row = self._sql.fetchone(_READ_HEAD_SQL + " FOR UPDATE" if lock and self._sql.postgres else _READ_HEAD_SQL)
        if row is None:
            raise StorageError("the audit head row is missing (`consentkit init` writes one): the database was "
                               "altered; run `consentkit audit verify`")
        size, last_hash, compact, tag = row
        head = Head(int(size), bytes(last_hash), CompactRange.from_bytes(bytes(compact)), tag)
        if lock:
            self._locked = head
        return head

    def trusted_head(self, origin: str, check: Callable[[bytes, str], bool] | None, *, lock: bool = True) -> Head:
        """The head, refused unless ``check(message, tag)`` accepts its MAC (once per transaction).

        Appending to, or signing a checkpoint of, a head rewritten in the database would
        launder the rewrite: the new head would carry a valid MAC and the checkpoint a valid
        signature. So writes fail closed (nothing is written) until `audit verify` has been
        run and the damage dealt with. An empty log's head (size 0) has no MAC yet.
        """
        head = self.head(lock=lock)
        if check is None or (self._trusted and head is self._locked):
            return head
        if head.size and (head.tag is None or not check(head.message(origin), head.tag)):
            raise AuditIntegrityError(
                "the audit log's head was changed outside consentkit (its MAC does not verify): nothing was "
                "written; run `consentkit audit verify`", kind="forged-head", seq=head.size - 1)
        self._trusted = head is self._locked
        return head

    def append(
        self,
        event: AuditEvent,
        *,
        origin: str,
        ts: str,
        actor: str,
        seal: Callable[[int], str | None] | None = None,
        tag: Callable[[bytes], str] | None = None,
        check: Callable[[bytes, str], bool] | None = None,
    ) -> AuditRecord:
        """Append one event in the caller's transaction and return it with its seq and hash.

        ``seal(seq)`` returns the sealed personal details: the seq is part of the
        ciphertext's associated data, so it must be known before encrypting. ``tag`` MACs
        the new head (see :meth:`Head.message`); ``check`` verifies the current head's MAC
        first (:meth:`trusted_head`).
        """
        check_token("actor", actor)
        check_token("action", event.action)
        check_token("outcome", event.outcome)
        if event.object_ref is not None:
            check_token("object ref", event.object_ref)
        details = canonical_json(event.details)
        head = self.trusted_head(origin, check)
        seq = head.size
        sealed = seal(seq) if seal is not None else None
        entry = encode_entry(origin, seq, ts, actor, event.action, event.subject_id, event.object_ref,
                             event.outcome, details, sealed, head.last_hash)
        digest = entry_hash(entry)
        self._sql.execute(_INSERT_EVENT_SQL, (seq, ts, actor, event.action, event.subject_id, event.object_ref,
                                              event.outcome, details, sealed, head.last_hash, digest))
        head.compact.append(digest)
        head.size, head.last_hash = seq + 1, digest
        self._write_head(head, origin, tag)
        return AuditRecord(seq, ts, actor, event.action, event.subject_id, event.object_ref, event.outcome,
                           dict(event.details), sealed, head.last_hash, digest)

    def append_many(
        self,
        events: Sequence[AuditEvent],
        *,
        origin: str,
        ts: str,
        actor: str,
        seal: Callable[[int, AuditEvent], str | None] | None = None,
        tag: Callable[[bytes], str] | None = None,
        check: Callable[[bytes, str], bool] | None = None,
    ) -> list[AuditRecord]:
        """Append several events with one INSERT and one head update (batched decisions)."""
        head = self.trusted_head(origin, check)
        records, rows = [], []
        prev = head.last_hash
        check_token("actor", actor)
        for offset, event in enumerate(events):
            check_token("action", event.action)
            check_token("outcome", event.outcome)
            if event.object_ref is not None:
                check_token("object ref", event.object_ref)
            seq = head.size + offset
            details = canonical_json(event.details)
            sealed = seal(seq, event) if seal is not None else None
            digest = entry_hash(encode_entry(origin, seq, ts, actor, event.action, event.subject_id,
                                             event.object_ref, event.outcome, details, sealed, prev))
            rows.append((seq, ts, actor, event.action, event.subject_id, event.object_ref, event.outcome, details,
                         sealed, prev, digest))
            records.append(AuditRecord(seq, ts, actor, event.action, event.subject_id, event.object_ref,
                                       event.outcome, dict(event.details), sealed, prev, digest))
            head.compact.append(digest)
            prev = digest
        if not rows:
            return records
        self._sql.executemany(_INSERT_EVENT_SQL, rows)
        head.size, head.last_hash = head.size + len(rows), prev
        self._write_head(head, origin, tag)
        return records

    def _write_head(self, head: Head, origin: str, tag: Callable[[bytes], str] | None) -> None:
        """MAC the new head and store it (the compact range encoded once for both)."""
        compact = head.compact.to_bytes()
        head.tag = tag(head.message(origin, compact)) if tag is not None else None
        self._sql.execute(_UPDATE_HEAD_SQL, (head.size, head.last_hash, compact, head.tag))

    def rows(self, start: int = 0, end: int | None = None, *, batch: int = 20_000) -> Generator[RawRow]:
        """Stream raw rows in seq order (for export and damage classification)."""
        query = select(*_COLUMNS).where(AuditEventRow.seq >= start).order_by(AuditEventRow.seq)
        if end is not None:
            query = query.where(AuditEventRow.seq < end)
        for rows in self._stream(query, batch):
            yield from rows

    def entries(self, size: int | None = None, *, start: int = 0,
                batch: int = 20_000) -> Generator[Sequence[EncodedRow]]:
        """Stream ``(seq, entry bytes, prev hash, entry hash)`` of events ``start`` to ``size - 1`` (all by default),
        in seq order, as lists of up to ``batch`` rows (a loop over a list costs less than a generator).

        ``entry`` is the database's own concatenation of the stored fields (``storage.entry_sql``):
        check :meth:`entry_column_intact` before trusting it.
        """
        query = select(AuditEventRow.seq, AuditEventRow.entry, AuditEventRow.prev_hash,
                       AuditEventRow.entry_hash).order_by(AuditEventRow.seq)
        if start:
            query = query.where(AuditEventRow.seq >= start)
        if size is not None:
            query = query.where(AuditEventRow.seq < size)
        if self.conn.dialect.name == "sqlite":
            yield from self._stream(query, batch)  # already (int, bytes, bytes, bytes)
            return
        for rows in self._stream(query, batch):  # PostgreSQL: (int, text, bytes, bytes)
            yield [(seq, entry.encode("utf-8"), prev, digest) for seq, entry, prev, digest in rows]

    def leaf_rows(self, start: int = 0, end: int | None = None, *,
                  batch: int = 4096) -> Generator[Sequence[tuple[bytes, bytes]]]:
        """Stream ``(entry, entry_hash)`` of events ``start`` to ``end - 1`` in seq order, in lists of
        up to ``batch``: the entry as the database computes it (``storage.entry_sql``) and the stored
        hash beside it. All the fast verification path reads."""
        query = select(AuditEventRow.entry, AuditEventRow.entry_hash).where(AuditEventRow.seq >= start) \
            .order_by(AuditEventRow.seq)
        if end is not None:
            query = query.where(AuditEventRow.seq < end)
        text_column = self.conn.dialect.name == "postgresql"  # PostgreSQL's entry is text, SQLite's a BLOB
        for rows in self._stream(query, batch):
            yield [(entry.encode("utf-8"), digest) for entry, digest in rows] if text_column else rows

    def first_mistyped_row(self) -> int | None:
        """The first event whose stored values are not of their columns' types, or whose text is
        not UTF-8 (SQLite stores whatever SQL writes; PostgreSQL enforces both: always ``None``)."""
        if self._sql.postgres:
            return None
        texts = ("ts", "actor", "action", "subject_id", "object_ref", "outcome", "details", "sealed")
        nullable = {"subject_id", "object_ref", "sealed"}
        columns = [*texts, "prev_hash", "entry_hash"]
        query = (f"SELECT seq, typeof(seq), {', '.join(f'typeof({c})' for c in columns)}, "  # noqa: S608 - names
                 f"{', '.join(f'CAST({c} AS BLOB)' for c in texts)} FROM ck_audit_events ORDER BY seq")
        expected = [("text", "null") if c in nullable else ("text",) for c in texts] + [("blob",), ("blob",)]
        cursor = self.conn.connection.cursor()  # streamed: this runs only after a failure, on any size of log
        try:
            cursor.execute(query)
            while rows := cursor.fetchmany(4096):
                for row in rows:
                    seq, kinds, raw = row[0], row[2:2 + len(columns)], row[2 + len(columns):]
                    if row[1] != "integer" or any(kind not in allowed
                                                  for kind, allowed in zip(kinds, expected, strict=True)):
                        return int(seq) if isinstance(seq, int) else None
                    try:
                        for value in raw:
                            if value is not None:
                                bytes(value).decode("utf-8")
                    except UnicodeDecodeError:
                        return int(seq)
        finally:
            cursor.close()
        return None

    def max_seq(self) -> int | None:
        """The highest sequence number stored (``None`` for an empty table)."""
        value: int | None = self.conn.execute(select(func.max(AuditEventRow.seq))).scalar()
        return value

    def entry_column_intact(self) -> bool:
        """Whether the database still computes ``entry`` from the fields (see ``storage.entry_sql``)."""
        return entry_column_intact(self.conn)

    def _stream(self, query: Any, batch: int) -> Generator[Sequence[Any]]:
        # Straight from a DB-API cursor on this transaction's connection: making a SQLAlchemy
        # Row per entry and then a tuple from it cost ~2 s per million rows, a fifth of a full
        # verification. Both drivers already return the right types (int, str, None, bytes).
        compiled = query.compile(dialect=self.conn.dialect)
        params = compiled.construct_params()
        args = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
        dbapi = self.conn.dialect.loaded_dbapi
        # On PostgreSQL a named cursor is a server-side one (psycopg): fetched batch by batch.
        named = {"name": f"ck_audit_rows_{uuid.uuid4().hex}"} if self.conn.dialect.name == "postgresql" else {}
        cursor = self.conn.connection.cursor(**named)
        try:
            try:
                cursor.execute(str(compiled), args)
                fetched = cursor.fetchmany(batch)
                while fetched:
                    yield fetched
                    fetched = cursor.fetchmany(batch)
            except dbapi.Error as error:
                # Wrapped as SQLAlchemy would, so storage.engine.translate_errors reports it the same way.
                raise DBAPIError.instance(str(compiled), args, error, dbapi.Error) from error
        finally:
            # A consumer that stops early (verification found damage) must not leave a
            # server-side cursor open on PostgreSQL.
            cursor.close()

    def raw(self, seq: int) -> RawRow | None:
        """One stored row exactly as hashed, or ``None``."""
        row = self.conn.execute(select(*_COLUMNS).where(AuditEventRow.seq == seq)).first()
        if row is None:
            return None
        return (int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                bytes(row[9]), bytes(row[10]))

    def leaf_hashes(self, size: int) -> list[bytes]:
        """Stored entry hashes of the first ``size`` events, in order (for proofs)."""
        query = select(AuditEventRow.entry_hash).where(AuditEventRow.seq < size).order_by(AuditEventRow.seq)
        return [digest for rows in self._stream(query, 20_000) for (digest,) in rows]  # bytes from both drivers

    def get(self, seq: int) -> AuditRecord | None:
        """One event by sequence number."""
        row = self.conn.execute(select(*_COLUMNS).where(AuditEventRow.seq == seq)).first()
        return _record(tuple(row)) if row is not None else None

    def query(self, where: AuditFilter) -> list[AuditRecord]:
        """Events matching ``where``, oldest first."""
        query = select(*_COLUMNS).order_by(AuditEventRow.seq)
        if where.subject_id:
            query = query.where(AuditEventRow.subject_id == where.subject_id)
        if where.actor:
            query = query.where(AuditEventRow.actor == where.actor)
        if where.action:
            query = query.where(AuditEventRow.action == where.action)
        if where.since:
            query = query.where(AuditEventRow.ts >= where.since)
        if where.until:
            query = query.where(AuditEventRow.ts < where.until)
        rows = self.conn.execute(query.limit(where.limit))
        return [_record(tuple(row)) for row in rows]

    def erased_subjects(self) -> set[str]:
        """Subjects whose erasure the log records."""
        query = select(AuditEventRow.subject_id).where(AuditEventRow.action == "subject.erased").distinct()
        return {s for s in self.conn.execute(query).scalars() if s}

    def count_for_subjects(self, subject_ids: set[str]) -> int:
        """Number of events about any of ``subject_ids``."""
        if not subject_ids:
            return 0
        query = select(func.count()).select_from(AuditEventRow).where(
            AuditEventRow.subject_id.in_(sorted(subject_ids)))
        return int(self.conn.execute(query).scalar_one())

    def add_checkpoint(self, *, size: int, root: bytes, note: str, signer_kid: str, at: str) -> int:
        """Store a signed checkpoint; returns its id."""
        result = self.conn.execute(insert(AuditCheckpointRow).values(
            size=size, root=root, note=note, signer_kid=signer_kid, created_at=at,
        ))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, oldest first."""
        query = select(
            AuditCheckpointRow.checkpoint_id, AuditCheckpointRow.size, AuditCheckpointRow.root,
            AuditCheckpointRow.note, AuditCheckpointRow.signer_kid, AuditCheckpointRow.created_at,
        ).order_by(AuditCheckpointRow.checkpoint_id)
        return [StoredCheckpoint(int(i), int(s), bytes(r), n, k, c)
                for i, s, r, n, k, c in self.conn.execute(query)]


def _record(row: Sequence[object]) -> AuditRecord:
    seq, ts, actor, action, subject, obj, outcome, details, sealed, prev, digest = row
    return AuditRecord(
        seq=int(seq),  # type: ignore[call-overload]
        ts=str(ts), actor=str(actor), action=str(action),
        subject_id=str(subject) if subject else None, object_ref=str(obj) if obj else None,
        outcome=str(outcome), details=json.loads(str(details)), sealed=str(sealed) if sealed else None,
        prev_hash=bytes(prev), entry_hash=bytes(digest),  # type: ignore[call-overload]
        personal_state="sealed" if sealed else "none",
    )

"""Subjects, their wrapped data keys and legal holds, as stored (ciphertext only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Exists, exists, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from consentkit.keys import WrappedKey
from consentkit.storage._raw import IN_CHUNK, RawStatements, placeholders
from consentkit.storage.tables import LegalHoldRow, SubjectKeyRow, SubjectRow

__all__ = ["StoredSubject", "SubjectRepository"]


# Statements built once; parameters travel separately (SQLAlchemy compiles each once).
_INSERT_SUBJECT = insert(SubjectRow)
_INSERT_KEY = insert(SubjectKeyRow)


@dataclass(frozen=True)
class StoredSubject:
    """A subject row joined with its key row and hold state; nothing here is decrypted."""

    subject_id: str
    jurisdiction: str
    language: str
    created_at: str
    personal: bytes | None
    erased_at: str | None
    wrapped: WrappedKey | None
    on_hold: bool


def _hold_active(subject_column: ColumnElement[str] | InstrumentedAttribute[str]) -> Exists:
    return exists().where(LegalHoldRow.subject_id == subject_column, LegalHoldRow.released_at.is_(None))


# A subject with its wrapped key and whether a legal hold is active; built once.
_SELECT = (
    select(
        SubjectRow.subject_id, SubjectRow.jurisdiction, SubjectRow.language, SubjectRow.created_at,
        SubjectRow.personal, SubjectRow.erased_at, SubjectKeyRow.master_kid, SubjectKeyRow.wrapped,
        _hold_active(SubjectRow.subject_id).label("on_hold"),
    )
    .join(SubjectKeyRow, SubjectKeyRow.subject_id == SubjectRow.subject_id)
)
# The same select as raw SQL for the hot path (kit.check): see storage._raw.
_GET_MANY_SQL = (
    "SELECT s.subject_id, s.jurisdiction, s.language, s.created_at, s.personal, s.erased_at, k.master_kid, "
    "k.wrapped, EXISTS (SELECT 1 FROM ck_legal_holds h WHERE h.subject_id = s.subject_id AND h.released_at IS NULL) "
    "FROM ck_subjects s JOIN ck_subject_keys k ON k.subject_id = s.subject_id WHERE s.subject_id IN ({ids})"
)


class SubjectRepository:
    """Read and write ``ck_subjects``, ``ck_subject_keys`` and ``ck_legal_holds``."""

    def __init__(self, conn: Connection, raw: RawStatements | None = None) -> None:
        self.conn = conn
        self.raw = raw or RawStatements(conn)

    def add(
        self,
        subject_id: str,
        *,
        jurisdiction: str,
        language: str,
        at: str,
        by: str,
        personal: bytes,
        nid_index: str | None,
        wrapped: WrappedKey,
    ) -> None:
        """Insert a subject and its wrapped data key."""
        self.conn.execute(_INSERT_SUBJECT, {
            "subject_id": subject_id, "jurisdiction": jurisdiction, "language": language, "created_at": at,
            "created_by": by, "personal": personal, "nid_index": nid_index, "erased_at": None,
        })
        self.conn.execute(_INSERT_KEY, {
            "subject_id": subject_id, "master_kid": wrapped.master_kid, "wrapped": wrapped.blob, "created_at": at,
            "destroyed_at": None,
        })

    @staticmethod
    def _to_stored(row: Sequence[object]) -> StoredSubject:
        (subject_id, jurisdiction, language, created_at, personal, erased_at,
         master_kid, wrapped, on_hold) = row
        key = WrappedKey(str(master_kid), bytes(wrapped)) if isinstance(wrapped, bytes | memoryview) else None
        return StoredSubject(
            subject_id=str(subject_id), jurisdiction=str(jurisdiction), language=str(language),
            created_at=str(created_at),
            personal=bytes(personal) if isinstance(personal, bytes | memoryview) else None,
            erased_at=str(erased_at) if erased_at else None, wrapped=key, on_hold=bool(on_hold),
        )

    def get(self, subject_id: str) -> StoredSubject | None:
        """One subject, or ``None``."""
        return self.get_many([subject_id]).get(subject_id)

    def get_many(self, subject_ids: Sequence[str]) -> dict[str, StoredSubject]:
        """Several subjects by id (missing ids are simply absent)."""
        found: dict[str, StoredSubject] = {}
        for first in range(0, len(subject_ids), IN_CHUNK):
            chunk = subject_ids[first:first + IN_CHUNK]
            for row in self.raw.fetchall(_GET_MANY_SQL.format(ids=placeholders(len(chunk))), chunk):
                stored = self._to_stored(row)
                found[stored.subject_id] = stored
        return found

    def page(
        self, *, jurisdiction: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[StoredSubject]:
        """Subjects in creation order, optionally of one jurisdiction."""
        query = _SELECT.order_by(SubjectRow.created_at, SubjectRow.subject_id)
        if jurisdiction:
            query = query.where(SubjectRow.jurisdiction == jurisdiction)
        return [self._to_stored(row) for row in self.conn.execute(query.limit(limit).offset(offset))]

    def find_by_index(self, indexes: Sequence[str]) -> list[str]:
        """Subject ids whose national-ID blind index is one of ``indexes``."""
        query = select(SubjectRow.subject_id).where(SubjectRow.nid_index.in_(list(indexes)))
        return sorted(self.conn.execute(query).scalars().all())

    def erase(self, subject_id: str, *, at: str) -> None:
        """Destroy the data key and drop the ciphertext and blind index (crypto-shredding)."""
        self.conn.execute(
            update(SubjectKeyRow).where(SubjectKeyRow.subject_id == subject_id)
            .values(wrapped=None, destroyed_at=at)
        )
        self.conn.execute(
            update(SubjectRow).where(SubjectRow.subject_id == subject_id)
            .values(personal=None, nid_index=None, erased_at=at)
        )

    def rewrap(self, subject_id: str, wrapped: WrappedKey) -> None:
        """Replace a subject's wrapped key (key rotation)."""
        self.conn.execute(
            update(SubjectKeyRow).where(SubjectKeyRow.subject_id == subject_id)
            .values(master_kid=wrapped.master_kid, wrapped=wrapped.blob)
        )

    def set_index(self, subject_id: str, nid_index: str | None) -> None:
        """Replace a subject's blind index (key rotation)."""
        self.conn.execute(
            update(SubjectRow).where(SubjectRow.subject_id == subject_id).values(nid_index=nid_index)
        )

    def destroyed_keys(self) -> list[str]:
        """Subjects whose data key is gone (destroyed, or its row removed)."""
        query = (
            select(SubjectRow.subject_id)
            .outerjoin(SubjectKeyRow, SubjectKeyRow.subject_id == SubjectRow.subject_id)
            .where(or_(SubjectKeyRow.subject_id.is_(None), SubjectKeyRow.wrapped.is_(None)))
        )
        return sorted(self.conn.execute(query).scalars().all())

    def with_keys(self, subject_ids: set[str]) -> list[str]:
        """Those of ``subject_ids`` whose data key is still there (not destroyed)."""
        if not subject_ids:
            return []
        query = select(SubjectKeyRow.subject_id).where(
            SubjectKeyRow.subject_id.in_(sorted(subject_ids)), SubjectKeyRow.wrapped.is_not(None))
        return sorted(self.conn.execute(query).scalars().all())

    def place_hold(self, subject_id: str, *, at: str, by: str, reason_sealed: bytes | None) -> int:
        """Record a legal hold; returns its id."""
        result = self.conn.execute(insert(LegalHoldRow).values(
            subject_id=subject_id, placed_at=at, placed_by=by, reason_sealed=reason_sealed,
        ))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def release_holds(self, subject_id: str, *, at: str, by: str) -> int:
        """Release every active hold of a subject; returns how many were released."""
        result = self.conn.execute(
            update(LegalHoldRow)
            .where(LegalHoldRow.subject_id == subject_id, LegalHoldRow.released_at.is_(None))
            .values(released_at=at, released_by=by)
        )
        return int(result.rowcount)

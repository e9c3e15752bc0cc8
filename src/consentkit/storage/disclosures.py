"""Disclosures as stored: the accounting of disclosures, their consents, override uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, insert, select, update

from consentkit.storage._raw import RawStatements
from consentkit.storage.tables import ConsentRow, DisclosureRow, OverrideUseRow

__all__ = ["DisclosureRecord", "DisclosureRepository", "OverrideUse"]


@dataclass(frozen=True)
class DisclosureRecord:
    """One entry of the accounting of disclosures."""

    disclosure_id: str
    subject_id: str
    decided_at: str
    actor: str
    recipient_type: str
    recipient_id: str | None
    purpose: str
    categories: tuple[str, ...]
    decision: str
    basis: str
    override_id: str | None
    pack_ref: str
    audit_seq: int
    consent_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class OverrideUse:
    """A disclosure under an override and its follow-up."""

    disclosure_id: str
    subject_id: str
    override_id: str
    mandatory: bool
    used_at: str
    actor: str
    approver: str | None
    details_sealed: bytes | None
    expires_at: str | None
    inform_by: str | None
    subject_informed_at: str | None
    review_status: str
    review_outcome: str | None
    reviewed_by: str | None
    reviewed_at: str | None


# The accounting rows of kit.check, sent raw (see storage._raw).
_INSERT_SQL = ("INSERT INTO ck_disclosures (disclosure_id, subject_id, decided_at, actor, recipient_type, "
               "recipient_id, purpose, categories, decision, basis, override_id, pack_ref, audit_seq, consent_ids) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


@lru_cache(maxsize=1024)
def _categories_json(categories: tuple[str, ...]) -> str:
    """The stored list of categories (a few combinations recur in every batch)."""
    return json.dumps(list(categories))


def _record(row: Any) -> DisclosureRecord:
    return DisclosureRecord(
        row.disclosure_id, row.subject_id, row.decided_at, row.actor, row.recipient_type, row.recipient_id,
        row.purpose, tuple(json.loads(row.categories)), row.decision, row.basis, row.override_id, row.pack_ref,
        int(row.audit_seq), tuple(json.loads(row.consent_ids)))


class DisclosureRepository:
    """Read and write ``ck_disclosures`` and ``ck_override_uses``."""

    def __init__(self, conn: Connection, raw: RawStatements | None = None) -> None:
        self.conn = conn
        self.raw = raw or RawStatements(conn)

    def add(self, record: DisclosureRecord) -> None:
        """Record a disclosure and the consents it rested on."""
        self.add_many([record])

    def add_many(self, records: Sequence[DisclosureRecord]) -> None:
        """Record several disclosures with one statement."""
        if records:
            self.raw.executemany(_INSERT_SQL, [
                (r.disclosure_id, r.subject_id, r.decided_at, r.actor, r.recipient_type, r.recipient_id, r.purpose,
                 _categories_json(r.categories), r.decision, r.basis, r.override_id, r.pack_ref, r.audit_seq,
                 json.dumps(sorted(r.consent_ids)))
                for r in records])

    def for_subject(self, subject_id: str) -> list[DisclosureRecord]:
        """The subject's accounting of disclosures, oldest first."""
        rows = self.conn.execute(select(DisclosureRow).where(DisclosureRow.subject_id == subject_id)
                                 .order_by(DisclosureRow.decided_at))
        return [_record(r) for r in rows]

    def under_consent(self, consent_id: str) -> list[DisclosureRecord]:
        """Disclosures that rested on ``consent_id`` (whom to tell of a withdrawal).

        Called in the withdrawal's write transaction: writers are serialised (SQLite's
        BEGIN IMMEDIATE, PostgreSQL's audit head lock taken first), so these are exactly the
        disclosures made before the withdrawal, whatever their clock readings.

        A consent belongs to one subject: the subject's disclosures are read through their
        index and kept when their consent ids name this one.
        """
        owner = select(ConsentRow.subject_id).where(ConsentRow.consent_id == consent_id).scalar_subquery()
        query = (select(DisclosureRow)
                 .where(DisclosureRow.subject_id == owner)
                 .order_by(DisclosureRow.decided_at))
        return [r for r in map(_record, self.conn.execute(query)) if consent_id in r.consent_ids]

    def add_override_use(self, use: OverrideUse) -> None:
        """Record an override use (after its disclosure row)."""
        self.conn.execute(insert(OverrideUseRow).values(**use.__dict__))

    def override_uses(self, *, pending_only: bool = False, subject_id: str | None = None) -> list[OverrideUse]:
        """Override uses, oldest first; ``pending_only`` gives the DPO's review queue."""
        query = select(OverrideUseRow).order_by(OverrideUseRow.used_at)
        if pending_only:
            query = query.where(OverrideUseRow.review_status == "pending")
        if subject_id:
            query = query.where(OverrideUseRow.subject_id == subject_id)
        return [OverrideUse(**{c: getattr(r, c) for c in OverrideUse.__dataclass_fields__})
                for r in self.conn.execute(query)]

    def mark_informed(self, disclosure_id: str, *, at: str) -> int:
        """Record that the client was told of an override use after its review."""
        result = self.conn.execute(update(OverrideUseRow).where(OverrideUseRow.disclosure_id == disclosure_id)
                                   .values(subject_informed_at=at))
        return int(result.rowcount)

    def review(self, disclosure_id: str, *, outcome: str, by: str, at: str, informed_at: str | None) -> int:
        """Close the review of one override use; returns the rows changed (0 if unknown)."""
        values: dict[str, Any] = {"review_status": "reviewed", "review_outcome": outcome, "reviewed_by": by,
                                  "reviewed_at": at}
        if informed_at:
            values["subject_informed_at"] = informed_at
        result = self.conn.execute(update(OverrideUseRow).where(OverrideUseRow.disclosure_id == disclosure_id)
                                   .values(**values))
        return int(result.rowcount)

"""The database schema as SQLAlchemy 2.x typed tables.

Times are stored as fixed-width UTC ISO 8601 text (``clock.format_instant``): they compare
and sort the same way on SQLite and PostgreSQL, and the audit envelope hashes exactly the
text that is stored. Personal data appears only in ``LargeBinary`` ciphertext columns.
Changing anything here needs a new Alembic migration in ``storage/migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Computed, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from consentkit.storage.entry_sql import EntryExpression

__all__ = [
    "ActorRoleRow",
    "ActorRow",
    "AuditCheckpointRow",
    "AuditEventRow",
    "AuditHeadRow",
    "Base",
    "ConsentEventRow",
    "ConsentPurposeRow",
    "ConsentRow",
    "DisclosureRow",
    "LegalHoldRow",
    "MetaRow",
    "OverrideUseRow",
    "SubjectAccessRequestRow",
    "SubjectKeyRow",
    "SubjectRow",
]

_TIME = 27  # len("2026-01-05T09:00:00.000000Z")
_ID = 36  # a UUID in text form


class Base(DeclarativeBase):
    """Declarative base of every consentkit table."""


class MetaRow(Base):
    """Installation facts: log origin, known master key ids."""

    __tablename__ = "ck_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ActorRow(Base):
    """A member of staff or a system that acts through consentkit."""

    __tablename__ = "ck_actors"
    actor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[str] = mapped_column(String(_TIME))
    created_by: Mapped[str] = mapped_column(String(128))


class ActorRoleRow(Base):
    """One role held by one actor."""

    __tablename__ = "ck_actor_roles"
    actor_id: Mapped[str] = mapped_column(ForeignKey("ck_actors.actor_id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class SubjectRow(Base):
    """A client. ``personal`` is AES-GCM ciphertext under the subject's data key."""

    __tablename__ = "ck_subjects"
    subject_id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[str] = mapped_column(String(_TIME))
    created_by: Mapped[str] = mapped_column(String(128))
    personal: Mapped[bytes | None] = mapped_column(LargeBinary)
    # "<master kid>:<HMAC hex>" of the normalised national ID; NULL once erased.
    nid_index: Mapped[str | None] = mapped_column(String(96), index=True)
    erased_at: Mapped[str | None] = mapped_column(String(_TIME))


class SubjectKeyRow(Base):
    """A subject's data key, wrapped by a master key. ``wrapped`` is NULL once destroyed."""

    __tablename__ = "ck_subject_keys"
    subject_id: Mapped[str] = mapped_column(ForeignKey("ck_subjects.subject_id"), primary_key=True)
    master_kid: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[str] = mapped_column(String(_TIME))
    destroyed_at: Mapped[str | None] = mapped_column(String(_TIME))


class LegalHoldRow(Base):
    """A legal hold blocks erasure until released; the reason is sealed like personal data."""

    __tablename__ = "ck_legal_holds"
    hold_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("ck_subjects.subject_id"), index=True)
    placed_at: Mapped[str] = mapped_column(String(_TIME))
    placed_by: Mapped[str] = mapped_column(String(128))
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    released_at: Mapped[str | None] = mapped_column(String(_TIME))
    released_by: Mapped[str | None] = mapped_column(String(128))


class AuditEventRow(Base):
    """One audit event. Every column is part of the hashed envelope (``audit.envelope``).

    ``entry`` is computed by the database from the other columns (see ``storage.entry_sql``):
    the exact bytes that were hashed, so verification reads one value instead of ten.
    """

    __tablename__ = "ck_audit_events"
    # On SQLite seq is the rowid (INTEGER PRIMARY KEY, 64 bits there too): seq-order scans read the table alone.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                     autoincrement=False)
    ts: Mapped[str] = mapped_column(String(_TIME))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(_ID))
    object_ref: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text)
    sealed: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry: Mapped[bytes] = mapped_column(LargeBinary().with_variant(Text(), "postgresql"),
                                         Computed(EntryExpression(), persisted=True))

    __table_args__ = (
        Index("ix_ck_audit_subject", "subject_id", "seq"),
        Index("ix_ck_audit_actor", "actor", "ts"),
        Index("ix_ck_audit_action", "action", "ts"),
        Index("ix_ck_audit_ts", "ts"),
    )


class AuditHeadRow(Base):
    """The single head row: size, last entry hash and the Merkle compact range.

    Appends lock this row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's immediate
    transaction already admits one writer), so concurrent writers never fork the chain.
    """

    __tablename__ = "ck_audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    compact: Mapped[bytes] = mapped_column(LargeBinary)
    # "<master kid>:<HMAC hex>" over origin, size, last hash and compact range (see keys.head_tag).
    tag: Mapped[str | None] = mapped_column(String(96))


class AuditCheckpointRow(Base):
    """A signed checkpoint (C2SP tlog-checkpoint note) of the log at ``size``."""

    __tablename__ = "ck_audit_checkpoints"
    checkpoint_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signer_kid: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(String(_TIME))


class ConsentRow(Base):
    """A consent grant. ``personal`` seals the grantor's name and the witness."""

    __tablename__ = "ck_consents"
    consent_id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("ck_subjects.subject_id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    pack_ref: Mapped[str] = mapped_column(String(64))
    effect: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[str] = mapped_column(String(_TIME))
    valid_until: Mapped[str | None] = mapped_column(String(_TIME))
    grantor: Mapped[str] = mapped_column(String(16))
    form: Mapped[str] = mapped_column(String(16))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    notice_version: Mapped[str | None] = mapped_column(String(64))
    notice_language: Mapped[str | None] = mapped_column(String(8))
    context: Mapped[str] = mapped_column(Text)
    irrevocable_until: Mapped[str | None] = mapped_column(String(_TIME))
    attested: Mapped[str] = mapped_column(Text)
    supersedes: Mapped[str | None] = mapped_column(String(_ID))
    personal: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_at: Mapped[str] = mapped_column(String(_TIME))
    recorded_by: Mapped[str] = mapped_column(String(128))


class ConsentPurposeRow(Base):
    """One purpose of a consent (for aggregation in SQL)."""

    __tablename__ = "ck_consent_purposes"
    consent_id: Mapped[str] = mapped_column(ForeignKey("ck_consents.consent_id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(48), primary_key=True)


class ConsentEventRow(Base):
    """An event in a consent's append-only history; the reason is sealed."""

    __tablename__ = "ck_consent_events"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("ck_consents.consent_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[str] = mapped_column(String(_TIME))
    actor: Mapped[str] = mapped_column(String(128))
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    by: Mapped[str | None] = mapped_column(String(32))


class DisclosureRow(Base):
    """A permitted (or partly permitted) disclosure: the accounting of disclosures."""

    __tablename__ = "ck_disclosures"
    disclosure_id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(_ID), index=True)
    decided_at: Mapped[str] = mapped_column(String(_TIME), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    recipient_type: Mapped[str] = mapped_column(String(48))
    recipient_id: Mapped[str | None] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(48))
    categories: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(8))
    basis: Mapped[str] = mapped_column(String(16))
    override_id: Mapped[str | None] = mapped_column(String(48))
    pack_ref: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    #: The consents it rested on, a sorted JSON list (for withdrawal follow-up).
    consent_ids: Mapped[str] = mapped_column(Text, server_default="[]")


class OverrideUseRow(Base):
    """A disclosure under a statutory override, with its review and notification follow-up."""

    __tablename__ = "ck_override_uses"
    disclosure_id: Mapped[str] = mapped_column(ForeignKey("ck_disclosures.disclosure_id"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(_ID), index=True)
    override_id: Mapped[str] = mapped_column(String(48))
    mandatory: Mapped[bool] = mapped_column(Boolean)
    used_at: Mapped[str] = mapped_column(String(_TIME))
    actor: Mapped[str] = mapped_column(String(128))
    approver: Mapped[str | None] = mapped_column(String(128))
    details_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[str | None] = mapped_column(String(_TIME))
    inform_by: Mapped[str | None] = mapped_column(String(_TIME))
    subject_informed_at: Mapped[str | None] = mapped_column(String(_TIME))
    review_status: Mapped[str] = mapped_column(String(16))
    review_outcome: Mapped[str | None] = mapped_column(String(32))
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[str | None] = mapped_column(String(_TIME))


class SubjectAccessRequestRow(Base):
    """A subject-access request: when it arrived, when the answer is due by the pack's clock."""

    __tablename__ = "ck_access_requests"
    request_id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("ck_subjects.subject_id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    received_on: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[str] = mapped_column(String(10), index=True)
    extended_to: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[str] = mapped_column(String(_TIME))
    opened_by: Mapped[str] = mapped_column(String(128))
    closed_on: Mapped[str | None] = mapped_column(String(10))
    closed_by: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(16))

"""Consents (grant + append-only events), disclosures and override uses.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_T = 27
_ID = 36


def upgrade() -> None:
    """Create the consent and disclosure tables."""
    op.create_table(
        "ck_consents",
        sa.Column("consent_id", sa.String(_ID), primary_key=True),
        sa.Column("subject_id", sa.String(_ID), sa.ForeignKey("ck_subjects.subject_id"), nullable=False,
                  index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("pack_ref", sa.String(64), nullable=False),
        sa.Column("effect", sa.String(8), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.String(_T), nullable=False),
        sa.Column("valid_until", sa.String(_T), nullable=True),
        sa.Column("grantor", sa.String(16), nullable=False),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), nullable=True),
        sa.Column("notice_version", sa.String(64), nullable=True),
        sa.Column("notice_language", sa.String(8), nullable=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("irrevocable_until", sa.String(_T), nullable=True),
        sa.Column("attested", sa.Text(), nullable=False),
        sa.Column("supersedes", sa.String(_ID), nullable=True),
        sa.Column("personal", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.String(_T), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "ck_consent_purposes",
        sa.Column("consent_id", sa.String(_ID), sa.ForeignKey("ck_consents.consent_id"), primary_key=True),
        sa.Column("purpose", sa.String(48), primary_key=True),
    )
    op.create_table(
        "ck_consent_events",
        sa.Column("event_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("consent_id", sa.String(_ID), sa.ForeignKey("ck_consents.consent_id"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.String(_T), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("by", sa.String(32), nullable=True),
    )
    op.create_table(
        "ck_disclosures",
        sa.Column("disclosure_id", sa.String(_ID), primary_key=True),
        sa.Column("subject_id", sa.String(_ID), nullable=False, index=True),
        sa.Column("decided_at", sa.String(_T), nullable=False, index=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("recipient_type", sa.String(48), nullable=False),
        sa.Column("recipient_id", sa.String(100), nullable=True),
        sa.Column("purpose", sa.String(48), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("override_id", sa.String(48), nullable=True),
        sa.Column("pack_ref", sa.String(64), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ck_disclosure_consents",
        sa.Column("disclosure_id", sa.String(_ID), sa.ForeignKey("ck_disclosures.disclosure_id"),
                  primary_key=True),
        sa.Column("consent_id", sa.String(_ID), primary_key=True, index=True),
    )
    op.create_table(
        "ck_override_uses",
        sa.Column("disclosure_id", sa.String(_ID), sa.ForeignKey("ck_disclosures.disclosure_id"),
                  primary_key=True),
        sa.Column("subject_id", sa.String(_ID), nullable=False, index=True),
        sa.Column("override_id", sa.String(48), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("used_at", sa.String(_T), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("approver", sa.String(128), nullable=True),
        sa.Column("details_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.String(_T), nullable=True),
        sa.Column("inform_by", sa.String(_T), nullable=True),
        sa.Column("subject_informed_at", sa.String(_T), nullable=True),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("review_outcome", sa.String(32), nullable=True),
        sa.Column("reviewed_by", sa.String(128), nullable=True),
        sa.Column("reviewed_at", sa.String(_T), nullable=True),
    )


def downgrade() -> None:
    """Drop the consent and disclosure tables."""
    for table in ("ck_override_uses", "ck_disclosure_consents", "ck_disclosures", "ck_consent_events",
                  "ck_consent_purposes", "ck_consents"):
        op.drop_table(table)

"""Initial schema: meta, actors, subjects and their keys, legal holds, audit trail.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_T = 27
_ID = 36


def upgrade() -> None:
    """Create every table of the first schema and the empty audit head."""
    op.create_table(
        "ck_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "ck_actors",
        sa.Column("actor_id", sa.String(128), primary_key=True),
        sa.Column("created_at", sa.String(_T), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "ck_actor_roles",
        sa.Column("actor_id", sa.String(128), sa.ForeignKey("ck_actors.actor_id"), primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
    )
    op.create_table(
        "ck_subjects",
        sa.Column("subject_id", sa.String(_ID), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", sa.String(_T), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("personal", sa.LargeBinary(), nullable=True),
        sa.Column("nid_index", sa.String(96), nullable=True, index=True),
        sa.Column("erased_at", sa.String(_T), nullable=True),
    )
    op.create_table(
        "ck_subject_keys",
        sa.Column("subject_id", sa.String(_ID), sa.ForeignKey("ck_subjects.subject_id"), primary_key=True),
        sa.Column("master_kid", sa.String(32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.String(_T), nullable=False),
        sa.Column("destroyed_at", sa.String(_T), nullable=True),
    )
    op.create_table(
        "ck_legal_holds",
        sa.Column("hold_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_id", sa.String(_ID), sa.ForeignKey("ck_subjects.subject_id"),
                  nullable=False, index=True),
        sa.Column("placed_at", sa.String(_T), nullable=False),
        sa.Column("placed_by", sa.String(128), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("released_at", sa.String(_T), nullable=True),
        sa.Column("released_by", sa.String(128), nullable=True),
    )
    op.create_table(
        "ck_audit_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("ts", sa.String(_T), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(_ID), nullable=True),
        sa.Column("object_ref", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_index("ix_ck_audit_subject", "ck_audit_events", ["subject_id", "seq"])
    op.create_index("ix_ck_audit_actor", "ck_audit_events", ["actor", "ts"])
    op.create_index("ix_ck_audit_action", "ck_audit_events", ["action", "ts"])
    op.create_index("ix_ck_audit_ts", "ck_audit_events", ["ts"])
    head = op.create_table(
        "ck_audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("compact", sa.LargeBinary(), nullable=False),
        sa.Column("tag", sa.String(96), nullable=True),
    )
    op.bulk_insert(head, [{"id": 1, "size": 0, "last_hash": bytes(32), "compact": bytes(8), "tag": None}])
    op.create_table(
        "ck_audit_checkpoints",
        sa.Column("checkpoint_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("size", sa.BigInteger(), nullable=False, index=True),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signer_kid", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(_T), nullable=False),
    )


def downgrade() -> None:
    """Drop every table (data is lost; consentkit never runs this itself)."""
    for table in ("ck_audit_checkpoints", "ck_audit_head", "ck_audit_events", "ck_legal_holds",
                  "ck_subject_keys", "ck_subjects", "ck_actor_roles", "ck_actors", "ck_meta"):
        op.drop_table(table)

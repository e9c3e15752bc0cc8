"""Subject-access requests (the register the DPO report reads for due and overdue answers).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_T = 27
_ID = 36


def upgrade() -> None:
    """Create the subject-access request register."""
    op.create_table(
        "ck_access_requests",
        sa.Column("request_id", sa.String(_ID), primary_key=True),
        sa.Column("subject_id", sa.String(_ID), sa.ForeignKey("ck_subjects.subject_id"), nullable=False,
                  index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("received_on", sa.String(10), nullable=False),
        sa.Column("due_on", sa.String(10), nullable=False, index=True),
        sa.Column("extended_to", sa.String(10), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("opened_at", sa.String(_T), nullable=False),
        sa.Column("opened_by", sa.String(128), nullable=False),
        sa.Column("closed_on", sa.String(10), nullable=True),
        sa.Column("closed_by", sa.String(128), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
    )


def downgrade() -> None:
    """Drop the register."""
    op.drop_table("ck_access_requests")

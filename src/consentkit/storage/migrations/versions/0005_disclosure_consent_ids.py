"""The consents a disclosure rested on move into the disclosure row (one table fewer per check).

Revision ID: 0005
Revises: 0004

``ck_disclosure_consents`` cost every ``kit.check`` three more B-trees to write (the table,
its primary key, the consent index), and every B-tree an insert touches is one more page
written at commit. A consent belongs to one subject, so "which disclosures rested on this
consent" is answered from the subject's disclosures (``ix_ck_disclosures_subject_id``)
and the ids kept in ``ck_disclosures.consent_ids`` (a sorted JSON list).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = 36


def upgrade() -> None:
    """Add ``ck_disclosures.consent_ids``, fill it from the link table, drop the link table."""
    op.add_column("ck_disclosures", sa.Column("consent_ids", sa.Text(), nullable=False, server_default="[]"))
    if op.get_context().dialect.name == "postgresql":
        gathered = ("SELECT json_agg(l.consent_id ORDER BY l.consent_id)::text FROM ck_disclosure_consents l "
                    "WHERE l.disclosure_id = ck_disclosures.disclosure_id")
    else:
        gathered = ("SELECT json_group_array(consent_id) FROM (SELECT l.consent_id FROM ck_disclosure_consents l "
                    "WHERE l.disclosure_id = ck_disclosures.disclosure_id ORDER BY l.consent_id)")
    op.execute(f"UPDATE ck_disclosures SET consent_ids = ({gathered}) "  # noqa: S608 (constant names)
               "WHERE EXISTS (SELECT 1 FROM ck_disclosure_consents l "
               "WHERE l.disclosure_id = ck_disclosures.disclosure_id)")
    op.drop_table("ck_disclosure_consents")


def downgrade() -> None:
    """Recreate the link table from ``consent_ids`` (consentkit never runs this itself)."""
    op.create_table(
        "ck_disclosure_consents",
        sa.Column("disclosure_id", sa.String(_ID), sa.ForeignKey("ck_disclosures.disclosure_id"),
                  primary_key=True),
        sa.Column("consent_id", sa.String(_ID), primary_key=True, index=True),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("INSERT INTO ck_disclosure_consents (disclosure_id, consent_id) SELECT d.disclosure_id, j.value "
                   "FROM ck_disclosures d CROSS JOIN LATERAL json_array_elements_text(d.consent_ids::json) j")
    else:
        op.execute("INSERT INTO ck_disclosure_consents (disclosure_id, consent_id) SELECT d.disclosure_id, j.value "
                   "FROM ck_disclosures d, json_each(d.consent_ids) j")
    with op.batch_alter_table("ck_disclosures") as batch:
        batch.drop_column("consent_ids")

"""kiosks' audit-log heads

- new ``kiosk_audit_heads``: each head of a kiosk's maintenance audit log a heartbeat brought,
  one row per change, flagged ``regression`` when it went backwards.

The operator roster of a kiosk's region (``GET /kiosks/operators``) is selected by
``operators.region_code``, which the staff-console migration (0009) added.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk_audit_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("regression", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kiosk_audit_heads", schema=None) as batch_op:
        batch_op.create_index("ix_kiosk_audit_heads_kiosk", ["kiosk_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kiosk_audit_heads", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_audit_heads_kiosk")
    op.drop_table("kiosk_audit_heads")

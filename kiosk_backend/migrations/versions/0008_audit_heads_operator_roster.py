"""kiosks' audit-log heads; the division code of staff accounts (the kiosks' operator roster)

- new ``kiosk_audit_heads``: each head of a kiosk's maintenance audit log a heartbeat brought,
  one row per change, flagged ``regression`` when it went backwards.
- ``operators.region_code`` (the division code the account works in, e.g. 140431), which the
  operator roster of a kiosk's region is selected by. The staff-console migration adds the same
  column: each adds it only when it is not there yet, so either order works. Existing accounts
  keep an empty code (in no kiosk's roster) until the county sets one.

Revision ID: 0008
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None


def _operator_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns("operators")}


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
    if "region_code" not in _operator_columns():
        with op.batch_alter_table("operators", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("region_code", sa.String(length=12), nullable=False, server_default="")
            )
            batch_op.create_index("ix_operators_region_code", ["region_code"], unique=False)


def downgrade() -> None:
    # operators.region_code stays: the staff console's migration may own it too.
    with op.batch_alter_table("kiosk_audit_heads", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_audit_heads_kiosk")
    op.drop_table("kiosk_audit_heads")

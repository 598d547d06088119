"""Outbox of submissions and the offline cache of public data.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("local_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("last_attempt_at", sa.Float, nullable=True),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.Column("http_status", sa.Integer, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("reference_no", sa.String(64), nullable=True),
        sa.Column("due_date", sa.String(32), nullable=True),
        sa.Column("response", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_outbox_status_due", "outbox_entries", ["status", "next_attempt_at"])
    op.create_table(
        "cache_entries",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("fetched_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cache_entries")
    op.drop_index("ix_outbox_status_due", table_name="outbox_entries")
    op.drop_table("outbox_entries")

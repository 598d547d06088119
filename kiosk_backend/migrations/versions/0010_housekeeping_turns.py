"""housekeeping turns shared by the worker processes of a multi-worker server

- ``housekeeping_turns``: one row per periodic job (``purge``) with the time it last ran; a
  worker takes a turn with a conditional UPDATE, so only one of N workers runs each turn.

Revision ID: 0010
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "housekeeping_turns",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("housekeeping_turns")

"""records and answers as the seed defines them; designated staff per business line

- ``contributions.grade``: the 缴费档次 a resident chose (item 33 shows it beside 缴费类型).
- ``persons``: ``job_category`` (worker / cadre: which statutory retirement age applies to a
  woman), ``last_employer`` (item 11), ``flexible_employment_type`` /
  ``flexible_employment_since`` / ``industry`` (item 10), written when those items complete.
- ``ledger_tickets.item_no`` / ``business_line``: the item a 问题反映 is about and its business
  line (就业 / 社保 / 社保卡), so a county's 指定业务骨干 of that line answers it (附件5).
- ``ledger_responders.business_line``: the line a desk answers ("" = every line).

Revision ID: 0004
Revises: 0008 (re-chained at merge)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0008"
branch_labels = None
depends_on = None

_PERSON_TEXTS = (
    ("job_category", 10),
    ("last_employer", 100),
    ("flexible_employment_type", 20),
    ("industry", 40),
)


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=False, server_default="")


def upgrade() -> None:
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.add_column(_text("grade", 20))
    with op.batch_alter_table("persons", schema=None) as batch_op:
        for name, length in _PERSON_TEXTS:
            batch_op.add_column(_text(name, length))
        batch_op.add_column(sa.Column("flexible_employment_since", sa.Date(), nullable=True))
    with op.batch_alter_table("ledger_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_no", sa.Integer(), nullable=True))
        batch_op.add_column(_text("business_line", 20))
    with op.batch_alter_table("ledger_responders", schema=None) as batch_op:
        batch_op.add_column(_text("business_line", 20))


def downgrade() -> None:
    with op.batch_alter_table("ledger_responders", schema=None) as batch_op:
        batch_op.drop_column("business_line")
    with op.batch_alter_table("ledger_tickets", schema=None) as batch_op:
        batch_op.drop_column("business_line")
        batch_op.drop_column("item_no")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("flexible_employment_since")
        for name, _length in reversed(_PERSON_TEXTS):
            batch_op.drop_column(name)
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_column("grade")

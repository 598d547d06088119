"""counter items' due dates count from the counter's acceptance; the platform's own secrets

- ``applications.accepted_on``: the county's local day the counter accepted a 预约柜台办理.
- Work orders still waiting for the counter lose the due date counted from the kiosk booking
  (the county never promised it); work orders the counter already accepted get
  ``accepted_on`` from their progression event and the due date counted from that day.
- ``platform_secrets``: keys the platform makes for itself (the receipts' check-code key).

The downgrade drops both; it does not restore the booking-day due dates.

Revision ID: 0005
Revises: 0009
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0009"
branch_labels = None
depends_on = None

# 附件2 working days of the counter-only items with a limit, frozen here (migrations must not
# change with the catalogue); the others are 即时办结.
_COUNTER_DAYS = {18: 5, 21: 3, 24: 1, 28: 2, 29: 2, 31: 2, 32: 2, 34: 2, 35: 2, 37: 1}
_COUNTY_ZONE = ZoneInfo("Asia/Shanghai")


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepted_on", sa.Date(), nullable=True))
    op.create_table(
        "platform_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    _recount_work_orders(op.get_bind())


def _recount_work_orders(connection) -> None:
    from kiosk.domain.workdays import due_date

    applications = sa.table(
        "applications",
        sa.column("id", sa.Integer),
        sa.column("item_no", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("status", sa.String),
        sa.column("due_date", sa.Date),
        sa.column("due_estimated", sa.Boolean),
        sa.column("accepted_on", sa.Date),
    )
    events = sa.table(
        "application_events",
        sa.column("application_id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
    )
    connection.execute(
        applications.update()
        .where(applications.c.kind == "work_order", applications.c.status == "waiting_counter")
        .values(due_date=None, due_estimated=False)
    )
    accepted = connection.execute(
        sa.select(applications.c.id, applications.c.item_no, sa.func.min(events.c.at))
        .join(events, events.c.application_id == applications.c.id)
        .where(
            applications.c.kind == "work_order",
            events.c.from_status == "waiting_counter",
            events.c.to_status == "submitted",
        )
        .group_by(applications.c.id, applications.c.item_no)
    ).all()
    for application_id, item_no, at in accepted:
        day = _local_day(at)
        days = _COUNTER_DAYS.get(item_no, 0)
        due = due_date(day, days)
        connection.execute(
            applications.update()
            .where(applications.c.id == application_id)
            .values(accepted_on=day, due_date=due.date, due_estimated=due.estimated)
        )


def _local_day(at) -> dt.date:
    if isinstance(at, str):  # SQLite without type information hands back text
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(_COUNTY_ZONE).date()


def downgrade() -> None:
    op.drop_table("platform_secrets")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("accepted_on")

"""agents on applications, principal kinds (kiosk / desk), application progression, one ledger

- ``applications``: the 代办 agent (id number, name, relation) and ``updated_at``.
- ``application_events``: the back-office progression history of applications.
- ``kiosks.kind``: ``kiosk`` or ``desk``; existing responder desks become ``desk``.
- The legacy ``tickets`` table of ``/api/v1/tickets`` is folded into the ledger: every row is
  copied into ``ledger_tickets`` (open ones wait, unassigned, at their first level; numbers
  ``WTLEGACY000042``) with a ``submitted`` event, then the table is dropped. The downgrade
  recreates the empty table; it does not move tickets back.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# 附件5 first levels (kiosk_backend.ticket_routing), frozen here as migrations must not change.
_FIRST_LEVEL = {"system": "province", "functional": "province"}


def upgrade() -> None:
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="kiosk")
        )
    op.execute(
        "UPDATE kiosks SET kind = 'desk' WHERE id IN (SELECT account FROM ledger_responders)"
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        for name, length in (("agent_id_number", 18), ("agent_name", 50), ("agent_relation", 20)):
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_events_application", ["application_id", "id"], unique=False
        )
    _fold_legacy_tickets()
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_kiosk_state")
    op.drop_table("tickets")


def _fold_legacy_tickets() -> None:
    bind = op.get_bind()
    legacy = sa.table(
        "tickets",
        *(
            sa.column(n)
            for n in (
                "id",
                "kiosk_id",
                "category",
                "kind",
                "fault_key",
                "description",
                "suggestion",
                "state",
                "created_at",
                "closed_at",
                "resolution",
            )
        ),
    )
    kiosks = sa.table(
        "kiosks", sa.column("id"), sa.column("service_point"), sa.column("region_code")
    )
    tickets = sa.table(
        "ledger_tickets",
        *(
            sa.column(n)
            for n in (
                "id",
                "number",
                "kiosk_id",
                "client_ref",
                "service_point",
                "region_code",
                "kind",
                "category",
                "fault_key",
                "open_fault_key",
                "problem_code",
                "description",
                "suggestion",
                "contact_phone",
                "reporter",
                "state",
                "level",
                "assignee",
                "assigned_on",
                "answer_due",
                "answer_due_estimated",
                "answer_result",
                "answered_by",
                "created_at",
                "updated_at",
                "closed_at",
                "closed_by",
                "resolution",
            )
        ),
    )
    events = sa.table(
        "ledger_events",
        *(
            sa.column(n)
            for n in ("ticket_id", "at", "action", "actor", "from_level", "to_level", "text")
        ),
    )
    places = {row.id: row for row in bind.execute(sa.select(kiosks)).all()}
    for row in bind.execute(sa.select(legacy).order_by(legacy.c.id)).all():
        created = _aware(row.created_at)
        closed = _aware(row.closed_at)
        place = places.get(row.kiosk_id)
        level = _FIRST_LEVEL.get(row.category, "county")
        new_id = bind.execute(
            tickets.insert()
            .values(
                number=f"WTLEGACY{row.id:06d}",
                kiosk_id=row.kiosk_id,
                client_ref=f"legacy-ticket-{row.id}",
                service_point=place.service_point if place else "",
                region_code=place.region_code if place else "",
                kind=row.kind,
                category=row.category,
                fault_key=row.fault_key or "",
                open_fault_key=None,  # the old table allowed duplicates; keep none "open" by key
                problem_code="",
                description=row.description,
                suggestion=row.suggestion or "",
                contact_phone="",
                reporter="kiosk" if row.kind == "device_fault" else "resident",
                state="closed" if row.state == "closed" else "submitted",
                level=level,
                assignee="",
                assigned_on=created.date(),
                answer_due=created.date(),
                answer_due_estimated=False,
                answer_result="",
                answered_by="",
                created_at=created,
                updated_at=closed or created,
                closed_at=closed,
                closed_by="legacy" if row.state == "closed" else "",
                resolution=row.resolution or "",
            )
            .returning(tickets.c.id)
        ).scalar_one()
        bind.execute(
            events.insert().values(
                ticket_id=new_id,
                at=created,
                action="submitted",
                actor=row.kiosk_id,
                from_level="",
                to_level=level,
                text="迁移自旧工单接口 /api/v1/tickets",
            )
        )


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite without type information hands back text
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def downgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fault_key", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("suggestion", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_kiosk_state", ["kiosk_id", "state"], unique=False)
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.drop_index("ix_application_events_application")
    op.drop_table("application_events")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        for name in ("updated_at", "agent_relation", "agent_name", "agent_id_number"):
            batch_op.drop_column(name)
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.drop_column("kind")

"""staff accounts' lifecycle (附件3), the web console's tables, heartbeat history

- ``operators``: region_code, title, grants, lock_reason, created_at, password_hash,
  totp_secret, password_must_change, reactivated_at. Existing accounts count as created at their last sign-in
  (or at this migration when they never signed in), so the idle lock has a date to count from;
  their region code is the demo county's when their unit names a place of it, else empty
  (an account with an empty region code sees nothing in the console until one is set).
- ``help_requests``: who took the request and when; an index for the open ones.
- ``applications``: indexes for the console's queues.
- new: account_requests, account_reviews, console_sessions, console_signin_throttle,
  audit_entries, kiosk_heartbeats.

Revision ID: 0009
Revises: 0003
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0003"
branch_labels = None
depends_on = None

_COUNTY_PLACES = ("沁源县", "沁河镇", "郭道镇", "灵空山镇", "王和镇", "王陶镇", "景凤镇")


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("region_code", sa.String(length=12), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("title", sa.String(length=50), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("grants", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("lock_reason", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("password_hash", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("totp_secret", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "password_must_change", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("reactivated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_operators_region_code", ["region_code"], unique=False)
    _backfill_operators()
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.alter_column(
            "created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handled_by", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_help_requests_state", ["state", "created_at"], unique=False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_applications_status_submitted", ["status", "submitted_at", "id"], unique=False
        )
        batch_op.create_index("ix_applications_submitted", ["submitted_at", "id"], unique=False)

    op.create_table(
        "account_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("applicant_unit", sa.String(length=100), nullable=False),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("filed_by", sa.String(length=40), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("executed_by", sa.String(length=40), nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_index(
        "ix_account_requests_region_state",
        "account_requests",
        ["region_code", "state", "id"],
        unique=False,
    )
    op.create_table(
        "account_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("signed_by", sa.String(length=40), nullable=False),
        sa.Column("signed_by_name", sa.String(length=50), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "region_code", name="uq_account_reviews_month"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_console_sessions_account", "console_sessions", ["account"], unique=False)
    op.create_index(
        "ix_console_sessions_last_seen_at", "console_sessions", ["last_seen_at"], unique=False
    )
    op.create_table(
        "console_signin_throttle",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entries_region", "audit_entries", ["region_code", "id"])
    op.create_index("ix_audit_entries_target", "audit_entries", ["target_kind", "target", "id"])
    op.create_table(
        "kiosk_heartbeats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("paper_level", sa.String(length=20), nullable=False),
        sa.Column("outbox_depth", sa.Integer(), nullable=False),
        sa.Column("device_faults", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kiosk_heartbeats_kiosk_at", "kiosk_heartbeats", ["kiosk_id", "at"])


def _backfill_operators() -> None:
    bind = op.get_bind()
    operators = sa.table(
        "operators",
        sa.column("account"),
        sa.column("region"),
        sa.column("last_signin_at"),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("region_code"),
    )
    now = dt.datetime.now(dt.UTC)
    for row in bind.execute(sa.select(operators)).all():
        region_code = "140431" if row.region.startswith(_COUNTY_PLACES) else ""
        bind.execute(
            operators.update()
            .where(operators.c.account == row.account)
            .values(created_at=row.last_signin_at or now, region_code=region_code)
        )


def downgrade() -> None:
    op.drop_index("ix_kiosk_heartbeats_kiosk_at", table_name="kiosk_heartbeats")
    op.drop_table("kiosk_heartbeats")
    op.drop_index("ix_audit_entries_target", table_name="audit_entries")
    op.drop_index("ix_audit_entries_region", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_table("console_signin_throttle")
    op.drop_index("ix_console_sessions_last_seen_at", table_name="console_sessions")
    op.drop_index("ix_console_sessions_account", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("account_reviews")
    op.drop_index("ix_account_requests_region_state", table_name="account_requests")
    op.drop_table("account_requests")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_submitted")
        batch_op.drop_index("ix_applications_status_submitted")
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_help_requests_state")
        batch_op.drop_column("handled_at")
        batch_op.drop_column("handled_by")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_index("ix_operators_region_code")
        for name in (
            "reactivated_at",
            "password_must_change",
            "totp_secret",
            "password_hash",
            "created_at",
            "lock_reason",
            "grants",
            "region_code",
            "title",
        ):
            batch_op.drop_column(name)

"""identity sessions, single-use e-SSC codes, the per-kiosk person limit

- ``identity_sessions`` / ``identity_members``: identity tokens (only their SHA-256) bound to a
  kiosk, the persons they cover and the evidence that identified each.
- ``identity_person_seen``: last identification of a person at a kiosk (distinct-person limit).
- ``essc_issuer_keys``, ``essc_spent_codes``, ``essc_failures``: signed e-SSC codes, their
  single use and the per-kiosk attempt limit.

Revision ID: 0006
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0010"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "identity_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        _when("issued_at"),
        _when("expires_at"),
        _when("ends_at"),
        _when("revoked_at", nullable=True),
        sa.Column("submission_key", sa.String(length=36), nullable=True),
        sa.Column("resumed_from", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("identity_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_identity_sessions_kiosk", ["kiosk_id", "issued_at"], unique=False)
    op.create_table(
        "identity_members",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_digest", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("evidence", sa.String(length=30), nullable=False),
        _when("observed_at"),
        sa.ForeignKeyConstraint(["session_id"], ["identity_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "person_digest"),
    )
    op.create_table(
        "identity_person_seen",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("person_digest", sa.String(length=64), nullable=False),
        _when("last_seen_at"),
        sa.PrimaryKeyConstraint("kiosk_id", "person_digest"),
    )
    with op.batch_alter_table("identity_person_seen", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_person_seen_last_seen_at"), ["last_seen_at"], unique=False
        )
    op.create_table(
        "essc_issuer_keys",
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("private_key_hex", sa.String(length=64), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "essc_spent_codes",
        sa.Column("code_id", sa.String(length=24), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        _when("spent_at"),
        _when("expires_at"),
        sa.PrimaryKeyConstraint("code_id"),
    )
    with op.batch_alter_table("essc_spent_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_essc_spent_codes_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "essc_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("essc_failures", schema=None) as batch_op:
        batch_op.create_index("ix_essc_failures_kiosk", ["kiosk_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_table("essc_failures")
    op.drop_table("essc_spent_codes")
    op.drop_table("essc_issuer_keys")
    op.drop_table("identity_person_seen")
    op.drop_table("identity_members")
    op.drop_table("identity_sessions")

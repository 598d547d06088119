"""posting_grams carry what a search lists by: kind, posted_on, valid_until

A one- or two-character query (司机, 电工: most kiosk searches) is one gram's posting list. With
the posting's kind and dates beside each gram, one index on ``(gram, posted_on, posting_id, kind,
valid_until)`` answers both halves of a search page without touching job_postings: the total is
a range count over that gram's entries, and the newest page is the same range read backwards.

A trigger on job_postings keeps the three copies in step when a posting's kind or dates change
(by the ORM or by plain SQL); deleting a posting deletes its grams (ON DELETE CASCADE, since
0001); its text is re-indexed by the ORM hooks in ``kiosk_backend.search``.

Revision ID: 0011
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0004"
branch_labels = None
depends_on = None

_LISTING = (
    ("kind", sa.String(length=10)),
    ("posted_on", sa.Date()),
    ("valid_until", sa.Date()),
)
_INDEX = "ix_posting_grams_listing"
_TRIGGER = "job_postings_listing_to_grams"
_COPY = (
    "UPDATE posting_grams SET kind = NEW.kind, posted_on = NEW.posted_on, "
    "valid_until = NEW.valid_until WHERE posting_id = NEW.id;"
)
_CHANGED = (
    "OLD.kind IS NOT NEW.kind OR OLD.posted_on IS NOT NEW.posted_on "
    "OR OLD.valid_until IS NOT NEW.valid_until"
)


def upgrade() -> None:
    with op.batch_alter_table("posting_grams", schema=None) as batch_op:
        for name, type_ in _LISTING:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.execute(
        "UPDATE posting_grams SET "
        + ", ".join(
            f"{name} = (SELECT p.{name} FROM job_postings p WHERE p.id = posting_grams.posting_id)"
            for name, _type in _LISTING
        )
    )
    with op.batch_alter_table("posting_grams", schema=None) as batch_op:
        for name, type_ in _LISTING:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.create_index(
            _INDEX, ["gram", "posted_on", "posting_id", "kind", "valid_until"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_COPY} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {_TRIGGER} AFTER UPDATE OF kind, posted_on, valid_until "
            f"ON job_postings FOR EACH ROW WHEN ({_CHANGED.replace('IS NOT', 'IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION {_TRIGGER}()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {_TRIGGER} AFTER UPDATE OF kind, posted_on, valid_until "
            f"ON job_postings FOR EACH ROW WHEN {_CHANGED} BEGIN {_COPY} END"
        )


def downgrade() -> None:
    op.execute(
        f"DROP TRIGGER IF EXISTS {_TRIGGER}"
        + (" ON job_postings" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_TRIGGER}()")
    with op.batch_alter_table("posting_grams", schema=None) as batch_op:
        batch_op.drop_index(_INDEX)
        for name, _type in reversed(_LISTING):
            batch_op.drop_column(name)

"""kiosk secrets sealed, applications keep their region, idempotency answers private

- ``kiosks.secret_sealed``: each kiosk's (and desk's) HMAC secret sealed with the server key;
  the plain ``secret_hex`` column is dropped.
- ``applications.region_code``: the region of the kiosk an application was filed at, kept on
  the application (a kiosk's region is the county's to set, and history must not move with it).
  Existing rows get their kiosk's region as it stands now — the best record there is.
- ``idempotency_records``: answers to read-only lookups are deleted (they are no longer kept);
  the other answers are sealed with the server key; each bare SHA-256 request hash becomes the
  keyed hash the server now computes, HMAC(server subkey, SHA-256(request)), so a retry of a
  request sent before the upgrade still matches its stored answer.

Sealing needs the server key ring: the one handed to :func:`kiosk_backend.db.migrate`, else the
database's default ring (:func:`kiosk_backend.server_keys.load_server_keys`), loaded only when
there are rows to seal. The downgrade opens the secrets again and drops the stored answers (their
hashes cannot be turned back).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The read-only POSTs (``x-idempotent``) when this migration was written, frozen here.
_READ_ONLY_PATHS = (
    "/api/v1/applications/mine",
    "/api/v1/eligibility",
    "/api/v1/essc/verify",
    "/api/v1/job-seekers/matches",
    "/api/v1/operators/essc-signin",
    "/api/v1/persons/archive",
    "/api/v1/persons/employment-certificate",
    "/api/v1/persons/enterprise-pension/payments",
    "/api/v1/persons/enterprise-pension/status",
    "/api/v1/persons/resident-pension/contributions",
    "/api/v1/persons/resident-pension/payments",
    "/api/v1/persons/unemployment-insurance/payments",
)

_kiosks = sa.table(
    "kiosks",
    sa.column("id", sa.String),
    sa.column("secret_hex", sa.String),
    sa.column("secret_sealed", sa.LargeBinary),
)
_records = sa.table(
    "idempotency_records",
    sa.column("kiosk_id", sa.String),
    sa.column("key", sa.String),
    sa.column("method_path", sa.String),
    sa.column("request_hash", sa.String),
    sa.column("response_body", sa.LargeBinary),
)


class _LazyKeys:
    """The key ring, loaded on first use (a database without rows to seal needs none)."""

    def __init__(self):
        self._keys = context.config.attributes.get("server_keys")

    def __call__(self):
        if self._keys is None:
            from kiosk_backend.server_keys import load_server_keys

            url = op.get_bind().engine.url.render_as_string(hide_password=False)
            self._keys = load_server_keys(url)
        return self._keys


def upgrade() -> None:
    from kiosk_backend.server_keys import KIOSK_SECRET, REQUEST_HASH, STORED_ANSWER

    bind = op.get_bind()
    keys = _LazyKeys()
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_sealed", sa.LargeBinary(), nullable=True))
    for row in bind.execute(sa.select(_kiosks.c.id, _kiosks.c.secret_hex)).all():
        sealed = keys().seal(KIOSK_SECRET, bytes.fromhex(row.secret_hex), row.id.encode())
        bind.execute(_kiosks.update().where(_kiosks.c.id == row.id).values(secret_sealed=sealed))
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.alter_column("secret_sealed", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("secret_hex")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("region_code", sa.String(length=12), nullable=False, server_default="")
        )
        batch_op.create_index("ix_applications_region_code", ["region_code"], unique=False)
    op.execute(
        "UPDATE applications SET region_code = COALESCE((SELECT kiosks.region_code FROM kiosks "
        "WHERE kiosks.id = applications.kiosk_id), '')"
    )

    bind.execute(
        _records.delete().where(
            _records.c.method_path.in_([f"POST {path}" for path in _READ_ONLY_PATHS])
        )
    )
    rows = bind.execute(
        sa.select(
            _records.c.kiosk_id,
            _records.c.key,
            _records.c.request_hash,
            _records.c.response_body,
        )
    ).all()
    for row in rows:
        # The formats of kiosk_backend.security when this was written (frozen here).
        values = {"request_hash": keys().digest(REQUEST_HASH, bytes.fromhex(row.request_hash))}
        if row.response_body is not None:
            answer_context = f"{row.kiosk_id}\0{row.key}".encode()
            values["response_body"] = keys().seal(
                STORED_ANSWER, bytes(row.response_body), answer_context
            )
        bind.execute(
            _records.update()
            .where(_records.c.kiosk_id == row.kiosk_id, _records.c.key == row.key)
            .values(**values)
        )


def downgrade() -> None:
    from kiosk_backend.server_keys import KIOSK_SECRET

    bind = op.get_bind()
    keys = _LazyKeys()
    bind.execute(_records.delete())
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_region_code")
        batch_op.drop_column("region_code")
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_hex", sa.String(length=128), nullable=True))
    for row in bind.execute(sa.select(_kiosks.c.id, _kiosks.c.secret_sealed)).all():
        secret = keys().open(KIOSK_SECRET, bytes(row.secret_sealed), row.id.encode())
        bind.execute(_kiosks.update().where(_kiosks.c.id == row.id).values(secret_hex=secret.hex()))
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.alter_column("secret_hex", existing_type=sa.String(length=128), nullable=False)
        batch_op.drop_column("secret_sealed")

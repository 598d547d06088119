"""Alembic environment of the kiosk store: runs on the connection the store hands over.

:func:`kiosk.services.store.open_store` passes its open connection in
``config.attributes["connection"]``; the kiosk never runs Alembic against a URL of its own.
"""

from __future__ import annotations

from alembic import context

from kiosk.services.store import metadata


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic loads this file under its own module name; a plain import (e.g. a test walking every
# module of kiosk.services) must not try to run migrations without a connection.
if __name__ != "kiosk.services.migrations.env":
    run_migrations()
